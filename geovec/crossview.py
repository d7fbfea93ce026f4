"""Cross-view localisation (paper, Section 4.3) and its evaluation.

For a ground query: its K nearest ground images of the training set (Euclidean, by the
chosen feature), the mean of the same feature of their paired aerial (``overhead``)
images, and the Euclidean distance from that mean to every ``map`` tile of the region.
The rank of the true tile (the one whose footprint contains the query) is the number of
candidates strictly closer than it, so ties do not hurt.

All of it runs as chunked, jit-compiled JAX matmuls with fixed chunk shapes: a chunk of
queries scans the candidates block by block, so each block's distances stay in cache and
neither the queries x ground nor the queries x tiles matrix is ever held in full (nor
even one chunk's row of it).

>>> result = evaluate(geovec.open("geo"), "gist")          # doctest: +SKIP
>>> result.top_1_percent, result.recall
(0.31, {'1': 0.05, '5': 0.2, '10': 0.3})
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from geovec.errors import GeovecError
from geovec.isolation import region_frames
from geovec.sql import connect, run_query
from geovec.store import Store

DEFAULT_FEATURE = "places_fc8"
DEFAULT_NEIGHBORS = 30
CHUNK = 256
RECALL_AT = (1, 5, 10)


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
        size = max(min(size, -(-n // SUB_BLOCK) * SUB_BLOCK), -(-at_least // SUB_BLOCK) * SUB_BLOCK)
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
    chunk: int = CHUNK,
    keep_scores: bool = False,
):
    """Rank of each query's true tile among all tiles (candidates strictly closer).

    With ``keep_scores`` also returns the (queries, tiles) distances, for heatmaps of a
    few queries; evaluation never asks for them.
    """
    tiles = np.asarray(tiles, np.float32)
    blocks = _Blocks.of(tiles, RANK_BLOCK, at_least=chunk)  # a row per query (true block)
    ranks = np.empty(len(predicted), np.int64)
    scores = [] if keep_scores else None
    if keep_scores:
        all_tiles, all_sq = jnp.asarray(tiles), jnp.asarray(blocks.norms)
    for start in range(0, len(predicted), chunk):
        block = np.asarray(predicted[start : start + chunk], np.float32)
        truth = np.asarray(true_idx[start : start + chunk])
        true_rows = np.zeros((blocks.size, tiles.shape[1]), np.float32)
        true_rows[: len(block)] = tiles[truth]
        true_sq = np.zeros(blocks.size, np.float32)
        true_sq[: len(block)] = blocks.norms[truth]
        padded = jnp.asarray(_pad_rows(block, chunk))
        r = _rank_chunk(padded, *blocks.arrays, true_rows, true_sq)
        ranks[start : start + len(block)] = np.asarray(r)[: len(block)]
        if keep_scores:
            d = _scores_chunk(padded, all_tiles, all_sq)
            q_sq = np.sum(np.asarray(block, np.float64) ** 2, axis=1, keepdims=True)
            scores.append(np.sqrt(np.maximum(np.asarray(d)[: len(block)] + q_sq, 0)))
    return (ranks, np.concatenate(scores)) if keep_scores else ranks


def localisation_curve(
    ranks: np.ndarray, candidates: np.ndarray, points: int = 101
) -> list[list[float]]:
    """[[percent of candidates retrieved, fraction of queries localised], ...] for 0..100 %.

    A query counts as localised at p % when its true tile is among the top p % of its
    region's candidates: (rank + 1) / N * 100 <= p.
    """
    ranks = np.asarray(ranks)
    needed = (ranks + 1) / np.asarray(candidates) * 100.0
    grid = np.linspace(0, 100, points)
    if len(ranks) == 0:
        return [[float(p), 0.0] for p in grid]
    return [[float(p), float(np.mean(needed <= p + 1e-9))] for p in grid]


def top_one_percent(ranks: np.ndarray, candidates: np.ndarray) -> float:
    """Fraction of queries whose rank is below max(1, floor(N / 100))."""
    if len(ranks) == 0:
        return 0.0
    limit = np.maximum(1, np.asarray(candidates) // 100)
    return float(np.mean(np.asarray(ranks) < limit))


def chance_top_one_percent(candidates: np.ndarray) -> float:
    """The top-1 % that random ranking would score on average, over queries with N
    candidates each: mean of max(1, floor(N / 100)) / N."""
    candidates = np.asarray(candidates)
    if candidates.size == 0:
        return 0.0
    return float(np.mean(np.maximum(1, candidates // 100) / candidates))


def area_under_curve(curve: list[list[float]]) -> float:
    """Mean fraction of queries localised over 0..100 % of candidates retrieved: 1 when every
    true tile ranks first, about 0.5 for random ranking."""
    return float(np.mean([fraction for _, fraction in curve])) if curve else 0.0


def recall_at(ranks: np.ndarray, ks=RECALL_AT) -> dict[str, float]:
    """{"1": R@1, "5": R@5, "10": R@10}: fraction of queries with rank < k."""
    ranks = np.asarray(ranks)
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else 0.0 for k in ks}


@dataclasses.dataclass
class RegionData:
    """One region's cross-view inputs, all by the same feature."""

    region: str | None
    crs: str  # the region's metric CRS (proj string)
    isolated: int  # isolated ground images of the region, with or without a usable query
    query_ids: list[str]
    queries: np.ndarray
    true_idx: np.ndarray
    train_ids: list[str]
    train_ground: np.ndarray
    train_aerial: np.ndarray
    tile_ids: list[str]
    tiles: np.ndarray
    tile_lonlat: np.ndarray


@dataclasses.dataclass
class Evaluation:
    """Cross-view localisation results (JSON keys as in DESIGN.md)."""

    feature: str
    neighbors: int
    queries: int
    candidates: int
    top_1_percent: float
    recall: dict[str, float]
    curve: list[list[float]]
    regions: dict[str, dict]
    skipped: int = 0  # isolated queries outside every tile footprint
    chance_top_1_percent: float = 0.0  # what random ranking would score
    area_under_curve: float = 0.0  # 0.5 for random ranking, 1 for perfect

    def summary(self) -> str:
        """One line with the headline numbers beside what chance would give."""
        return (
            f"{self.feature}: top-1% {self.top_1_percent:.3f} (chance "
            f"{self.chance_top_1_percent:.3f}), R@1 {self.recall['1']:.3f}, R@5 "
            f"{self.recall['5']:.3f}, R@10 {self.recall['10']:.3f}, area under curve "
            f"{self.area_under_curve:.3f} (chance 0.5); {self.queries} queries, "
            f"{self.candidates} candidates"
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _positions(ids: list[str]) -> dict[str, int]:
    return {ident: i for i, ident in enumerate(ids)}


def containing_tiles(
    con, region: str | None, crs: str, points: list[tuple[str, float, float]]
) -> dict[str, str]:
    """{point id: id of the region's map tile whose footprint contains it} for (id, lon,
    lat) points in decimal degrees; points outside every footprint are left out."""
    if not points:
        return {}
    ids, lons, lats = (list(column) for column in zip(*points))
    rows = run_query(con, "containing_tiles", region=region, crs=crs, ids=ids, lons=lons, lats=lats)
    return dict(zip(rows.column("id").to_pylist(), rows.column("tile_id").to_pylist()))


def load_region_data(store: Store, feature: str, region: str | None = None) -> list[RegionData]:
    """Queries (isolated ground), training pairs (non-isolated ground with an overhead
    image) and tiles of each region, by ``feature``."""
    for view in ("ground", "overhead", "map"):
        if not store.count(view):
            raise GeovecError(
                f"{store.path} has no {view} images; cross-view needs all three views"
            )
        store.require_feature(view, feature)
    ground = store.read("ground", ["id", "region", "isolated", "lon", "lat"]).to_pylist()
    if all(r["isolated"] is None for r in ground):
        raise GeovecError(f"no test set yet: run geovec isolate {store.path} first")
    g_ids, g_vec = store.vectors("ground", feature)
    o_ids, o_vec = store.vectors("overhead", feature)
    m_ids, m_vec = store.vectors("map", feature)
    g_at, o_at, m_at = _positions(g_ids), _positions(o_ids), _positions(m_ids)
    maps = store.read("map", ["id", "region", "lon", "lat"]).to_pylist()
    with connect(store) as con:
        frames = region_frames(con)
        out = []
        for reg, crs in frames:
            if region is not None and reg != region:
                continue
            rows = [r for r in ground if r["region"] == reg]
            true_tile = containing_tiles(
                con, reg, crs, [(r["id"], r["lon"], r["lat"]) for r in rows if r["isolated"]]
            )
            tiles = [m for m in maps if m["region"] == reg and m["id"] in m_at]
            tile_pos = {m["id"]: i for i, m in enumerate(tiles)}
            queries = [
                r["id"]
                for r in rows
                if r["isolated"] and r["id"] in g_at and true_tile.get(r["id"]) in tile_pos
            ]
            train = [
                r["id"]
                for r in rows
                if r["isolated"] is False and r["id"] in g_at and r["id"] in o_at
            ]
            out.append(
                RegionData(
                    region=reg,
                    crs=crs,
                    isolated=sum(1 for r in rows if r["isolated"]),
                    query_ids=queries,
                    queries=take_rows(g_vec, [g_at[i] for i in queries]),
                    true_idx=np.array([tile_pos[true_tile[i]] for i in queries], np.int64),
                    train_ids=train,
                    train_ground=take_rows(g_vec, [g_at[i] for i in train]),
                    train_aerial=take_rows(o_vec, [o_at[i] for i in train]),
                    tile_ids=[m["id"] for m in tiles],
                    tiles=take_rows(m_vec, [m_at[m["id"]] for m in tiles]),
                    tile_lonlat=np.array([[m["lon"], m["lat"]] for m in tiles]),
                )
            )
    if region is not None and not out:
        raise GeovecError(f"no region {region!r} in {store.path}")
    return out


def evaluate(
    store: Store,
    feature: str = DEFAULT_FEATURE,
    neighbors: int = DEFAULT_NEIGHBORS,
    region: str | None = None,
) -> Evaluation:
    """Rank every isolated ground image's true tile; curve, top-1 % and recall@1/5/10."""
    if neighbors < 1:
        raise GeovecError("--neighbors must be at least 1")
    data = load_region_data(store, feature, region)
    all_ranks, all_n, per_region = [], [], {}
    for d in data:
        n = len(d.tile_ids)
        ranks = np.zeros(0, np.int64)
        if len(d.query_ids) and len(d.train_ids) and n:
            predicted = neighbour_mean(d.queries, d.train_ground, d.train_aerial, neighbors)
            ranks = tile_ranks(predicted, d.tiles, d.true_idx)
        all_ranks.append(ranks)
        all_n.append(np.full(len(ranks), n))
        per_region[str(d.region)] = {
            "queries": len(ranks),
            "candidates": n,
            "training": len(d.train_ids),
            "top_1_percent": top_one_percent(ranks, n),
            "recall": recall_at(ranks),
            "median_rank": float(np.median(ranks)) if len(ranks) else None,
        }
    ranks = np.concatenate(all_ranks) if all_ranks else np.zeros(0, np.int64)
    counts = np.concatenate(all_n) if all_n else np.zeros(0, np.int64)
    if len(ranks) == 0:
        raise GeovecError("no isolated query has a feature, a training set and a containing tile")
    curve = localisation_curve(ranks, counts)
    return Evaluation(
        feature=feature,
        neighbors=neighbors,
        queries=len(ranks),
        candidates=int(sum(len(d.tile_ids) for d in data)),
        top_1_percent=top_one_percent(ranks, counts),
        recall=recall_at(ranks),
        curve=curve,
        regions=per_region,
        skipped=sum(d.isolated for d in data) - len(ranks),
        chance_top_1_percent=chance_top_one_percent(counts),
        area_under_curve=area_under_curve(curve),
    )
