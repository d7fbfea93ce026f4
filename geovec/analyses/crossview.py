"""Cross-view localisation (paper, Section 4.3) and its evaluation on the map protocol.

For a ground query: its K nearest ground images of the training set (Euclidean, by the
chosen feature), the mean of the same feature of their paired aerial (``overhead``)
images, and the Euclidean distance from that mean to every ``map`` tile of the region.
The rank of the true tile (the one whose footprint contains the query) is the number of
candidates strictly closer than it, so ties do not hurt. The kernels are in
:mod:`geovec.analyses.knn`, the metrics in :mod:`geovec.analyses.metrics`.

>>> result = evaluate(demo_store, "gist")
>>> result.queries, result.candidates
(..., ...)
>>> result.ranks.column_names
['query_id', 'region', 'rank', 'candidates', 'true_tile', 'best_id', 'error_m']
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa

from geovec.analyses.dead_ends import no_query_scored
from geovec.analyses.distributed import distributed_rank_best
from geovec.analyses.knn import neighbour_mean, rank_and_best, subset_rank_best
from geovec.analyses.metrics import (
    WITHIN_M,
    area_under_curve,
    as_misses,
    best_errors,
    chance_area_under_curve,
    chance_top_one_percent,
    check_thresholds,
    curve_columns,
    error_summary,
    error_words,
    localisation_curve,
    recall_at,
    top_one_percent,
)
from geovec.analyses.pairs import METHODS, PairEvaluation, evaluate_pairs, learned_head
from geovec.analyses.places import (
    DATABASE_SPLIT,
    QUERY_SPLIT,
    RECALL_AT,
    THRESHOLD_M,
    PlacesEvaluation,
    evaluate_places,
)
from geovec.analyses.priors import (
    Prior,
    candidate_summary,
    candidates_within,
    prior_words,
)
from geovec.analyses.provenance import id_digests, recorded
from geovec.analyses.region_data import RegionData, load_region_data
from geovec.counts import count
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_NEIGHBORS
from geovec.engines import ENGINES, in_ray_session
from geovec.errors import GeovecError
from geovec.heads.file import Head
from geovec.ingestion.links import relink_hint
from geovec.store import Store
from geovec.store.regions import region_label

CANDIDATE_BLOCK = 1_000_000
"""With the ray engine, maps of more tiles than this are also split into candidate blocks."""
RANK_SCHEMA = pa.schema(
    [
        pa.field("query_id", pa.string()),
        pa.field("region", pa.string()),
        pa.field("rank", pa.int64()),  # candidates strictly closer; null: outside the prior
        pa.field("candidates", pa.int64()),  # map tiles of the query's region (or prior circle)
        pa.field("true_tile", pa.string()),
        pa.field("best_id", pa.string()),  # the top tile (null: no candidate in the prior)
        pa.field("error_m", pa.float64()),  # geodesic metres from its centre to the query
    ]
)


@dataclasses.dataclass
class Evaluation:
    """Cross-view localisation results: the aggregates (JSON keys as in DESIGN.md) and the
    per-query ``ranks`` (an Arrow table, :data:`RANK_SCHEMA`) they come from."""

    feature: str
    neighbors: int
    queries: int
    candidates: int
    top_1_percent: float
    recall: dict[str, float]
    curve: list[list[float]]
    regions: dict[str, dict]
    skipped: int = 0  # isolated queries outside every tile footprint
    unlocated: int = 0  # ground images without a position (pair-only datasets), left out
    protocol: str = "map"
    method: str = "knn-average"
    chance_top_1_percent: float = 0.0  # what random ranking would score
    area_under_curve: float = 0.0  # 1 for perfect ranking
    chance_area_under_curve: float = 0.0  # what random ranking would score (~0.5; less for few)
    median_error_m: float | None = None  # metres from the top tile's centre to the query
    within_m: dict[str, float | None] = dataclasses.field(default_factory=dict)
    queries_without_error: int = 0  # no error known (no position; no candidate in the prior)
    prior: dict | None = None  # the GPS prior, its candidate counts and the misses outside it
    ranks: pa.Table = dataclasses.field(default_factory=RANK_SCHEMA.empty_table, repr=False)
    by: dict | None = None  # per-place breakdown ({value: metrics}), with a by layer
    provenance: dict = dataclasses.field(default_factory=dict)  # what made it (.provenance)

    def summary(self) -> str:
        """One line with the headline numbers beside what chance would give."""
        return (
            f"{self.feature}: top-1% {self.top_1_percent:.3f} (chance "
            f"{self.chance_top_1_percent:.3f}), R@1 {self.recall['1']:.3f}, R@5 "
            f"{self.recall['5']:.3f}, R@10 {self.recall['10']:.3f}, area under curve "
            f"{self.area_under_curve:.3f} (chance {self.chance_area_under_curve:.3f}); "
            f"{count(self.queries, 'query')}, "
            f"{count(self.candidates, 'candidate')}"
            + error_words(self.median_error_m, self.within_m)
            + prior_words(self.prior)
            + (f"; left out {self.unlocated} without a position" if self.unlocated else "")
        )

    def as_dict(self) -> dict:
        """The aggregates, for JSON (the per-query ranks stay in :attr:`ranks`); the curve
        as two arrays (:func:`~geovec.analyses.metrics.curve_columns`)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "ranks"}
        out["curve"] = curve_columns(self.curve)
        return out


@recorded
@in_ray_session
def evaluate(
    store: Store,
    feature: str = DEFAULT_FEATURE,
    *,
    protocol: str = "map",
    method: str | None = None,
    neighbors: int = DEFAULT_NEIGHBORS,
    region: str | None = None,
    split: str = "test",
    ground_feature: str | None = None,
    overhead_feature: str | None = None,
    head: str | Path | Head | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    within_m: tuple[float, ...] = WITHIN_M,
    prior_m: float | None = None,
    prior_noise_m: float = 0.0,
    seed: int = 0,
    threshold_m: float = THRESHOLD_M,
    recall_at: tuple[int, ...] | str = RECALL_AT,
    database_split: str = DATABASE_SPLIT,
    query_split: str = QUERY_SPLIT,
    by: str | Path | None = None,
    by_field: str | None = None,
) -> Evaluation | PairEvaluation | PlacesEvaluation:
    """Evaluate cross-view localisation, or place recognition.

    ``protocol="map"`` (the paper's): rank every isolated ground image's true tile among
    its region's map tiles; the curve, top-1 %, recall@1/5/10 and the per-query ranks.
    ``protocol="pairs"`` (the benchmarks'): :func:`geovec.analyses.pairs.evaluate_pairs`.
    ``protocol="places"`` (visual place recognition's): recall@N within ``threshold_m``
    metres of the ``query_split`` images among the ``database_split`` images
    (:func:`geovec.analyses.places.evaluate_places`; ``recall_at``: the N).

    Args:
      feature: the feature of every view (paper: ``places_fc8``), unless
        ``ground_feature`` / ``overhead_feature`` name one for each side.
      method: "knn-average" (the paper's; the default without a head), "direct" (the
        ground feature itself against the aerial ones, for features that share one space)
        or "learned" (the default with a ``head``: its ground embedding against its
        overhead embedding of every candidate).
      head: a learned head (file or :class:`~geovec.heads.file.Head`, from ``geovec
        train``); its features replace ``feature``.
      engine: "local", or "ray": the queries, and the candidates of huge maps, split
        into Ray tasks (:mod:`geovec.analyses.distributed`); the same ranks.
      ray_address: the Ray cluster to join (default: start a local one).
      neighbors: K nearest training ground images averaged (paper: 30).
      within_m: distance thresholds, metres, of ``within_m``: the share of queries whose
        best candidate (top tile, top aerial) lies at most that far (geodesic) from their
        true position; ``median_error_m`` is that distance's median.
      prior_m: a GPS prior: rank only the candidates within this many metres of each
        query's prior position, its true one moved ``prior_noise_m`` metres in a random
        direction drawn with ``seed`` (:mod:`geovec.analyses.priors`); a query whose true
        candidate lies outside its circle is a miss.
      region: only this region (map protocol); split: the queries' split (pairs).
      by: a polygon layer (GeoJSON or GeoParquet: states, land-cover classes, districts):
        every metric per place too, in ``result.by`` (:mod:`geovec.analyses.breakdowns`);
        by_field: the field naming its places (default: ``name``, else the first text
        field). Every result records what made it in ``result.provenance``
        (:mod:`geovec.analyses.provenance`).
    """
    if neighbors < 1:
        raise GeovecError(f"neighbors must be at least 1, got {neighbors}")
    if engine not in ENGINES:
        raise GeovecError(f"engine must be local or ray, got {engine!r}")
    within_m = check_thresholds(within_m)
    prior = None if prior_m is None else Prior(prior_m, prior_noise_m, seed)
    if prior is None and (prior_noise_m or seed):
        raise GeovecError("the prior noise and seed go with a prior radius (prior_m)")
    if prior is not None and protocol not in ("map", "pairs"):
        raise GeovecError("a GPS prior narrows cross-view candidates: the map or pairs protocol")
    if protocol == "pairs":
        return evaluate_pairs(
            store,
            feature,
            ground_feature=ground_feature,
            overhead_feature=overhead_feature,
            split=split,
            method=method or ("learned" if head is not None else "direct"),
            neighbors=neighbors,
            head=head,
            engine=engine,
            within_m=within_m,
            prior=prior,
        )
    if protocol == "places":
        if head is not None or overhead_feature:
            raise GeovecError("the places protocol ranks ground images by one ground feature")
        return evaluate_places(
            store,
            ground_feature or feature,
            threshold_m=threshold_m,
            recall_at=recall_at,
            database_split=database_split,
            query_split=query_split,
            method=method,
            engine=engine,
        )
    if protocol != "map":
        raise GeovecError(f"protocol must be map, pairs or places, got {protocol!r}")
    return _evaluate_map(
        store,
        feature,
        method,
        neighbors,
        region,
        ground_feature,
        overhead_feature,
        head,
        engine,
        within_m,
        prior,
    )


def _evaluate_map(
    store,
    feature,
    method,
    neighbors,
    region,
    ground_feature,
    overhead_feature,
    head,
    engine,
    within_m=WITHIN_M,
    prior=None,
) -> Evaluation:
    method = method or ("learned" if head is not None else "knn-average")
    if method not in METHODS:
        raise GeovecError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    g_feature, a_feature = ground_feature or feature, overhead_feature or feature
    learned = learned_head(method, head, store, ("ground", "overhead", "map"))
    if learned is not None:
        g_feature, a_feature = learned.ground_feature, learned.overhead_feature
    data = load_region_data(store, g_feature, region, a_feature)
    all_ranks, all_n, all_errors, per_region, tables = [], [], [], {}, []
    knn = method == "knn-average"
    for d in data:
        n = len(d.tile_ids)
        ranks = best = np.zeros(0, np.int64)
        members = None
        if len(d.query_ids) and (len(d.train_ids) or not knn) and n:
            predicted, tiles = d.queries, d.tiles
            if learned is not None:
                predicted, tiles = learned.embed_ground(d.queries), learned.embed_overhead(tiles)
            elif not knn:
                _same_space(d.queries, d.tiles, g_feature, a_feature)
            if prior is not None:  # the spatial prefilter, before any vector is compared
                members = _prior_members(store, prior, d.query_ids, d.query_lonlat, d.tile_lonlat)
            if engine == "ray":  # the kNN mean, too, in Ray tasks
                ranks, best = distributed_rank_best(
                    predicted,
                    tiles,
                    d.true_idx,
                    train_ground=d.train_ground if knn else None,
                    train_aerial=d.train_aerial if knn else None,
                    neighbors=neighbors,
                    candidate_block=CANDIDATE_BLOCK if n > CANDIDATE_BLOCK else None,
                    members=members,
                )
            else:
                if knn:
                    predicted = neighbour_mean(predicted, d.train_ground, d.train_aerial, neighbors)
                if members is None:
                    ranks, best = rank_and_best(predicted, tiles, d.true_idx)
                else:
                    ranks, best = subset_rank_best(predicted, tiles, d.true_idx, *members)
        count = np.diff(members[0]) if members is not None else np.full(len(ranks), n)
        errors = best_errors(best, d.tile_lonlat, d.query_lonlat)
        all_ranks.append(ranks)
        all_n.append(count)
        all_errors.append(errors)
        tables.append(_rank_rows(d, ranks, best, count, errors))
        scored = as_misses(ranks)
        per_region[region_label(d.region)] = {
            "queries": len(ranks),
            "candidates": n,
            "training": len(d.train_ids),
            "top_1_percent": top_one_percent(scored, count),
            "recall": recall_at(scored),
            "median_rank": float(np.median(ranks[ranks >= 0])) if (ranks >= 0).any() else None,
            "median_error_m": error_summary(errors, within_m)["median_error_m"],
        }
    ranks = np.concatenate(all_ranks) if all_ranks else np.zeros(0, np.int64)
    counts = np.concatenate(all_n) if all_n else np.zeros(0, np.int64)
    errors = np.concatenate(all_errors) if all_errors else np.zeros(0)
    if len(ranks) == 0:
        raise GeovecError(
            no_query_scored(store, data, g_feature, a_feature, training=knn) + relink_hint(store)
        )
    inside = ranks >= 0
    scored = as_misses(ranks)
    curve = localisation_curve(scored, counts)
    return Evaluation(
        feature=learned.name if learned is not None else g_feature,
        neighbors=neighbors,
        queries=len(ranks),
        candidates=int(sum(len(d.tile_ids) for d in data)),
        top_1_percent=top_one_percent(scored, counts),
        recall=recall_at(scored),
        curve=curve,
        regions=per_region,
        skipped=sum(d.isolated for d in data) - len(ranks),
        # random ranking of a query's candidates finds a true tile only inside its circle
        chance_top_1_percent=chance_top_one_percent(counts[inside]) * float(inside.mean()),
        area_under_curve=area_under_curve(curve),
        chance_area_under_curve=chance_area_under_curve(counts[inside]) * float(inside.mean()),
        unlocated=store.count("ground", "lon IS NULL OR lat IS NULL"),
        protocol="map",
        method=method,
        **error_summary(errors, within_m),
        prior=None if prior is None else candidate_summary(counts, int((~inside).sum()), prior),
        ranks=pa.concat_tables(tables) if tables else RANK_SCHEMA.empty_table(),
        provenance=id_digests(
            [q for t in tables for q in t.column("query_id").to_pylist()],
            [t for d in data for t in d.tile_ids],
        ),
    )


def _same_space(queries, tiles, ground_feature, aerial_feature) -> None:
    if queries.shape[1] != tiles.shape[1]:
        raise GeovecError(
            f"direct scoring compares {ground_feature} ({queries.shape[1]}) with "
            f"{aerial_feature} ({tiles.shape[1]}): they must share one space"
        )


def _rank_rows(d: RegionData, ranks, best, count, errors) -> pa.Table:
    """One row per ranked query of a region (:data:`RANK_SCHEMA`)."""
    queries = d.query_ids[: len(ranks)]
    return pa.table(
        {
            "query_id": queries,
            "region": [d.region] * len(queries),
            "rank": pa.array(ranks, pa.int64(), mask=ranks < 0),
            "candidates": pa.array(count, pa.int64()),
            "true_tile": [d.tile_ids[i] for i in d.true_idx[: len(ranks)]],
            "best_id": [d.tile_ids[b] if b >= 0 else None for b in best],
            "error_m": pa.array(errors, pa.float64(), mask=~np.isfinite(errors)),
        },
        schema=RANK_SCHEMA,
    )


def _prior_members(store: Store, prior: Prior, ids, lonlat, candidate_lonlat):
    """(offsets, members): each query's candidates within the prior's circle."""
    p_lon, p_lat = prior.positions(ids, lonlat[:, 0], lonlat[:, 1])
    with store.cursor() as con:
        return candidates_within(
            con, p_lon, p_lat, candidate_lonlat[:, 0], candidate_lonlat[:, 1], prior.radius_m
        )
