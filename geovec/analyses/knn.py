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
def _rank_chunk(p, rows, sq, tail, tail_sq, true_rows, true_sq):
    """Candidates strictly closer than the true one, per query row, in one scan.

    ``true_rows`` holds each query's true candidate in the query's own row, in a block of
    the same shape as the others: the same product computes the true distance as computes
    every other, so a candidate equal to the true one ties exactly.
    """
    true_d = jnp.diagonal(_block_distances(p, true_rows, true_sq))[:, None]

    def block(count, inputs):
        block_rows, s, _ = inputs
        return count + jnp.sum(_block_distances(p, block_rows, s) < true_d, axis=1), None

    count, _ = _over_blocks(block, jnp.zeros(p.shape[0], jnp.int32), rows, sq, tail, tail_sq)
    return count


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
    tiles = np.asarray(tiles, np.float32)
    chunk = chunk or query_chunk(tiles.shape[1])
    blocks = _Blocks.of(tiles, RANK_BLOCK, at_least=chunk)  # a row per query (true block)
    ranks = np.empty(len(predicted), np.int64)
    scores = [] if keep_scores else None
    if keep_scores:
        all_tiles, all_sq = jnp.asarray(tiles), jnp.asarray(blocks.norms)
    for start in range(0, len(predicted), chunk):
        block = np.asarray(predicted[start : start + chunk], np.float32)
        true_rows, true_sq = _true_block(
            tiles, blocks.norms, true_idx[start : start + chunk], blocks.size
        )
        padded = jnp.asarray(_pad_rows(block, chunk))
        r = _rank_chunk(padded, *blocks.arrays, true_rows, true_sq)
        ranks[start : start + len(block)] = np.asarray(r)[: len(block)]
        if keep_scores:
            d = _scores_chunk(padded, all_tiles, all_sq)
            q_sq = np.sum(np.asarray(block, np.float64) ** 2, axis=1, keepdims=True)
            scores.append(np.sqrt(np.maximum(np.asarray(d)[: len(block)] + q_sq, 0)))
    return (ranks, np.concatenate(scores)) if keep_scores else ranks


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


def closer_than_true(
    predicted: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    other_idx: np.ndarray,
    chunk: int | None = None,
) -> np.ndarray:
    """For each query, how many of its ``other_idx`` candidates ((n, m) indices, -1 for
    none) are strictly closer than its true one: VIGOR's semi-positives, which its hit
    rate forgives. Consistent with :func:`tile_ranks` to the last bit."""
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
