"""Aerial image-based search (paper, Figure 8): the nearest overhead images to an aerial
image, by LanceDB vector search (Euclidean), optionally restricted to a bbox or a radius
(pushed down as a prefilter), and the ground images paired with them: those whose
``ground.pair`` names the hit (the one link, :mod:`geovec.ingestion.links`).

>>> hits = search(demo_store, "gist", image=demo_aerial, k=3)
>>> len(hits), hits[0].distance
(3, 0.0)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.defaults import DEFAULT_FEATURE, DEFAULT_K
from geovec.errors import GeovecError
from geovec.geo.bounds import Bbox, Near, as_bbox, as_near
from geovec.ingestion.embeddings import require_computable
from geovec.store import Store
from geovec.store.filters import bbox_filter, id_filter, quote
from geovec.store.finite import require_finite
from geovec.store.indexes import nearest_query


@dataclasses.dataclass
class SearchHit:
    """One nearest overhead image and its paired ground image (the ground row whose
    ``pair`` is ``id``; the first by id when several are, None when none is). lon/lat
    decimal degrees (the overhead image's); distance Euclidean, in feature units."""

    id: str
    distance: float
    lon: float
    lat: float
    region: str | None
    overhead_path: str
    ground_path: str | None
    ground_id: str | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _nearest_rows(store: Store, vector: np.ndarray, feature: str, k: int, where, near, how):
    """The k nearest overhead rows, inside ``near`` when given: the box around the circle
    is a prefilter, the circle itself is checked on the rows, fetching more until k are
    inside or none are left. ``how``: exact / nprobes / refine_factor for the index.
    By default (exact None) an answer through the index with a prefilter that is short
    of ``limit`` rows (the probed partitions held too few of the rows it keeps) is done
    again exactly."""
    limit = k
    columns = ["id", "lon", "lat", "region", "path", "_distance"]
    while True:
        query = nearest_query(
            store, "overhead", feature, vector, limit, columns=columns, where=where, **how
        )
        rows = query.to_arrow().to_pylist()
        if len(rows) < limit and where and how.get("exact") is None:
            exact = {**how, "exact": True, "nprobes": None, "refine_factor": None}
            query = nearest_query(
                store, "overhead", feature, vector, limit, columns=columns, where=where, **exact
            )
            rows = query.to_arrow().to_pylist()
        if near is None:
            return rows
        inside = [r for r in rows if near.contains(r["lon"], r["lat"])]
        if len(inside) >= k or len(rows) < limit:
            return inside[:k]
        limit *= 4


def search(
    store: Store,
    feature: str = DEFAULT_FEATURE,
    *,
    image: str | Path | None = None,
    vector: np.ndarray | None = None,
    k: int = DEFAULT_K,
    bbox: Bbox | tuple | str | None = None,
    near: Near | tuple | str | None = None,
    exact: bool | None = None,
    nprobes: int | None = None,
    refine_factor: int | None = None,
) -> list[SearchHit]:
    """The ``k`` overhead images nearest to an aerial image file (its ``feature`` is
    extracted) or to a feature ``vector``, nearest first.

    Args:
      bbox: only within this box (west, south, east, north; decimal degrees).
      near: only within a circle (lon, lat in decimal degrees, radius in metres).
      exact: True scans every vector even where the feature has an index (``geovec
        index``); False goes through the index; None (the default): through the index
        when there is one and the table holds at least
        :data:`~geovec.store.indexes.EXACT_SCAN_VALUES` values (rows x length), or when
        ``nprobes`` or ``refine_factor`` is given; exactly otherwise (as fast, there).
      nprobes: IVF partitions the index searches (more: better recall, slower; default
        :func:`~geovec.store.indexes.default_nprobes`).
      refine_factor: re-rank ``k * refine_factor`` index candidates by their full vectors
        (default :data:`~geovec.store.indexes.DEFAULT_REFINE_FACTOR`).
    """
    if (image is None) == (vector is None):
        raise GeovecError("give an aerial image file or a feature vector (one of them)")
    if k < 1:
        raise GeovecError(f"k must be at least 1, got {k}")
    dim = store.require_feature("overhead", feature)
    if vector is None:
        require_computable(store, "overhead", feature, "search with a stored vector (vector=)")
        vector = _image_vector(Path(image), feature)
    vector = np.asarray(vector, np.float32).reshape(-1)
    if len(vector) != dim:
        raise GeovecError(f"the query vector has {len(vector)} values; {feature} has {dim}")
    require_finite(["the query"], vector[None], f"the {feature} query vector")
    box = as_bbox(bbox) if bbox is not None else None
    circle = as_near(near) if near is not None else None
    clauses = [bbox_filter(*b) for b in (box, circle.bbox() if circle else None) if b]
    how = {"exact": exact, "nprobes": nprobes, "refine_factor": refine_factor}
    rows = _nearest_rows(store, vector, feature, k, " AND ".join(clauses) or None, circle, how)
    ground = _paired_ground(store, [r["id"] for r in rows])
    return [
        SearchHit(
            r["id"],
            float(np.sqrt(max(r["_distance"], 0.0))),
            r["lon"],
            r["lat"],
            r["region"],
            r["path"],
            ground.get(r["id"], (None, None))[1],
            ground.get(r["id"], (None, None))[0],
        )
        for r in rows
    ]


def _paired_ground(store: Store, overhead_ids: list[str]) -> dict[str, tuple[str, str]]:
    """{overhead id: (ground id, ground path)} of the ground images whose ``pair`` names
    them, the first by ground id where several do."""
    if not overhead_ids or not store.has("ground"):
        return {}
    clause = f"pair IN ({', '.join(quote(i) for i in overhead_ids)})"
    chosen = store.read("ground", ["id", "path", "pair"], clause).to_pylist()
    out: dict[str, tuple[str, str]] = {}
    for g in sorted(chosen, key=lambda g: g["id"]):
        out.setdefault(g["pair"], (g["id"], g["path"]))
    return out


@dataclasses.dataclass
class Neighbour:
    """A ground image near another in feature space. lon/lat decimal degrees (None for
    pair-only rows); distance Euclidean, in feature units."""

    id: str
    distance: float
    lon: float | None
    lat: float | None
    region: str | None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def nearest_ground(
    store: Store,
    feature: str = DEFAULT_FEATURE,
    *,
    id: str,
    k: int = DEFAULT_K,  # noqa: A002
) -> list[Neighbour]:
    """The ``k`` ground images nearest to the stored ground image ``id`` by ``feature``
    (Euclidean, exact), nearest first, the image itself left out.

    >>> [n.id == demo_query for n in nearest_ground(demo_store, "gist", id=demo_query, k=3)]
    [False, False, False]
    """
    if k < 1:
        raise GeovecError(f"k must be at least 1, got {k}")
    store.require_feature("ground", feature)
    rows = store.read("ground", [feature], id_filter([id])).column(feature).to_pylist()
    if not rows:
        raise GeovecError(f"no ground image with id {id!r}")
    if rows[0] is None:
        raise GeovecError(
            f"ground image {id!r} lacks {feature}: geovec extract {store.path} "
            f"--features {feature} --view ground"
        )
    columns = ["id", "lon", "lat", "region", "_distance"]
    query = nearest_query(
        store,
        "ground",
        feature,
        np.asarray(rows[0], np.float32),
        k + 1,
        columns=columns,
        where=f"id != {quote(id)}",
        exact=True,
    )
    return [
        Neighbour(
            r["id"], float(np.sqrt(max(r["_distance"], 0.0))), r["lon"], r["lat"], r["region"]
        )
        for r in query.to_arrow().to_pylist()[:k]
    ]


def _image_vector(image: Path, feature: str) -> np.ndarray:
    from geovec.features.decode import load_rgb
    from geovec.features.extract import FeatureExtractor

    return FeatureExtractor([feature], batch_size=1).extract([load_rgb(image)])[feature][0]
