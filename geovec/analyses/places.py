"""Visual place recognition's protocol (Pitts30k, Tokyo 24/7, MSLS, SF-XL, as the widely
used VPR benchmark code evaluates them): recall@N within a distance.

The database is the ground images of one split (``database``), the queries those of
another (``queries``). A query's positives are the database images within ``threshold_m``
metres of its position (25 m in the benchmarks), found by a spatial join in SQL
(sql/places_positives.sql) and measured by the WGS84 geodesic, geovec's one distance (the
benchmark code measures Euclidean metres between UTM coordinates: within centimetres of
the geodesic at 25 m). A query is a hit at N when one of its N nearest database images by
the feature (Euclidean, exact) is a positive: its ``first_positive_rank``, the database
images strictly closer than its nearest positive (the rank rule of the other protocols:
ties do not hurt), is below N. Queries without a positive count as misses, as the
benchmark code counts them (``queries_without_positive`` says how many); queries without
a position cannot be judged and are left out (``unlocated``).

Per query (:attr:`PlacesEvaluation.ranks`): ``best_id``, the top of its ranking (its
nearest positive when it is a hit at 1, else its nearest database image), and
``error_m``, the geodesic metres from the query to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from geovec.analyses.knn import nearest_indices, take_rows, tile_ranks
from geovec.analyses.metrics import retrieved
from geovec.analyses.provenance import id_digests
from geovec.counts import count
from geovec.defaults import DEFAULT_RECALL_AT, DEFAULT_THRESHOLD_M
from geovec.errors import GeovecError
from geovec.geodesy import distance_m
from geovec.store import Store
from geovec.store.filters import quote
from geovec.store.queries import run_query

THRESHOLD_M = DEFAULT_THRESHOLD_M
RECALL_AT = DEFAULT_RECALL_AT
DATABASE_SPLIT, QUERY_SPLIT = "database", "queries"
PAIR_BYTES = 64 << 20
"""Bytes of gathered feature rows per step when measuring query-positive distances."""
PLACES_RANK_SCHEMA = pa.schema(
    [
        pa.field("query_id", pa.string()),
        pa.field("best_id", pa.string()),  # the top of its ranking
        pa.field("first_positive_rank", pa.int64()),  # null: no positive
        pa.field("error_m", pa.float64()),  # geodesic metres to best_id; null: no position
        pa.field("positives", pa.int64()),  # database images within the threshold
    ]
)


@dataclasses.dataclass
class PlacesEvaluation:
    """Recall@N within ``threshold_m`` metres (JSON keys as the pairs protocol's, with
    ``threshold_m`` and ``queries_without_positive``)."""

    protocol: str
    method: str
    feature: str
    database_split: str
    query_split: str
    queries: int
    candidates: int
    threshold_m: float
    recall: dict[str, float]
    top_1_percent: float  # hit within the first max(1, N // 100) of the N database images
    queries_without_positive: int  # counted as misses, as the benchmark code counts them
    unlocated: int  # queries without a position, left out
    distance: str = "WGS84 geodesic"
    ranks: pa.Table = dataclasses.field(default_factory=PLACES_RANK_SCHEMA.empty_table, repr=False)
    by: dict | None = None  # per-place breakdown ({value: metrics}), with a by layer
    provenance: dict = dataclasses.field(default_factory=dict)  # what made it (.provenance)

    def summary(self) -> str:
        recall = ", ".join(f"R@{k} {v:.3f}" for k, v in self.recall.items())
        left = f"; left out {self.unlocated} without a position" if self.unlocated else ""
        return (
            f"{self.feature} (places, within {self.threshold_m:g} m): {recall}; "
            f"{count(self.queries, 'query')} ({self.queries_without_positive} without a "
            f"database image within {self.threshold_m:g} m, counted as misses), "
            f"{count(self.candidates, 'database image')}{left}"
        )

    def as_dict(self) -> dict:
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "ranks"
        }


def check_engine(engine: str) -> None:
    """The places protocol runs in this process only."""
    if engine != "local":
        raise GeovecError(
            f"the places protocol runs on the local engine only, not {engine!r} (drop --engine)"
        )


def recall_values(values: Iterable[int] | str) -> tuple[int, ...]:
    """The N of recall@N, ascending, from integers or text like ``1,5,10,20``."""
    parts = values.split(",") if isinstance(values, str) else list(values)
    try:
        numbers = [int(str(p).strip()) for p in parts]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise GeovecError(
            f"recall needs whole numbers of at least 1 (e.g. 1,5,10,20), got {values!r}"
        )
    return tuple(sorted(set(numbers)))


def evaluate_places(
    store: Store,
    feature: str,
    *,
    threshold_m: float = THRESHOLD_M,
    recall_at: Iterable[int] | str = RECALL_AT,
    database_split: str = DATABASE_SPLIT,
    query_split: str = QUERY_SPLIT,
    method: str | None = None,
    engine: str = "local",
) -> PlacesEvaluation:
    """Recall@N within ``threshold_m`` metres of each query of ``query_split`` among the
    ground images of ``database_split``, by ``feature`` (see the module).

    Args:
      threshold_m: metres (WGS84 geodesic) within which a database image is a positive.
      recall_at: the N of recall@N (default 1, 5, 10, 20).
      method: "direct" (the only one: the query's feature against the database's).
      engine: "local" (the only one).
    """
    check_engine(engine)
    if method not in (None, "direct"):
        raise GeovecError(f"the places protocol ranks by the feature itself (direct), not {method}")
    threshold_m = float(threshold_m)
    if not 0 < threshold_m < float("inf"):
        raise GeovecError(f"the threshold must be positive metres, got {threshold_m}")
    ks = recall_values(recall_at)
    if database_split == query_split:
        raise GeovecError(
            f"the database and the queries need two splits, got {query_split!r} twice"
        )
    store.require_feature("ground", feature)
    db_ids, database = store.vectors("ground", feature, f"split = {quote(database_split)}")
    q_ids, q_vectors = store.vectors("ground", feature, f"split = {quote(query_split)}")
    for split, ids in ((database_split, db_ids), (query_split, q_ids)):
        if not ids:
            raise GeovecError(
                f"no ground image of split {split!r} has {feature} (a place recognition "
                "dataset: geovec dataset places ROOT --out MANIFEST.parquet, then ingest it)"
            )
    where = f"split IN ({quote(database_split)}, {quote(query_split)})"
    located = store.read("ground", ["id", "lon", "lat"], where).to_pylist()
    position = {r["id"]: (r["lon"], r["lat"]) for r in located if r["lon"] is not None}
    keep = [i for i, ident in enumerate(q_ids) if ident in position]
    if not keep:
        raise GeovecError(f"no query of split {query_split!r} has a position")
    q_ids = [q_ids[i] for i in keep]
    queries = take_rows(q_vectors, keep)
    with store.cursor() as con:
        pairs = run_query(
            con,
            "places_positives",
            query_split=query_split,
            database_split=database_split,
            radius_m=threshold_m,
        )
    positive, count = _nearest_positive(pairs, q_ids, db_ids, queries, database)
    has = positive >= 0
    first = np.full(len(q_ids), -1, np.int64)
    if has.any():
        first[has] = tile_ranks(take_rows(queries, np.flatnonzero(has)), database, positive[has])
    nearest = nearest_indices(queries, database, 1)[:, 0]
    best = np.where(has & (first == 0), positive, nearest)  # a hit at 1: its positive
    hit = [has & (first < k) for k in ks]
    top = has & (first < retrieved(len(db_ids), 1.0))
    return PlacesEvaluation(
        protocol="places",
        method="direct",
        feature=feature,
        database_split=database_split,
        query_split=query_split,
        queries=len(q_ids),
        candidates=len(db_ids),
        threshold_m=threshold_m,
        recall={str(k): float(h.mean()) for k, h in zip(ks, hit)},
        top_1_percent=float(top.mean()),
        queries_without_positive=int((~has).sum()),
        unlocated=len(q_vectors) - len(keep),
        ranks=_ranks_table(q_ids, db_ids, best, first, has, count, position),
        provenance=id_digests(q_ids, db_ids),
    )


def _nearest_positive(pairs: pa.Table, q_ids, db_ids, queries, database):
    """Per query: the index of its positive nearest by the feature (-1: none) and how many
    positives it has. Distances of the pairs only, a bounded number of rows at a time."""
    q_at = {ident: i for i, ident in enumerate(q_ids)}
    db_at = {ident: i for i, ident in enumerate(db_ids)}
    qi = np.array([q_at.get(i, -1) for i in pairs.column("query_id").to_pylist()], np.int64)
    di = np.array([db_at.get(i, -1) for i in pairs.column("database_id").to_pylist()], np.int64)
    ok = (qi >= 0) & (di >= 0)  # both have the feature
    qi, di = qi[ok], di[ok]
    count = np.bincount(qi, minlength=len(q_ids)).astype(np.int64)
    d = np.empty(len(qi), np.float64)
    step = max(1, PAIR_BYTES // (8 * max(1, queries.shape[1])))
    for start in range(0, len(qi), step):
        a = queries[qi[start : start + step]].astype(np.float64)
        b = database[di[start : start + step]].astype(np.float64)
        d[start : start + step] = np.einsum("ij,ij->i", a - b, a - b)
    order = np.lexsort((di, d, qi))  # per query: nearest first, then the lowest index
    first = order[np.r_[True, qi[order][1:] != qi[order][:-1]]] if len(order) else order
    positive = np.full(len(q_ids), -1, np.int64)
    positive[qi[first]] = di[first]
    return positive, count


def _ranks_table(q_ids, db_ids, best, first, has, count, position) -> pa.Table:
    q = np.array([position[i] for i in q_ids], np.float64).reshape(-1, 2)
    unknown = (None, None)  # a database image without a position: no error
    b = np.array([position.get(db_ids[i], unknown) for i in best], np.float64).reshape(-1, 2)
    error = distance_m(q[:, 0], q[:, 1], b[:, 0], b[:, 1]) if len(q) else np.zeros(0)
    return pa.table(
        {
            "query_id": q_ids,
            "best_id": [db_ids[i] for i in best],
            "first_positive_rank": pa.array(first, pa.int64(), mask=~has),
            "error_m": pa.array(error, pa.float64(), mask=~np.isfinite(error)),
            "positives": pa.array(count, pa.int64()),
        },
        schema=PLACES_RANK_SCHEMA,
    )
