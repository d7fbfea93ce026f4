"""Per-place breakdowns of an evaluation (``geovec evaluate --by LAYER``): every metric of
the protocol, per polygon value of a layer (:mod:`.layers`), from the per-query ranks.

Each query's position (the map and places protocols: its own; the pairs protocol: its
own, else its true aerial's centre, as its error is measured) is joined to the layer's
polygons (sql/polygon_membership.sql); a query counts once for each value whose polygons
hold it (once per value however many of its polygons do; in each of two overlapping
places), in ``outside`` when none does, and in ``no position`` when it has none. The
metrics are the protocol's own functions (:mod:`.metrics`) over that value's queries, so
a layer of one polygon around every query gives back the evaluation's numbers. Values
that hold no query are left out.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from geovec.analyses.layers import PolygonLayer
from geovec.analyses.metrics import (
    area_under_curve,
    as_misses,
    chance_area_under_curve,
    chance_top_one_percent,
    error_summary,
    localisation_curve,
    recall_at,
    retrieved,
    top_one_percent,
)
from geovec.store import Store

OUTSIDE = "outside"
NO_POSITION = "no position"


def breakdown(store: Store, result, layer: PolygonLayer) -> dict[str, dict]:
    """{value: the protocol's metrics over its queries} for an evaluation ``result``
    (map, pairs or places), in the layer's order, then ``outside`` and ``no position``."""
    ranks = result.ranks
    lon, lat = query_positions(store, result)
    with store.cursor() as con:
        points, polygons = layer.members(con, lon, lat)
    values = list(dict.fromkeys(layer.values))
    index = {v: i for i, v in enumerate(values)}
    value_of = np.array([index[v] for v in layer.values], np.int64)
    pairs = np.unique(np.column_stack([points, value_of[polygons]]), axis=0)
    groups: dict[str, np.ndarray] = {}
    for i, value in enumerate(values):
        chosen = pairs[pairs[:, 1] == i, 0] if len(pairs) else pairs[:0, 0]
        if len(chosen):
            groups[value] = chosen
    located = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(len(lon), bool)
    inside[pairs[:, 0]] = True
    for name, chosen in ((OUTSIDE, located & ~inside), (NO_POSITION, ~located)):
        if chosen.any():
            groups[name] = np.flatnonzero(chosen)
    return {value: metrics_of(result, ranks.take(rows)) for value, rows in groups.items()}


def query_positions(store: Store, result) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat (decimal degrees; NaN: unknown) of each query of ``result.ranks``."""
    ids = result.ranks.column("query_id").to_pylist()
    ground = _positions(store, "ground")
    lonlat = np.array([ground.get(i, (np.nan, np.nan)) for i in ids], float).reshape(-1, 2)
    if result.protocol == "pairs":  # else its true aerial's, as its error is measured
        overhead = _positions(store, "overhead")
        for q, true_id in enumerate(result.ranks.column("true_id").to_pylist()):
            if not np.isfinite(lonlat[q]).all():
                lonlat[q] = overhead.get(true_id, (np.nan, np.nan))
    return lonlat[:, 0], lonlat[:, 1]


def _positions(store: Store, view: str) -> dict[str, tuple[float, float]]:
    rows = store.read(view, ["id", "lon", "lat"], "lon IS NOT NULL AND lat IS NOT NULL")
    return dict(
        zip(
            rows.column("id").to_pylist(),
            zip(rows.column("lon").to_pylist(), rows.column("lat").to_pylist()),
        )
    )


def _numbers(ranks: pa.Table, column: str, missing) -> np.ndarray:
    return np.asarray(ranks.column(column).fill_null(missing).to_numpy(zero_copy_only=False))


def metrics_of(result, ranks: pa.Table) -> dict:
    """The protocol's metrics over the queries of ``ranks`` (rows of ``result.ranks``)."""
    ks = [int(k) for k in result.recall]
    out: dict = {"queries": ranks.num_rows}
    if result.protocol == "places":
        first = _numbers(ranks, "first_positive_rank", -1).astype(np.int64)
        has = first >= 0
        out["recall"] = {str(k): float(np.mean(has & (first < k))) for k in ks}
        top = has & (first < retrieved(result.candidates, 1.0))
        out["top_1_percent"] = float(top.mean()) if len(top) else 0.0
        out["queries_without_positive"] = int((~has).sum())
    else:
        rank = _numbers(ranks, "rank", -1).astype(np.int64)
        counts = _numbers(ranks, "candidates", 0).astype(np.int64)
        scored = as_misses(rank)
        out["top_1_percent"] = top_one_percent(scored, counts)
        out["recall"] = recall_at(scored, ks)
        if result.protocol == "map":
            inside = rank >= 0
            curve = localisation_curve(scored, counts)
            # as the evaluation's: random ranking finds a true tile only inside its circle
            out["chance_top_1_percent"] = chance_top_one_percent(counts[inside]) * float(
                inside.mean()
            )
            out["area_under_curve"] = area_under_curve(curve)
            out["chance_area_under_curve"] = chance_area_under_curve(counts[inside]) * float(
                inside.mean()
            )
            out["median_rank"] = float(np.median(rank[inside])) if inside.any() else None
        else:
            hits = [h for h in ranks.column("hit").to_pylist() if h is not None]
            out["hit_rate"] = float(np.mean(hits)) if hits else None
    within = getattr(result, "within_m", None)
    if within and "error_m" in ranks.column_names:
        errors = _numbers(ranks, "error_m", np.nan).astype(float)
        out.update(error_summary(errors, [float(t) for t in within]))
    return out
