"""Cross-view ranking divided into Ray tasks: the queries in chunks and, for maps too big
for one task, the candidates in blocks; each task runs the same JAX kernels as the local
evaluation (:mod:`geovec.analyses.knn`) and the partial ranks are summed.

A query's rank is the number of candidates strictly closer than its true one, so it adds
up over disjoint candidate blocks (see :func:`_rank_task`); its best candidate is the
nearest of the blocks' nearest (the earliest block among equals), settled as the local
evaluation settles it (:func:`geovec.analyses.knn.settle_best`). With a GPS prior each
query's own candidates are ranked by the local kernel
(:func:`geovec.analyses.knn.subset_rank_best`), a chunk of queries per task. The inputs go
to the object store once and every task reads them there.
"""

from __future__ import annotations

import numpy as np

from geovec.analyses.knn import (
    neighbour_mean,
    partial_ranks,
    settle_best,
    subset_rank_best,
    tile_ranks,
)

QUERY_CHUNK = 2048
"""Queries per task."""


def _rank_task(predicted, candidates, start, stop, true_idx):
    """Ranks of ``predicted`` (a chunk of queries) counting only candidates[start:stop]
    that are strictly closer than each query's true candidate, and each query's nearest
    candidate of that block (index into ``candidates``) with its squared distance less
    |q|^2 (for merging blocks).

    The chunk's true rows T are appended to the block: a query's rank against
    block + T, less its rank against T alone, counts the block's rows that beat it (the
    same kernel scores every pair in both calls); T's rows are never the nearest."""
    if start == 0 and stop == len(candidates):  # one block: the plain ranking, no copy
        return partial_ranks(predicted, candidates, true_idx, len(candidates))
    own = np.arange(len(predicted))
    true_rows = candidates[true_idx]
    block = np.concatenate([candidates[start:stop], true_rows])
    with_block, nearest, nearest_d = partial_ranks(
        predicted, block, own + (stop - start), stop - start
    )
    ranks = with_block - tile_ranks(predicted, true_rows, own)
    return ranks, np.where(nearest >= 0, nearest + start, -1), nearest_d


def _merge(parts, true_idx):
    """(ranks, best) of a chunk of queries from its blocks' (ranks, nearest, nearest_d)."""
    ranks = np.sum([p[0] for p in parts], axis=0)
    nearest = np.stack([p[1] for p in parts])
    distance = np.stack([np.where(p[1] >= 0, p[2], np.inf) for p in parts])
    first = np.argmin(distance, axis=0)  # the earliest block among equals
    return ranks, settle_best(ranks, nearest[first, np.arange(len(ranks))], true_idx)


def distributed_ranks(queries: np.ndarray, candidates: np.ndarray, true_idx: np.ndarray, **kw):
    """Ranks of each query's true candidate (:func:`distributed_rank_best` without the
    best candidates)."""
    return distributed_rank_best(queries, candidates, true_idx, **kw)[0]


def distributed_rank_best(
    queries: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    *,
    train_ground: np.ndarray | None = None,
    train_aerial: np.ndarray | None = None,
    neighbors: int | None = None,
    query_chunk: int = QUERY_CHUNK,
    candidate_block: int | None = None,
    members: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, best): each query's true candidate's rank and its best candidate's index,
    computed by Ray tasks (Ray running), equal to
    :func:`geovec.analyses.knn.rank_and_best` (or, with ``members``, to
    :func:`~geovec.analyses.knn.subset_rank_best`).

    With ``train_ground``/``train_aerial``/``neighbors`` the queries are first replaced by
    the mean aerial feature of their nearest training ground images (the paper's
    kNN-average), also in tasks. ``candidate_block`` splits the candidates too (default:
    one block). ``members``: (offsets, indices), each query's own candidates (a GPS
    prior's), as :func:`~geovec.analyses.knn.subset_rank_best` takes them."""
    import ray

    knn = ray.remote(neighbour_mean)
    rank = ray.remote(_rank_task)
    chunks = [slice(s, s + query_chunk) for s in range(0, len(queries), query_chunk)]
    if train_ground is not None:
        ground_ref, aerial_ref = ray.put(train_ground), ray.put(train_aerial)
        predicted = ray.get(
            [knn.remote(queries[c], ground_ref, aerial_ref, neighbors) for c in chunks]
        )
    else:
        predicted = [queries[c] for c in chunks]
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    candidates_ref = ray.put(np.ascontiguousarray(candidates, np.float32))
    if members is not None:
        offsets, indices = (ray.put(np.asarray(a, np.int64)) for a in members)
        subset = ray.remote(_subset_task)
        done = ray.get(
            [
                subset.remote(p, candidates_ref, true_idx[c], offsets, indices, c.start)
                for p, c in zip(predicted, chunks)
            ]
        )
        return np.concatenate([r for r, _ in done]), np.concatenate([b for _, b in done])
    block = candidate_block or len(candidates)
    pending = [
        [
            rank.remote(p, candidates_ref, start, min(start + block, len(candidates)), true_idx[c])
            for start in range(0, len(candidates), block)
        ]
        for p, c in zip(predicted, chunks)
    ]
    merged = [_merge(ray.get(parts), true_idx[c]) for parts, c in zip(pending, chunks)]
    return np.concatenate([r for r, _ in merged]), np.concatenate([b for _, b in merged])


def _subset_task(predicted, candidates, true_idx, offsets, indices, first):
    """:func:`~geovec.analyses.knn.subset_rank_best` of a chunk of queries, the first
    being query ``first`` of the whole ``offsets``."""
    mine = offsets[first : first + len(predicted) + 1]
    return subset_rank_best(
        predicted, candidates, true_idx, mine - mine[0], indices[mine[0] : mine[-1]]
    )
