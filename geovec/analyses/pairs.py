"""The cross-view benchmarks' protocol (CVUSA, CVACT, VIGOR), beside the paper's map
protocol: every ground image of a split is a query, and every overhead image of that split
(or of none: VIGOR's same-area aerials serve both) a candidate; the query's pair (the
overhead image that ``ground.pair`` names, the one link) is the true one.

``direct`` scores a candidate by the distance between the query's ground feature and its
overhead feature (both in one space: a learned embedding, or one network's layer);
``learned`` by the distance between a learned head's embeddings of the two (``geovec
train``);
``knn-average`` by the paper's rule: the mean overhead feature of the query's K nearest
ground images of the training split. Ranks follow the community's rule (candidates
strictly closer than the true one); top-1 % counts rank < max(1, N // 100) (the rule of
:mod:`geovec.analyses.metrics`, the community's); the hit rate
(VIGOR) counts queries whose true aerial is beaten by none but its semi-positives. Memory
stays bounded by the blocked scan (:mod:`geovec.analyses.knn`), never the full matrix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa

from geovec.analyses.distributed import distributed_rank_best
from geovec.analyses.knn import (
    closer_than_true,
    neighbour_mean,
    rank_and_best,
    subset_rank_best,
    take_rows,
)
from geovec.analyses.metrics import (
    WITHIN_M,
    as_misses,
    best_errors,
    error_summary,
    error_words,
    recall_at,
    top_one_percent,
)
from geovec.analyses.priors import Prior, candidate_summary, candidates_within, prior_words
from geovec.analyses.provenance import id_digests
from geovec.counts import count
from geovec.defaults import DEFAULT_NEIGHBORS
from geovec.engines import in_ray_session
from geovec.errors import GeovecError
from geovec.heads.file import Head, as_head, check_unseen
from geovec.ingestion.links import relink_hint
from geovec.store import Store
from geovec.store.filters import quote

METHODS = ("direct", "knn-average", "learned")
PAIR_RANK_SCHEMA = pa.schema(
    [
        pa.field("query_id", pa.string()),
        pa.field("true_id", pa.string()),
        pa.field("rank", pa.int64()),  # candidates strictly closer; null: outside the prior
        pa.field("hit", pa.bool_()),  # null without semi-positives
        pa.field("candidates", pa.int64()),  # the split's aerials (or those in the prior)
        pa.field("best_id", pa.string()),  # the top aerial (null: none in the prior)
        pa.field("error_m", pa.float64()),  # geodesic metres from it to the query (null: unknown)
    ]
)


@dataclasses.dataclass
class PairEvaluation:
    """Ranks of the true aerial among a split's aerials (JSON keys as in DESIGN.md)."""

    protocol: str
    method: str
    split: str
    ground_feature: str
    overhead_feature: str
    queries: int
    candidates: int
    recall: dict[str, float]
    top_1_percent: float
    hit_rate: float | None
    neighbors: int | None
    skipped: int  # queries of the split whose pair is not among the candidates
    ranks: pa.Table = dataclasses.field(repr=False)
    by: dict | None = None  # per-place breakdown ({value: metrics}), with a by layer
    provenance: dict = dataclasses.field(default_factory=dict)  # what made it (.provenance)
    median_error_m: float | None = None  # metres from the top aerial to the query's position
    within_m: dict[str, float | None] = dataclasses.field(default_factory=dict)
    queries_without_error: int = 0  # positions unknown (pair-only datasets), or no candidate
    prior: dict | None = None  # the GPS prior, its candidate counts and the misses outside it

    def summary(self) -> str:
        hit = f", hit rate {self.hit_rate:.3f}" if self.hit_rate is not None else ""
        skipped = f"; skipped {self.skipped} without their aerial" if self.skipped else ""
        return (
            f"{self.ground_feature}->{self.overhead_feature} ({self.method}, {self.split}): "
            f"R@1 {self.recall['1']:.3f}, R@5 {self.recall['5']:.3f}, R@10 "
            f"{self.recall['10']:.3f}, R@1% {self.top_1_percent:.3f}{hit}; "
            f"{count(self.queries, 'query')}, {count(self.candidates, 'candidate')}{skipped}"
            + error_words(self.median_error_m, self.within_m)
            + prior_words(self.prior)
        )

    def as_dict(self) -> dict:
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "ranks"
        }


def _ground(store: Store, feature: str, split: str):
    """(rows with id, pair, semi_pairs, lon, lat, and the ids/matrix of ``feature``) of a
    split."""
    where = f"split = {quote(split)}"
    ids, vectors = store.vectors("ground", feature, where)
    meta = store.read("ground", ["id", "pair", "semi_pairs", "lon", "lat"], where).to_pylist()
    info = {m["id"]: m for m in meta}
    return [info[i] for i in ids], vectors


@in_ray_session
def evaluate_pairs(
    store: Store,
    feature: str | None = None,
    *,
    ground_feature: str | None = None,
    overhead_feature: str | None = None,
    split: str = "test",
    method: str = "direct",
    neighbors: int = DEFAULT_NEIGHBORS,
    train_split: str = "train",
    head: str | Path | Head | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    within_m: tuple[float, ...] = WITHIN_M,
    prior: Prior | None = None,
) -> PairEvaluation:
    """Rank each query's paired aerial among the split's aerials (see the module).

    Args:
      feature: the feature of both views, unless ``ground_feature`` / ``overhead_feature``
        name one each.
      split: the queries' split (and the aerials': theirs, or none).
      method: "direct", "knn-average" (training pairs from ``train_split``) or "learned"
        (with ``head``, whose features replace ``feature``).
      engine: "local" or "ray" (the ranking in Ray tasks, :mod:`.distributed`);
      ray_address: the Ray cluster to join (default: a local one).
      within_m: the distance thresholds (metres) of ``within_m``. A query's error is the
        geodesic from its best (top) aerial's centre to its true position: its own
        position, else its true aerial's centre; unknown where neither is known.
      prior: a GPS prior (:mod:`geovec.analyses.priors`): each query ranks only the
        aerials within its radius of its prior position; every query needs a position.
    """
    if method not in METHODS:
        raise GeovecError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    g_feature, o_feature = ground_feature or feature, overhead_feature or feature
    learned = learned_head(method, head, store, ("ground", "overhead"), split)
    if learned is not None:
        g_feature, o_feature = learned.ground_feature, learned.overhead_feature
    if not g_feature or not o_feature:
        raise GeovecError("name the feature, or the ground_feature and the overhead_feature")
    g_dim = store.require_feature("ground", g_feature)
    o_dim = store.require_feature("overhead", o_feature)
    if method == "direct" and g_dim != o_dim:
        raise GeovecError(
            f"direct scoring compares {g_feature} ({g_dim}) with {o_feature} ({o_dim}): they "
            "must share one space (a learned head's embeddings), or use knn-average"
        )
    where = f"split = {quote(split)} OR split IS NULL"
    cand_ids, candidates = store.vectors("overhead", o_feature, where)
    at = {ident: i for i, ident in enumerate(cand_ids)}
    cand_lonlat = _positions(store, cand_ids, where)
    rows, query_vectors = _ground(store, g_feature, split)
    if not rows:
        splits = set(store.read("ground", ["split"]).column("split").to_pylist()) - {None}
        have = ", ".join(repr(s) for s in sorted(splits)) or "none"
        raise GeovecError(
            f"no ground image of split {split!r} has {g_feature} (splits here: {have}; "
            f"--split NAME, or geovec extract {store.path} --features {g_feature} --view ground)"
        )
    usable = [i for i, r in enumerate(rows) if r["pair"] in at]
    if not usable:
        raise GeovecError(
            f"no query of split {split!r} has its aerial (ground.pair) among the candidates"
            + relink_hint(store)
        )
    rows = [rows[i] for i in usable]
    queries = take_rows(query_vectors, usable)
    true_idx = np.array([at[r["pair"]] for r in rows], np.int64)
    if method == "knn-average":
        train, train_vectors = _ground(store, g_feature, train_split)
        o_ids, o_vectors = store.vectors("overhead", o_feature)
        o_at = {ident: i for i, ident in enumerate(o_ids)}
        keep = [i for i, r in enumerate(train) if r["pair"] in o_at]
        if len(keep) < 1:
            raise GeovecError(
                f"knn-average needs training pairs: split {train_split!r} has none"
                + relink_hint(store)
            )
        aerial = take_rows(o_vectors, [o_at[train[i]["pair"]] for i in keep])
        predicted = neighbour_mean(queries, take_rows(train_vectors, keep), aerial, neighbors)
    elif learned is not None:
        predicted, candidates = learned.embed_ground(queries), learned.embed_overhead(candidates)
    else:
        predicted = queries
    query_lonlat = np.array(  # the query's position, else its true aerial's
        [[_or_nan(r["lon"]), _or_nan(r["lat"])] for r in rows], float
    ).reshape(-1, 2)
    unknown = ~np.isfinite(query_lonlat).all(axis=1)
    query_lonlat[unknown] = cand_lonlat[true_idx[unknown]]
    members = None
    if prior is not None:  # the spatial prefilter, before any vector is compared
        members = _prior_members(store, prior, rows, query_lonlat, cand_lonlat)
    if engine == "ray":
        ranks, best = distributed_rank_best(predicted, candidates, true_idx, members=members)
    elif members is None:
        ranks, best = rank_and_best(predicted, candidates, true_idx)
    else:
        ranks, best = subset_rank_best(predicted, candidates, true_idx, *members)
    hits, hit_rate = _hits(rows, at, predicted, candidates, true_idx, ranks, members)
    counts = np.diff(members[0]) if members is not None else np.full(len(rows), len(cand_ids))
    errors = best_errors(best, cand_lonlat, query_lonlat)
    scored = as_misses(ranks)
    return PairEvaluation(
        protocol="pairs",
        method=method,
        split=split,
        ground_feature=g_feature,
        overhead_feature=o_feature,
        queries=len(rows),
        candidates=len(cand_ids),
        recall=recall_at(scored),
        top_1_percent=top_one_percent(scored, counts),
        hit_rate=hit_rate,
        neighbors=neighbors if method == "knn-average" else None,
        skipped=len(query_vectors) - len(usable),
        ranks=pa.table(
            {
                "query_id": [r["id"] for r in rows],
                "true_id": [cand_ids[i] for i in true_idx],
                "rank": pa.array(ranks, pa.int64(), mask=ranks < 0),
                "hit": pa.array(hits, pa.bool_()),
                "candidates": pa.array(counts, pa.int64()),
                "best_id": [cand_ids[b] if b >= 0 else None for b in best],
                "error_m": pa.array(errors, pa.float64(), mask=~np.isfinite(errors)),
            },
            schema=PAIR_RANK_SCHEMA,
        ),
        provenance=id_digests([r["id"] for r in rows], cand_ids),
        **error_summary(errors, within_m),
        prior=None if prior is None else candidate_summary(counts, int((ranks < 0).sum()), prior),
    )


def _or_nan(value) -> float:
    return np.nan if value is None else float(value)


def _positions(store: Store, ids: list[str], where: str) -> np.ndarray:
    """(len(ids), 2) lon/lat of the overhead rows ``ids`` (decimal degrees; NaN: none)."""
    rows = store.read("overhead", ["id", "lon", "lat"], where).to_pylist()
    at = {r["id"]: (_or_nan(r["lon"]), _or_nan(r["lat"])) for r in rows}
    return np.array([at.get(i, (np.nan, np.nan)) for i in ids], float).reshape(-1, 2)


def _prior_members(store: Store, prior: Prior, rows, query_lonlat, cand_lonlat):
    """(offsets, members): each query's aerials within its prior's circle."""
    unknown = ~np.isfinite(query_lonlat).all(axis=1)
    if unknown.any():
        raise GeovecError(
            f"a GPS prior needs the queries' positions: {int(unknown.sum())} of "
            f"{len(rows)} have none (neither their own nor their aerial's)"
        )
    ids = [r["id"] for r in rows]
    p_lon, p_lat = prior.positions(ids, query_lonlat[:, 0], query_lonlat[:, 1])
    with store.cursor() as con:
        return candidates_within(
            con, p_lon, p_lat, cand_lonlat[:, 0], cand_lonlat[:, 1], prior.radius_m
        )


def learned_head(
    method: str, head, store: Store, views: tuple[str, ...], split: str | None = None
) -> Head | None:
    """The head of the "learned" method, checked against the store's features and against
    scoring what it trained on (None for the other methods)."""
    if method != "learned":
        if head is not None:
            raise GeovecError(f"a head scores with method learned, not {method}")
        return None
    if head is None:
        raise GeovecError("method learned needs a head (geovec train, then --head HEAD)")
    head = as_head(head)
    head.check_store(store, views)
    check_unseen(head, store, split=split)
    return head


def _hits(rows, at, predicted, candidates, true_idx, ranks, members=None):
    """Per query: beaten by none but its semi-positives (None without semi-positives),
    and the hit rate over the queries that have them (None when none has). With a
    prior's ``members`` (offsets, indices), only the semi-positives among the query's
    candidates are forgiven, and a query whose true aerial is outside is no hit."""
    semis = [[at.get(s, -1) for s in (r["semi_pairs"] or [])] for r in rows]
    if members is not None:
        offsets, indices = members
        kept = [set(indices[offsets[q] : offsets[q + 1]].tolist()) for q in range(len(rows))]
        semis = [[s if s in k else -1 for s in mine] for mine, k in zip(semis, kept)]
    width = max((len(s) for s in semis), default=0)
    if width == 0:
        return [None] * len(rows), None
    other = np.full((len(rows), width), -1, np.int64)
    for i, s in enumerate(semis):
        other[i, : len(s)] = s
    forgiven = closer_than_true(predicted, candidates, true_idx, other)
    has = np.array([bool(r["semi_pairs"]) for r in rows])
    hit = (ranks >= 0) & ((ranks - forgiven) == 0)
    return [bool(h) if k else None for h, k in zip(hit, has)], float(hit[has].mean())
