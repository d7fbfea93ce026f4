"""Approximate nearest-neighbour indexes on feature columns (LanceDB's IVF indexes), so
that search over millions of vectors does not scan them all; and the measurement of an
index's recall against the exact search, on queries drawn from the table itself.

Kinds: ``ivf_pq`` (product quantisation: smallest, needs ``refine_factor`` for high
recall), ``ivf_hnsw_sq`` (an HNSW graph per partition over 8-bit scalar-quantised
vectors: high recall, larger), ``ivf_flat`` (full vectors per partition: exact within the
probed partitions). Distances are Euclidean (l2), as every geovec search.

The defaults keep recall@10 at 0.95 or more: a search through an index re-ranks
:data:`DEFAULT_REFINE_FACTOR` x k candidates by their full vectors and probes a fifth of
the partitions (at least :data:`MIN_NPROBES`) unless told otherwise; and a column whose
table holds fewer than :data:`EXACT_SCAN_VALUES` values (rows x length) is searched
exactly even where it has an index: the index saves milliseconds there, and the answer
is exact (6,972 x 512 GIST-like vectors: 24 ms flat against 13 ms through the default
``ivf_pq`` at recall@10 0.996, bench/ann.py).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from geovec.counts import count
from geovec.errors import VectorIndexError
from geovec.store.database import Store

KINDS = ("ivf_pq", "ivf_hnsw_sq", "ivf_flat")
ROWS_PER_PARTITION = 256
"""LanceDB trains at most rows / 256 IVF partitions (k-means needs samples in each)."""
SUB_VECTOR_DIMS = 8
"""Preferred values per PQ sub-vector: one byte codes 8 values well; far more loses recall
(1 sub-vector of 205 values finds almost nothing), far fewer wastes space."""
MIN_ROWS = 256
"""Fewer rows than this: the index cannot train (PQ needs 256 samples per code book)."""
EXACT_SCAN_VALUES = 4_000_000
"""Below this many stored values (rows x feature length: 7,812 rows of 512-d GIST, 976 of
4,096-d fc7) search scans exactly even where the column has an index: the index saves
milliseconds there, and the flat scan is exact."""
DEFAULT_REFINE_FACTOR = 10
"""A search through an index re-ranks k x this many candidates by their full vectors
(PQ codes alone gave recall@10 0.6 to 0.8 on GIST-like vectors; re-ranked, 0.96 to 1)."""
MIN_NPROBES = 20
PROBE_SHARE = 0.2
"""A search through an index probes this share of the partitions, at least MIN_NPROBES
(60,000 GIST-like vectors, 234 partitions, refined: recall@10 0.943 at 24 probes, 0.983
at 47)."""


@dataclasses.dataclass
class IndexInfo:
    """One vector index: its view, feature column, kind and size."""

    view: str
    feature: str
    kind: str
    name: str
    indexed_rows: int
    unindexed_rows: int  # rows appended since the index was built: searched exactly
    partitions: int | None = None  # as asked for at build (LanceDB does not report it)
    sub_vectors: int | None = None
    note: str | None = None  # said once at build: search scans this table exactly for now

    def line(self) -> str:
        shape = [count(self.indexed_rows, "row")]
        if self.unindexed_rows:
            shape.append(f"{self.unindexed_rows} appended since, searched exactly")
        if self.partitions:
            shape.append(count(self.partitions, "partition"))
        if self.sub_vectors:
            shape.append(f"{self.sub_vectors} sub-vectors")
        return f"{self.view}.{self.feature}: {self.kind} ({', '.join(shape)})"


def default_partitions(rows: int) -> int:
    """IVF partitions for ``rows`` vectors: about sqrt(rows) (LanceDB's advice), at most
    rows / 256 so that each partition trains on enough samples."""
    return max(1, min(round(math.sqrt(rows)), rows // ROWS_PER_PARTITION))


def uses_index(rows: int, dim: int) -> bool:
    """Whether a search of ``rows`` vectors of ``dim`` values goes through the column's
    index by default (from :data:`EXACT_SCAN_VALUES` stored values on)."""
    return rows * dim >= EXACT_SCAN_VALUES


def exact_rows(dim: int) -> int:
    """The fewest rows of ``dim``-value vectors that search goes through an index for."""
    return -(-EXACT_SCAN_VALUES // dim)


def default_nprobes(rows: int) -> int:
    """Partitions probed by default over ``rows`` vectors: a fifth of the partitions an
    index built with the defaults has (:func:`default_partitions`), at least 20."""
    return max(MIN_NPROBES, math.ceil(PROBE_SHARE * default_partitions(rows)))


def default_sub_vectors(dim: int) -> int:
    """PQ sub-vectors for ``dim``-value features: the divisor of ``dim`` whose sub-vector
    length is nearest 8 (205 → 41 of 5 values; 4096 → 512 of 8; 512 → 64 of 8)."""
    divisors = [d for d in range(1, dim + 1) if dim % d == 0]
    return min(divisors, key=lambda d: (abs(dim / d - SUB_VECTOR_DIMS), -d))


def _kind_of(index_type: str) -> str:
    return {"IvfPq": "ivf_pq", "IvfHnswSq": "ivf_hnsw_sq", "IvfFlat": "ivf_flat"}.get(
        index_type, index_type.lower()
    )


def build_index(
    store: Store,
    view: str,
    feature: str,
    *,
    kind: str = "ivf_pq",
    partitions: int | None = None,
    sub_vectors: int | None = None,
) -> IndexInfo:
    """Build (or rebuild) the vector index of ``view.feature``.

    Args:
      kind: ivf_pq, ivf_hnsw_sq or ivf_flat.
      partitions: IVF partitions (default :func:`default_partitions`).
      sub_vectors: ivf_pq only: must divide the feature's length (default
        :func:`default_sub_vectors`).

    Raises:
      VectorIndexError: an unknown kind, too few rows, a sub-vector count that does not
        divide the length or is 1 for a long feature.
    """
    from lancedb.index import HnswSq, IvfFlat, IvfPq

    if kind not in KINDS:
        raise VectorIndexError(f"index kind must be one of {', '.join(KINDS)}, got {kind!r}")
    dim = store.require_feature(view, feature)
    rows = store.count(view, f"{feature} IS NOT NULL")
    if rows < MIN_ROWS:
        raise VectorIndexError(
            f"{view}.{feature} has {rows} vectors; an index needs at least {MIN_ROWS} (search "
            "scans fewer exactly, and fast)"
        )
    partitions = partitions or default_partitions(rows)
    if partitions < 1:
        raise VectorIndexError(f"partitions must be at least 1, got {partitions}")
    if kind == "ivf_pq":
        sub_vectors = sub_vectors or default_sub_vectors(dim)
        if dim % sub_vectors:
            divisors = [d for d in range(2, dim + 1) if dim % d == 0][:8]
            raise VectorIndexError(
                f"{sub_vectors} sub-vectors do not divide {feature}'s {dim} values; try "
                f"{default_sub_vectors(dim)} (divisors: {', '.join(map(str, divisors))}, ...)"
            )
        if sub_vectors == 1 and dim > 2 * SUB_VECTOR_DIMS:
            raise VectorIndexError(
                f"1 sub-vector codes all {dim} values in one byte: its recall is useless; "
                f"use {default_sub_vectors(dim)}"
            )
        config = IvfPq(distance_type="l2", num_partitions=partitions, num_sub_vectors=sub_vectors)
    elif sub_vectors:
        raise VectorIndexError(f"sub-vectors apply to ivf_pq only, not {kind}")
    elif kind == "ivf_hnsw_sq":
        config = HnswSq(distance_type="l2", num_partitions=partitions)
    else:
        config = IvfFlat(distance_type="l2", num_partitions=partitions)
    try:
        store.table(view).create_index(feature, config=config, replace=True)
    except (ValueError, RuntimeError, OSError) as exc:
        raise VectorIndexError(
            f"could not index {view}.{feature}: {str(exc).splitlines()[0]}"
        ) from None
    built = find_index(store, view, feature)
    built.partitions = partitions
    if not uses_index(rows, dim):
        built.note = (
            f"{view}.{feature} holds {rows:,} vectors of {dim} values: search scans them "
            f"exactly (milliseconds slower, and exact) until it holds {exact_rows(dim):,}; "
            "the index is used before that only when asked (--index, --nprobes, --refine-factor)"
        )
    return built


def list_indexes(store: Store, view: str | None = None) -> list[IndexInfo]:
    """The vector indexes of the store (of ``view`` only, when given)."""
    out = []
    for v in [view] if view else ("ground", "overhead", "map"):
        if not store.has(v):
            continue
        vectors = set(store.features(v))
        for config in store.table(v).list_indices():
            if not set(config.columns) & vectors:
                continue  # a scalar index (on id, say), not a vector one
            details = dict(config.index_details or {})
            compression = details.get("compression") or {}
            out.append(
                IndexInfo(
                    view=v,
                    feature=config.columns[0],
                    kind=_kind_of(str(config.index_type)),
                    name=config.name,
                    indexed_rows=int(config.num_indexed_rows or 0),
                    unindexed_rows=int(config.num_unindexed_rows or 0),
                    sub_vectors=compression.get("num_sub_vectors"),
                )
            )
    return out


def find_index(store: Store, view: str, feature: str) -> IndexInfo | None:
    """The vector index of ``view.feature``, or None."""
    return next((i for i in list_indexes(store, view) if i.feature == feature), None)


def drop_index(store: Store, view: str, feature: str) -> IndexInfo:
    """Remove the vector index of ``view.feature`` (search scans exactly again)."""
    found = find_index(store, view, feature)
    if found is None:
        raise VectorIndexError(f"{view}.{feature} has no vector index")
    store.table(view).drop_index(found.name)
    return found


@dataclasses.dataclass
class RecallResult:
    """Recall@k of an index against the exact search, and both mean latencies (ms)."""

    view: str
    feature: str
    k: int
    queries: int
    recall: float
    exact_ms: float
    index_ms: float
    nprobes: int | None
    refine_factor: int | None
    search_exact: bool = False  # search scans this table exactly by default (too small)

    def line(self) -> str:
        speed = self.exact_ms / self.index_ms if self.index_ms > 0 else float("inf")
        default = "; search scans this table exactly by default" if self.search_exact else ""
        return (
            f"{self.view}.{self.feature}: recall@{self.k} {self.recall:.3f} on {self.queries} "
            f"queries (nprobes {self.nprobes}, refine factor {self.refine_factor}); exact "
            f"{self.exact_ms:.1f} ms, index {self.index_ms:.1f} ms per query "
            f"({speed:.1f}x faster){default}"
        )


def nearest_query(
    store: Store,
    view: str,
    feature: str,
    vector: np.ndarray,
    k: int,
    *,
    columns: list[str] | None = None,
    where: str | None = None,
    exact: bool | None = None,
    nprobes: int | None = None,
    refine_factor: int | None = None,
):
    """A LanceDB query for the ``k`` rows of ``view`` nearest ``vector`` by ``feature``
    (Euclidean); ``where`` a prefilter applied before the neighbours are chosen, on both
    paths.

    Args:
      exact: True scans every vector; False goes through the column's index when it has
        one; None (the default) scans exactly fewer than :data:`EXACT_SCAN_VALUES`
        values (the rows ``where`` keeps, or the table's, x length) unless ``nprobes`` or
        ``refine_factor`` is given, and goes through the index otherwise.
      nprobes: partitions the index probes (default :func:`default_nprobes`).
      refine_factor: re-rank ``k`` x this many index candidates by their full vectors
        (default :data:`DEFAULT_REFINE_FACTOR`).
    """
    for name, value in (("nprobes", nprobes), ("refine_factor", refine_factor)):
        if value is not None and value < 1:
            raise VectorIndexError(f"{name} must be at least 1, got {value}")
    table = store.table(view)
    query = table.search(vector, vector_column_name=feature).distance_type("l2")
    rows = None
    if exact is None:
        rows = table.count_rows()
        kept = table.count_rows(where) if where else rows  # a prefilter's rows are scanned
        tuned = nprobes is not None or refine_factor is not None
        exact = not tuned and not uses_index(kept, len(vector))
    if exact:
        query = query.bypass_vector_index()
    else:
        rows = table.count_rows() if rows is None and nprobes is None else rows
        query = query.nprobes(int(nprobes or default_nprobes(rows)))
        query = query.refine_factor(int(refine_factor or DEFAULT_REFINE_FACTOR))
    if columns:
        query = query.select(columns)
    if where:
        query = query.where(where, prefilter=True)
    return query.limit(k)


def measure_recall(
    store: Store,
    view: str,
    feature: str,
    *,
    k: int = 10,
    queries: int = 100,
    seed: int = 0,
    nprobes: int | None = None,
    refine_factor: int | None = None,
) -> RecallResult:
    """Recall@k of ``view.feature``'s index: for ``queries`` vectors drawn from the column
    itself, the share of the exact k nearest that the index returns (through the index
    whatever the table's size, with ``nprobes`` and ``refine_factor`` or the defaults
    :func:`nearest_query` uses, which the result names)."""
    if find_index(store, view, feature) is None:
        raise VectorIndexError(
            f"{view}.{feature} has no vector index; build one: geovec index {store.path} "
            f"--view {view} --feature {feature}"
        )
    if k < 1 or queries < 1:
        raise VectorIndexError(f"k and queries must be at least 1, got {k} and {queries}")
    table = store.table(view)
    rows = table.count_rows()
    nprobes = default_nprobes(rows) if nprobes is None else nprobes
    refine_factor = DEFAULT_REFINE_FACTOR if refine_factor is None else refine_factor
    picked = np.random.default_rng(seed).choice(rows, min(queries, rows), replace=False)
    drawn = table.take_offsets(sorted(picked.tolist())).select([feature]).to_arrow()
    vectors = [np.asarray(v, np.float32) for v in drawn.column(feature).to_pylist() if v]
    found, exact_s, index_s = [], 0.0, 0.0
    for vector in vectors:
        t0 = time.perf_counter()
        truth = nearest_query(
            store, view, feature, vector, k, columns=["id", "_distance"], exact=True
        )
        truth = set(truth.to_arrow().column("id").to_pylist())
        t1 = time.perf_counter()
        approx = nearest_query(
            store,
            view,
            feature,
            vector,
            k,
            columns=["id", "_distance"],
            exact=False,
            nprobes=nprobes,
            refine_factor=refine_factor,
        )
        approx = set(approx.to_arrow().column("id").to_pylist())
        t2 = time.perf_counter()
        exact_s, index_s = exact_s + t1 - t0, index_s + t2 - t1
        found.append(len(truth & approx) / max(1, len(truth)))
    n = max(1, len(vectors))
    return RecallResult(
        view,
        feature,
        k,
        n,
        float(np.mean(found)),
        1000 * exact_s / n,
        1000 * index_s / n,
        nprobes,
        refine_factor,
        not uses_index(rows, len(vectors[0]) if vectors else 0),
    )
