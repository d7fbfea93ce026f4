"""Exact nearest-neighbour kernels of cross-view localisation, in JAX.

All of it runs as chunked, jit-compiled matmuls with fixed chunk shapes: a chunk of
queries scans the candidates block by block, so each block's distances stay in cache and
neither the queries x ground nor the queries x tiles matrix is ever held in full (nor
even one chunk's row of it). Distances are Euclidean, in feature units.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from geovec.analyses.bounded import bounded_rank_best, closer_pairs
from geovec.errors import GeovecError

CHUNK = 256
"""Queries per jitted call, for features of up to WIDE dimensions."""
WIDE, WIDE_CHUNK = 1024, 1024
"""Wider features (fc6/fc7: 4096) rank faster in chunks of WIDE_CHUNK queries: the
products are compute-bound there (bench/pairs.py: 14.6 s at 256, 11.0 s at 1024)."""


def query_chunk(dim: int) -> int:
    """Queries per jitted call for features of ``dim`` values."""
    return WIDE_CHUNK if dim > WIDE else CHUNK


def _pad_rows(x: np.ndarray, rows: int) -> np.ndarray:
    return (
        np.concatenate([x, np.zeros((rows - len(x), x.shape[1]), x.dtype)]) if len(x) < rows else x
    )


SUB_BLOCK = 128
KNN_BLOCK = 16384
RANK_BLOCK = 4096


def aligned_empty(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float32 array on a 64-byte boundary, as Arrow's buffers are: jax on
    the CPU takes such arrays without copying (a copy of a few hundred MB costs tenths of a
    second here, most of it first touching fresh memory)."""
    size = int(np.prod(shape)) * 4
    raw = np.empty(size + 64, np.uint8)
    offset = -raw.ctypes.data % 64
    return raw[offset : offset + size].view(np.float32).reshape(shape)


def take_rows(vectors: np.ndarray, positions) -> np.ndarray:
    """``vectors[positions]`` into an aligned array (see :func:`aligned_empty`)."""
    positions = np.asarray(positions, np.int64)
    out = aligned_empty((len(positions), vectors.shape[1]))
    return np.take(vectors, positions, axis=0, out=out)


def block_size(n: int, size: int, at_least: int = 0) -> int:
    """Rows of a scan block over ``n`` candidates: ``size``, or fewer for few candidates,
    at least ``at_least``, a multiple of SUB_BLOCK."""
    return max(min(size, -(-n // SUB_BLOCK) * SUB_BLOCK), -(-at_least // SUB_BLOCK) * SUB_BLOCK)


@dataclasses.dataclass
class _Blocks:
    """Candidates cut into row blocks for a scan: ``rows`` (blocks, size, dim) with
    ``sq`` (blocks, size), their squared norms, then one ``tail`` block (size, dim) with
    ``tail_sq`` (size,) holding the rest, padded with +inf norms so that padding is never
    near and never closer. The full blocks are the caller's own memory when it is
    aligned float32 (no copy)."""

    rows: jax.Array
    sq: jax.Array
    tail: jax.Array
    tail_sq: jax.Array
    size: int
    norms: np.ndarray  # (n,) squared norms of all candidates, as the blocks hold them

    @classmethod
    def of(cls, candidates: np.ndarray, size: int, at_least: int = 0) -> _Blocks:
        c = np.asarray(candidates, np.float32)
        n, dim = c.shape
        size = block_size(n, size, at_least)
        full = n // size
        main = c[: full * size]
        if not (main.flags.c_contiguous and main.ctypes.data % 64 == 0):
            copy = aligned_empty(main.shape)
            copy[:] = main
            main = copy
        tail = np.zeros((size, dim), np.float32)
        tail[: n - full * size] = c[full * size :]
        sq = np.einsum("ij,ij->i", c, c)
        tail_sq = np.full(size, np.inf, np.float32)
        tail_sq[: n - full * size] = sq[full * size :]
        return cls(
            jax.device_put(main.reshape(full, size, dim)),
            jax.device_put(sq[: full * size].reshape(full, size)),
            jax.device_put(tail),
            jax.device_put(tail_sq),
            size,
            sq,
        )

    @property
    def arrays(self) -> tuple[jax.Array, ...]:
        return self.rows, self.sq, self.tail, self.tail_sq


def _over_blocks(block, carry, rows, sq, tail, tail_sq):
    """``block(carry, (rows, sq, start))`` over every full block (a scan), then the tail
    block; returns the last carry and the outputs of all blocks stacked on axis 0."""
    size = tail.shape[0]
    starts = jnp.arange(rows.shape[0]) * size
    carry, out = jax.lax.scan(block, carry, (rows, sq, starts))
    carry, last = block(carry, (tail, tail_sq, rows.shape[0] * size))
    out = jax.tree.map(lambda a, b: jnp.concatenate([a, b[None]]), out, last)
    return carry, out


def _block_distances(q: jax.Array, rows: jax.Array, sq: jax.Array) -> jax.Array:
    """|c|^2 - 2 q.c for query rows q and candidate rows c with squared norms ``sq``: the
    squared distance less |q|^2, which is the same for every candidate of a query (so
    orderings and ranks are those of the true distances, with less rounding)."""
    return sq[None, :] - 2.0 * (q @ rows.T)


@functools.partial(jax.jit, static_argnames="k")
def _knn_chunk(q, rows, sq, tail, tail_sq, k):
    """Indices of the k nearest candidates for each query row, exactly.

    One scan over the candidate blocks keeps each block's distances in cache. Within a
    block, candidates are cut into sub-blocks of SUB_BLOCK: the k nearest all lie in the k
    sub-blocks with the smallest minima (one outside them has k smaller minima in front of
    its own), so top_k runs over k * SUB_BLOCK values instead of all of them; the k best
    of every block are merged at the end.
    """
    subs = tail.shape[0] // SUB_BLOCK

    def block(_, inputs):
        block_rows, s, start = inputs
        d = _block_distances(q, block_rows, s)
        if subs <= k:
            value, index = jax.lax.top_k(-d, k)
        else:
            d = d.reshape(d.shape[0], subs, SUB_BLOCK)
            _, best = jax.lax.top_k(-d.min(axis=2), k)
            near = jnp.take_along_axis(d, best[:, :, None], axis=1).reshape(d.shape[0], -1)
            value, pos = jax.lax.top_k(-near, k)
            sub = jnp.take_along_axis(best, pos // SUB_BLOCK, axis=1)
            index = sub * SUB_BLOCK + pos % SUB_BLOCK
        return None, (value, index + start)

    _, (values, indices) = _over_blocks(block, None, rows, sq, tail, tail_sq)
    values = jnp.moveaxis(values, 0, 1).reshape(q.shape[0], -1)
    indices = jnp.moveaxis(indices, 0, 1).reshape(q.shape[0], -1)
    _, pos = jax.lax.top_k(values, k)
    return jnp.take_along_axis(indices, pos, axis=1)


@jax.jit
def _rank_chunk(p, rows, sq, tail, tail_sq, true_rows, true_sq, limit):
    """Per query row, in one scan: the candidates strictly closer than the true one, and
    the nearest candidate among the first ``limit`` (its distance less |q|^2 and its
    index; the smallest index among equals; -1 and +inf when there is none).

    ``true_rows`` holds each query's true candidate in the query's own row, in a block of
    the same shape as the others: the same product computes the true distance as computes
    every other, so a candidate equal to the true one ties exactly.
    """
    true_d = jnp.diagonal(_block_distances(p, true_rows, true_sq))[:, None]
    n = p.shape[0]

    def block(carry, inputs):
        count, best_d, best_i = carry
        block_rows, s, start = inputs
        d = _block_distances(p, block_rows, s)
        count = count + jnp.sum(d < true_d, axis=1)
        index = start + jnp.arange(d.shape[1], dtype=jnp.int32)
        d = jnp.where(index[None, :] < limit, d, jnp.inf)
        # two plain reductions (the minimum, then the first index holding it) run in
        # half the time of argmin's paired one on the CPU
        m = jnp.min(d, axis=1)
        i = jnp.min(jnp.where(d <= m[:, None], index[None, :], jnp.iinfo(jnp.int32).max), axis=1)
        better = m < best_d  # strictly: an earlier block keeps a tie
        return (count, jnp.where(better, m, best_d), jnp.where(better, i, best_i)), None

    init = (jnp.zeros(n, jnp.int32), jnp.full(n, jnp.inf, jnp.float32), jnp.full(n, -1, jnp.int32))
    (count, best_d, best_i), _ = _over_blocks(block, init, rows, sq, tail, tail_sq)
    return count, best_d, best_i


_scores_chunk = jax.jit(_block_distances)


def _true_block(candidates: np.ndarray, norms: np.ndarray, truth, size: int):
    """Each query's true candidate in the query's own row of a block of ``size`` rows (the
    scan's block shape, so its distances round as the scan's do), and their squared norms."""
    truth = np.asarray(truth)
    rows = np.zeros((size, candidates.shape[1]), np.float32)
    rows[: len(truth)] = candidates[truth]
    sq = np.zeros(size, np.float32)
    sq[: len(truth)] = norms[truth]
    return rows, sq


def neighbour_mean(
    queries: np.ndarray, ground: np.ndarray, aerial: np.ndarray, k: int, chunk: int = CHUNK
) -> np.ndarray:
    """For each query row, the mean of ``aerial`` over its k nearest ``ground`` rows."""
    k = min(k, len(ground))
    if k < 1:
        raise GeovecError("no training ground images with paired aerial images")
    blocks = _Blocks.of(ground, KNN_BLOCK)
    aerial = np.asarray(aerial, np.float32)
    out = np.empty((len(queries), aerial.shape[1]), np.float32)
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk]
        q = jnp.asarray(_pad_rows(np.asarray(block, np.float32), chunk))
        idx = _knn_chunk(q, *blocks.arrays, k)
        out[start : start + len(block)] = aerial[np.asarray(idx)[: len(block)]].mean(axis=1)
    return out


def tile_ranks(
    predicted: np.ndarray,
    tiles: np.ndarray,
    true_idx: np.ndarray,
    chunk: int | None = None,
    keep_scores: bool = False,
):
    """Rank of each query's true tile among all tiles (candidates strictly closer).

    With ``keep_scores`` also returns the (queries, tiles) distances, for heatmaps of a
    few queries; evaluation never asks for them.
    """
    ranks, _, _, scores = _scan_ranks(predicted, tiles, true_idx, chunk, keep_scores)
    return (ranks, scores) if keep_scores else ranks


def rank_and_best(
    predicted: np.ndarray, tiles: np.ndarray, true_idx: np.ndarray, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, best) per query: the rank of its true candidate (as :func:`tile_ranks`) and
    the index of its best candidate, the top of its ranking (see :func:`settle_best`)."""
    ranks, best, _, _ = _scan_ranks(predicted, tiles, true_idx, chunk)
    return ranks, settle_best(ranks, best, true_idx)


def settle_best(ranks: np.ndarray, nearest: np.ndarray, true_idx: np.ndarray) -> np.ndarray:
    """The best candidate of each query, the top of its ranking: its true candidate where
    none is strictly closer (rank 0: ties do not hurt, so a tie at the top is the true
    one's), else ``nearest``, its nearest candidate (the smallest index among equals).
    So best is the true candidate exactly when R@1 counts the query."""
    return np.where(np.asarray(ranks) == 0, np.asarray(true_idx), np.asarray(nearest)).astype(
        np.int64
    )


def partial_ranks(
    predicted: np.ndarray,
    tiles: np.ndarray,
    true_idx: np.ndarray,
    limit: int,
    chunk: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ranks, nearest, nearest_d): the ranks of :func:`tile_ranks`, and each query's
    nearest candidate among the first ``limit`` rows of ``tiles`` (index; -1 for none)
    with its squared distance less |q|^2 (comparable across calls for one query), for
    merging candidate blocks (:mod:`geovec.analyses.distributed`)."""
    ranks, best, best_d, _ = _scan_ranks(predicted, tiles, true_idx, chunk, limit=limit)
    return ranks, best, best_d


def _scan_ranks(predicted, tiles, true_idx, chunk=None, keep_scores=False, limit=None):
    """ranks, nearest index, nearest score (|c|^2 - 2 q.c) and, with ``keep_scores``, the
    distances to every tile. From EXACT_MIN_DIM dimensions the ranks and nearest come
    from the exact bounded kernel (:func:`geovec.analyses.bounded.bounded_rank_best`),
    below it from the float32 scan; the scores from the blocked scan."""
    tiles = np.asarray(tiles, np.float32)
    if tiles.shape[1] >= EXACT_MIN_DIM:
        ranks, best, best_d = bounded_rank_best(predicted, tiles, true_idx, limit=limit)
    else:
        ranks, best, best_d = _float32_scan(predicted, tiles, true_idx, chunk, limit)
    if not keep_scores:
        return ranks, best, best_d, None
    chunk = chunk or query_chunk(tiles.shape[1])
    all_tiles = jnp.asarray(tiles)
    all_sq = jnp.asarray(np.einsum("ij,ij->i", tiles, tiles))
    scores = []
    for start in range(0, len(predicted), chunk):
        block = np.asarray(predicted[start : start + chunk], np.float32)
        d = _scores_chunk(jnp.asarray(_pad_rows(block, chunk)), all_tiles, all_sq)
        q_sq = np.sum(np.asarray(block, np.float64) ** 2, axis=1, keepdims=True)
        scores.append(np.sqrt(np.maximum(np.asarray(d)[: len(block)] + q_sq, 0)))
    return ranks, best, best_d, np.concatenate(scores)


EXACT_MIN_DIM = 1024
"""From this many dimensions ranks come from the exact bounded kernel, which beats the
full float32 product there (bench/pairs.py); below it (fc8's 205) its per-pair bound
work costs more than the product it saves (bench/crossview.py: 0.4x), so the float32
scan ranks, as it always did."""


def _float32_scan(predicted, tiles, true_idx, chunk=None, limit=None):
    """The float32 blocked scan (ranks, nearest, its score), below EXACT_MIN_DIM: its
    ranks can differ from the exact ones where two distances lie within float32
    rounding of each other (copies of the true candidate still tie)."""
    tiles = np.asarray(tiles, np.float32)
    chunk = chunk or query_chunk(tiles.shape[1])
    blocks = _Blocks.of(tiles, RANK_BLOCK, at_least=chunk)  # a row per query (true block)
    limit = jnp.int32(len(tiles) if limit is None else limit)
    ranks = np.empty(len(predicted), np.int64)
    best = np.empty(len(predicted), np.int64)
    best_d = np.empty(len(predicted), np.float32)
    for start in range(0, len(predicted), chunk):
        block = np.asarray(predicted[start : start + chunk], np.float32)
        true_rows, true_sq = _true_block(
            tiles, blocks.norms, true_idx[start : start + chunk], blocks.size
        )
        padded = jnp.asarray(_pad_rows(block, chunk))
        r, d, i = _rank_chunk(padded, *blocks.arrays, true_rows, true_sq, limit)
        ranks[start : start + len(block)] = np.asarray(r)[: len(block)]
        best[start : start + len(block)] = np.asarray(i)[: len(block)]
        best_d[start : start + len(block)] = np.asarray(d)[: len(block)]
    return ranks, best, best_d


@jax.jit
def _closer_chunk(p, true_rows, true_sq, other_rows, other_sq):
    """For each query row, how many of its other candidates (``other_rows`` (m, size,
    dim): the j-th of each query in the query's own row) are strictly closer than its true
    one. Every distance comes from a product of the blocks' shape, as in _rank_chunk, so
    they round as the scan's do."""
    true_d = jnp.diagonal(_block_distances(p, true_rows, true_sq))

    def other(rows, sq):
        return jnp.diagonal(_block_distances(p, rows, sq)) < true_d

    return jnp.sum(jax.vmap(other)(other_rows, other_sq), axis=0)


def _float32_closer(
    predicted: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    other_idx: np.ndarray,
    chunk: int | None = None,
) -> np.ndarray:
    """:func:`closer_than_true` of the float32 scan (below EXACT_MIN_DIM), consistent with
    :func:`_float32_scan` to the last bit."""
    candidates = np.asarray(candidates, np.float32)
    chunk = chunk or query_chunk(candidates.shape[1])
    blocks_size = block_size(len(candidates), RANK_BLOCK, chunk)  # as tile_ranks' blocks
    norms = np.einsum("ij,ij->i", candidates, candidates)
    other_idx = np.asarray(other_idx, np.int64).reshape(len(predicted), -1)
    counts = np.zeros(len(predicted), np.int64)
    for start in range(0, len(predicted), chunk):
        block = np.asarray(predicted[start : start + chunk], np.float32)
        n = len(block)
        others = other_idx[start : start + chunk]
        true_rows, true_sq = _true_block(
            candidates, norms, true_idx[start : start + chunk], blocks_size
        )
        m = others.shape[1]
        other_rows = np.zeros((m, blocks_size, candidates.shape[1]), np.float32)
        other_sq = np.full((m, blocks_size), np.inf, np.float32)  # -1: never closer
        for j in range(m):
            known = others[:, j] >= 0
            other_rows[j, :n][known] = candidates[others[known, j]]
            other_sq[j, :n][known] = norms[others[known, j]]
        padded = jnp.asarray(_pad_rows(block, chunk))
        c = _closer_chunk(padded, true_rows, true_sq, other_rows, other_sq)
        counts[start : start + n] = np.asarray(c)[:n]
    return counts


def closer_than_true(
    predicted: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    other_idx: np.ndarray,
    chunk: int | None = None,
) -> np.ndarray:
    """For each query, how many of its ``other_idx`` candidates ((n, m) indices, -1 for
    none) are strictly closer than its true one: VIGOR's semi-positives, which its hit
    rate forgives. Decided as :func:`tile_ranks` decides
    (:func:`geovec.analyses.bounded.closer_pairs` from EXACT_MIN_DIM dimensions)."""
    if np.shape(candidates)[1] < EXACT_MIN_DIM:
        return _float32_closer(predicted, candidates, true_idx, other_idx, chunk)
    other_idx = np.asarray(other_idx, np.int64).reshape(len(predicted), -1)
    qi, j = np.nonzero(other_idx >= 0)
    closer = closer_pairs(predicted, candidates, true_idx, qi, other_idx[qi, j])
    return np.bincount(qi, closer, len(predicted)).astype(np.int64)


SUBSET_BYTES = 64 << 20
"""Bytes of gathered candidate rows per jitted call of :func:`subset_rank_best`."""


@jax.jit
def _subset_chunk(p, candidates, norms, members):
    """For each query row, over its own candidates (``members``: (rows, 1 + width)
    indices into ``candidates``: its true one, then its candidates padded with -1): how
    many are strictly closer than the true one, the position of the nearest (the first
    among equals) and its squared distance less |q|^2. One product scores the true one
    and the others, so a candidate equal to the true one ties exactly."""
    rows = jnp.take(candidates, jnp.maximum(members, 0), axis=0)
    sq = jnp.where(members >= 0, jnp.take(norms, jnp.maximum(members, 0)), jnp.inf)
    d = sq - 2.0 * jnp.einsum("qd,qwd->qw", p, rows)
    true_d, d = d[:, :1], d[:, 1:]
    pos = jnp.argmin(d, axis=1)
    return jnp.sum(d < true_d, axis=1), pos, jnp.take_along_axis(d, pos[:, None], axis=1)[:, 0]


def subset_rank_best(
    predicted: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    offsets: np.ndarray,
    members: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Ranks and best candidates when each query has its own candidates (a GPS prior's):
    query i's are ``members[offsets[i]:offsets[i + 1]]`` (indices into ``candidates``,
    ascending). Its rank counts its candidates strictly closer than its true one
    (``true_idx``, an index into ``candidates``); -1 where the true one is not among its
    candidates. Its best (:func:`settle_best`: the true one at rank 0, else the nearest,
    the smallest index among equals) is -1 where it has no candidate. The work grows with
    the candidates kept, not with all of them; a query's candidates are scored in pieces
    of at most ``SUBSET_BYTES`` of rows, so memory stays bounded however many it has."""
    candidates = np.asarray(candidates, np.float32)
    offsets, members = np.asarray(offsets, np.int64), np.asarray(members, np.int64)
    true_idx = np.asarray(true_idx, np.int64)
    n = len(predicted)
    counts = np.diff(offsets)
    ranks, best = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    if n == 0 or not counts.any():
        return ranks, best
    row_bytes = 4 * max(candidates.shape[1], 1)
    cap = max(8, _power_of_two(max(1, SUBSET_BYTES // row_bytes), down=True))
    # work items: (query, first member) pieces of at most `cap` candidates
    pieces = np.maximum(1, -(-counts // cap))
    item_q = np.repeat(np.arange(n), pieces)
    first = np.arange(len(item_q)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    item_start = offsets[item_q] + first * cap
    item_len = np.clip(offsets[item_q + 1] - item_start, 0, cap)
    item_count = np.zeros(len(item_q), np.int64)
    item_pos = np.zeros(len(item_q), np.int64)
    item_d = np.full(len(item_q), np.inf, np.float32)
    all_c = jnp.asarray(candidates)
    all_sq = jnp.asarray(np.einsum("ij,ij->i", candidates, candidates))
    at = 0
    while at < len(item_q):
        width = _power_of_two(max(8, int(item_len[at : at + CHUNK].max())))
        rows = min(CHUNK, _power_of_two(max(1, SUBSET_BYTES // (width * row_bytes)), down=True))
        stop = min(len(item_q), at + rows)
        grid = np.full((rows, 1 + width), -1, np.int64)
        grid[: stop - at, 0] = true_idx[item_q[at:stop]]
        for k in range(at, stop):
            grid[k - at, 1 : 1 + item_len[k]] = members[item_start[k] : item_start[k] + item_len[k]]
        block = _pad_rows(np.asarray(predicted, np.float32)[item_q[at:stop]], rows)
        c, pos, d = _subset_chunk(jnp.asarray(block), all_c, all_sq, jnp.asarray(grid, jnp.int32))
        item_count[at:stop] = np.asarray(c)[: stop - at]
        item_pos[at:stop] = np.asarray(pos)[: stop - at]
        item_d[at:stop] = np.where(item_len[at:stop] > 0, np.asarray(d)[: stop - at], np.inf)
        at = stop
    closer = np.bincount(item_q, weights=item_count, minlength=n).astype(np.int64)
    order = np.lexsort((np.arange(len(item_q)), item_d, item_q))  # nearest, earliest piece
    top = order[np.r_[True, item_q[order][1:] != item_q[order][:-1]]]
    where = np.minimum(item_start[top] + item_pos[top], len(members) - 1)
    nearest = np.where(item_len[top] > 0, members[where], -1)
    inside = np.zeros(n, bool)
    for q in np.nonzero(counts)[0]:
        mine = members[offsets[q] : offsets[q + 1]]
        k = np.searchsorted(mine, true_idx[q])
        inside[q] = k < len(mine) and mine[k] == true_idx[q]
    ranks = np.where(inside, closer, -1)
    best = np.where(counts > 0, np.where(inside & (closer == 0), true_idx, nearest), -1)
    return ranks, best.astype(np.int64)


def _power_of_two(value: int, down: bool = False) -> int:
    """The power of two at or above ``value`` (at or below it with ``down``): few shapes,
    few compilations."""
    up = 1 << max(0, int(value) - 1).bit_length()
    return up if not down or up == value else max(1, up >> 1)


def nearest_indices(
    queries: np.ndarray, candidates: np.ndarray, k: int, chunk: int = CHUNK
) -> np.ndarray:
    """(queries, k) indices of each query row's k nearest ``candidates`` rows, nearest
    first (Euclidean, exact; k capped at the number of candidates)."""
    k = min(k, len(candidates))
    if k < 1:
        raise GeovecError("no candidates to search")
    blocks = _Blocks.of(candidates, KNN_BLOCK)
    out = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), chunk):
        block = np.asarray(queries[start : start + chunk], np.float32)
        idx = _knn_chunk(jnp.asarray(_pad_rows(block, chunk)), *blocks.arrays, k)
        out[start : start + len(block)] = np.asarray(idx)[: len(block)]
    return out
