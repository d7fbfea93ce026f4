"""Cross-view ranking divided into Ray tasks: the queries in chunks and, for maps too big
for one task, the candidates in blocks; each task runs the same JAX kernels as the local
evaluation (:mod:`geovec.analyses.knn`) and the partial ranks are summed.

A query's rank is the number of candidates strictly closer than its true one, so it adds
up over disjoint candidate blocks (see :func:`_rank_task`). The inputs go to the object
store once and every task reads them there.
"""

from __future__ import annotations

import numpy as np

from geovec.analyses.knn import neighbour_mean, tile_ranks

QUERY_CHUNK = 2048
"""Queries per task."""


def _rank_task(predicted, candidates, start, stop, true_idx):
    """Ranks of ``predicted`` (a chunk of queries) counting only candidates[start:stop]
    that are strictly closer than each query's true candidate.

    The chunk's true rows T are appended to the block: a query's rank against
    block + T, less its rank against T alone, counts the block's rows that beat it (the
    same kernel scores every pair in both calls)."""
    if start == 0 and stop == len(candidates):  # one block: the plain ranking, no copy
        return tile_ranks(predicted, candidates, true_idx)
    own = np.arange(len(predicted))
    true_rows = candidates[true_idx]
    block = np.concatenate([candidates[start:stop], true_rows])
    with_block = tile_ranks(predicted, block, own + (stop - start))
    return with_block - tile_ranks(predicted, true_rows, own)


def distributed_ranks(
    queries: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    *,
    train_ground: np.ndarray | None = None,
    train_aerial: np.ndarray | None = None,
    neighbors: int | None = None,
    query_chunk: int = QUERY_CHUNK,
    candidate_block: int | None = None,
) -> np.ndarray:
    """Ranks of each query's true candidate, computed by Ray tasks (Ray running).

    With ``train_ground``/``train_aerial``/``neighbors`` the queries are first replaced by
    the mean aerial feature of their nearest training ground images (the paper's
    kNN-average), also in tasks. ``candidate_block`` splits the candidates too (default:
    one block)."""
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
    block = candidate_block or len(candidates)
    candidates_ref = ray.put(np.ascontiguousarray(candidates, np.float32))
    pending = [
        [
            rank.remote(p, candidates_ref, start, min(start + block, len(candidates)), true_idx[c])
            for start in range(0, len(candidates), block)
        ]
        for p, c in zip(predicted, chunks)
    ]
    return (
        np.concatenate([np.sum(ray.get(parts), axis=0) for parts in pending])
        if pending
        else np.zeros(0, np.int64)
    )
