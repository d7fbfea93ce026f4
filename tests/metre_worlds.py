"""Small stores for the metre-level metrics (issue 20: error in metres, GPS priors), with
their ground truth in plain arrays for independent numpy/pyproj recomputations.

Both worlds sit at 61 N across the antimeridian (tile centres and photos on both sides of
it) and use integer features 0..4: exact arithmetic on every side, many exact ties.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from pyproj import Geod, Proj

import geovec
from tests.stores import add_rows

GEOD = Geod(ellps="WGS84")
CENTRE = (179.998, 61.0)
DIM = 6
TILE_M = 300.0


def _aeqd(lon: float, lat: float) -> Proj:
    return Proj(proj="aeqd", lon_0=lon, lat_0=lat, ellps="WGS84")


def _lonlat(frame: Proj, east, north) -> np.ndarray:
    lon, lat = frame(np.asarray(east, float), np.asarray(north, float), inverse=True)
    lon = (np.asarray(lon) + 180.0) % 360.0 - 180.0
    return np.column_stack([lon, lat])


@dataclasses.dataclass
class MapWorld:
    store: object
    tile_ids: list[str]
    tile_lonlat: np.ndarray
    tiles: np.ndarray
    query_ids: list[str]
    query_lonlat: np.ndarray
    queries: np.ndarray
    true_tile: list[int]  # index into tile_ids


def map_world(path, seed: int = 3, grid: int = 6, queries: int = 40) -> MapWorld:
    """A ``grid`` x ``grid`` square of 300 m tiles around CENTRE; ``queries`` isolated
    photos (split test), each within 100 m (in its tile's own aeqd frame) of a random
    tile's centre, its feature that tile's plus noise of -2..2; two training pairs (the
    map protocol's direct method needs none, the store needs all three views) and one
    isolated photo outside every tile."""
    rng = np.random.default_rng(seed)
    centre = _aeqd(*CENTRE)
    steps = (np.arange(grid) - (grid - 1) / 2) * TILE_M
    east, north = np.meshgrid(steps, steps)
    tile_lonlat = _lonlat(centre, east.ravel(), north.ravel())
    tiles = rng.integers(0, 5, (grid * grid, DIM)).astype(np.float32)
    tile_ids = [f"t{i:02d}" for i in range(grid * grid)]
    true = rng.integers(0, grid * grid, queries)
    offsets = rng.uniform(-100, 100, (queries, 2))
    query_lonlat = np.vstack(
        [_lonlat(_aeqd(*tile_lonlat[t]), [o[0]], [o[1]]) for t, o in zip(true, offsets)]
    )
    q = np.clip(tiles[true] + rng.integers(-2, 3, (queries, DIM)), 0, 4).astype(np.float32)
    query_ids = [f"q{i:02d}" for i in range(queries)]
    store = geovec.open(path)
    add_rows(
        store,
        "map",
        [
            {"id": i, "region": "r", "lon": lo, "lat": la, "size_m": TILE_M}
            for i, (lo, la) in zip(tile_ids, tile_lonlat)
        ],
        {"gist": tiles},
    )
    far = _lonlat(centre, [20_000.0], [0.0])[0]
    ground = [
        {"id": i, "region": "r", "lon": lo, "lat": la, "isolated": True, "split": "test"}
        for i, (lo, la) in zip(query_ids, query_lonlat)
    ]
    ground.append({"id": "outside", "region": "r", "lon": far[0], "lat": far[1], "isolated": True})
    ground += [
        {"id": f"g{k}", "region": "r", "lon": far[0], "lat": far[1], "isolated": False,
         "split": "train", "pair": f"o{k}"}
        for k in range(2)
    ]  # fmt: skip
    g_vec = np.vstack([q, np.zeros((3, DIM), np.float32)])
    add_rows(store, "ground", ground, {"gist": g_vec})
    add_rows(
        store,
        "overhead",
        [{"id": f"o{k}", "region": "r", "lon": far[0], "lat": far[1]} for k in range(2)],
        {"gist": np.ones((2, DIM), np.float32)},
    )
    return MapWorld(store, tile_ids, tile_lonlat, tiles, query_ids, query_lonlat, q, list(true))


@dataclasses.dataclass
class PairWorld:
    store: object
    aerial_ids: list[str]
    aerial_lonlat: np.ndarray  # NaN where the aerial has no position
    aerials: np.ndarray
    query_ids: list[str]
    query_lonlat: np.ndarray  # NaN where the photo has no position
    queries: np.ndarray
    true: list[int]  # index into aerial_ids


def pair_world(path, seed: int = 4, aerials: int = 50, queries: int = 40) -> PairWorld:
    """``aerials`` aerial images (split test) scattered over 3 km around CENTRE, the last
    three without a position; ``queries`` ground photos (split test), each paired with a
    random aerial and within 30 m of it, the first five without a position."""
    rng = np.random.default_rng(seed)
    centre = _aeqd(*CENTRE)
    a_lonlat = _lonlat(centre, *rng.uniform(-1500, 1500, (2, aerials)))
    a_lonlat[-3:] = np.nan
    a_vec = rng.integers(0, 5, (aerials, DIM)).astype(np.float32)
    a_ids = [f"a{i:02d}" for i in range(aerials)]
    true = rng.integers(0, aerials - 3, queries)  # photos of aerials with a position
    q_lonlat = np.vstack(
        [_lonlat(_aeqd(*a_lonlat[t]), *rng.uniform(-20, 20, (2, 1))) for t in true]
    )
    q_lonlat[:5] = np.nan
    q_vec = np.clip(a_vec[true] + rng.integers(-1, 2, (queries, DIM)), 0, 4).astype(np.float32)
    q_ids = [f"p{i:02d}" for i in range(queries)]

    def value(v):
        return None if np.isnan(v) else float(v)

    store = geovec.open(path)
    add_rows(
        store,
        "overhead",
        [
            {"id": i, "lon": value(lo), "lat": value(la), "split": "test"}
            for i, (lo, la) in zip(a_ids, a_lonlat)
        ],
        {"gist": a_vec},
    )
    add_rows(
        store,
        "ground",
        [
            {"id": i, "lon": value(lo), "lat": value(la), "split": "test", "pair": a_ids[t]}
            for i, (lo, la), t in zip(q_ids, q_lonlat, true)
        ],
        {"gist": q_vec},
    )
    return PairWorld(store, a_ids, a_lonlat, a_vec, q_ids, q_lonlat, q_vec, list(true))


def squared(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The full (queries, candidates) matrix of squared Euclidean distances, float64."""
    q, c = np.asarray(queries, np.float64), np.asarray(candidates, np.float64)
    return ((q[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)


def rank_best(d: np.ndarray, true: int, allowed=None) -> tuple[int | None, int | None]:
    """The community's rank of the true candidate among ``allowed`` (all by default:
    strictly closer ones) and the best candidate: the true one at rank 0, else the
    nearest (the first in order among equals). Rank None where the true one is not
    allowed; best None where nothing is."""
    allowed = np.arange(len(d)) if allowed is None else np.asarray(allowed, np.int64)
    if len(allowed) == 0:
        return None, None
    rank = int((d[allowed] < d[true]).sum()) if true in allowed else None
    best = true if rank == 0 else int(allowed[np.argmin(d[allowed])])
    return rank, best


def geodesic(lonlat_a, lonlat_b) -> float:
    """pyproj's WGS84 geodesic in metres (NaN where a position is unknown)."""
    if np.isnan(lonlat_a).any() or np.isnan(lonlat_b).any():
        return float("nan")
    return float(GEOD.inv(lonlat_a[0], lonlat_a[1], lonlat_b[0], lonlat_b[1])[2])
