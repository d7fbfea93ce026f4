"""The inputs of cross-view localisation, region by region: the queries (isolated ground
images with a containing tile), the training pairs (non-isolated ground images and their
overhead images) and the map tiles, each as a matrix of one feature."""

from __future__ import annotations

import dataclasses

import numpy as np

from geovec.analyses.dead_ends import missing_view
from geovec.analyses.knn import take_rows
from geovec.analyses.regions import containing_tiles, region_frames
from geovec.errors import GeovecError
from geovec.store import Store
from geovec.store.filters import id_filter
from geovec.store.regions import region_filter, region_key, region_label


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
    tile_paths: list[str | None] = dataclasses.field(default_factory=list)
    tile_size_m: np.ndarray | None = None  # footprint side, metres (NaN where unknown)
    train_lonlat: np.ndarray | None = None  # (len(train_ids), 2) decimal degrees; NaN: none
    query_lonlat: np.ndarray | None = None  # (len(query_ids), 2) decimal degrees


def _positions(ids: list[str]) -> dict[str, int]:
    return {ident: i for i, ident in enumerate(ids)}


def _or_nan(value) -> float:
    return np.nan if value is None else float(value)


def _vectors_of(store: Store, view: str, feature: str, ids: list[str], chunk: int = 2000):
    """(ids, matrix) of ``feature`` for the rows of ``view`` among ``ids``, read in chunks
    of filters."""
    found, parts = [], []
    for start in range(0, len(ids), chunk):
        got, matrix = store.vectors(view, feature, id_filter(ids[start : start + chunk]))
        found += got
        parts.append(matrix)
    dim = store.require_feature(view, feature)
    return found, np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)


def load_region_data(
    store: Store, feature: str, region: str | None = None, aerial_feature: str | None = None
) -> list[RegionData]:
    """Queries (isolated ground), training pairs (non-isolated ground with an overhead
    image) and tiles of each region: the ground by ``feature``, the overhead images and
    tiles by ``aerial_feature`` (default: the same). Given a ``region``, only its rows
    and vectors are read (the overhead images: those its pairs name)."""
    aerial_feature = aerial_feature or feature
    for view in ("ground", "overhead", "map"):
        if not store.count(view):
            raise GeovecError(missing_view(store, view, aerial_feature))
        store.require_feature(view, feature if view == "ground" else aerial_feature)
    if all(r is None for r in store.read("ground", ["isolated"]).column("isolated").to_pylist()):
        raise GeovecError(
            f"no test set yet: isolate the test images first (geovec isolate {store.path})"
        )
    only = None if region is None else region_filter(region)
    columns = ["id", "region", "isolated", "lon", "lat", "pair"]
    ground = store.read("ground", columns, only).to_pylist()
    g_ids, g_vec = store.vectors("ground", feature, only)
    if region is None:
        o_ids, o_vec = store.vectors("overhead", aerial_feature)
    else:  # the overhead images the region's training photos name, wherever they are
        named = sorted({r["pair"] for r in ground if r["pair"] is not None})
        o_ids, o_vec = _vectors_of(store, "overhead", aerial_feature, named)
    m_ids, m_vec = store.vectors("map", aerial_feature, only)
    g_at, o_at, m_at = _positions(g_ids), _positions(o_ids), _positions(m_ids)
    columns = ["id", "region", "lon", "lat", "path", "size_m"]
    maps = store.read("map", columns, only).to_pylist()
    with store.cursor() as con:
        frames = region_frames(con)
        out = []
        for reg, crs in frames:
            if region is not None and reg != region_key(region):
                continue
            rows = [r for r in ground if r["region"] == reg]
            true_tile = containing_tiles(
                con, [(r["id"], r["lon"], r["lat"]) for r in rows if r["isolated"]], region=reg
            )
            tiles = [m for m in maps if m["region"] == reg and m["id"] in m_at]
            tile_pos = {m["id"]: i for i, m in enumerate(tiles)}
            queries = [
                r["id"]
                for r in rows
                if r["isolated"] and r["id"] in g_at and true_tile.get(r["id"]) in tile_pos
            ]
            at_row = {r["id"]: r for r in rows}
            trained = [  # training pairs: the ground image and the overhead image its pair names
                r for r in rows if r["isolated"] is False and r["id"] in g_at and r["pair"] in o_at
            ]
            train = [(r["id"], r["pair"]) for r in trained]
            out.append(
                RegionData(
                    region=reg,
                    crs=crs,
                    isolated=sum(1 for r in rows if r["isolated"]),
                    query_ids=queries,
                    queries=take_rows(g_vec, [g_at[i] for i in queries]),
                    true_idx=np.array([tile_pos[true_tile[i]] for i in queries], np.int64),
                    train_ids=[g for g, _ in train],
                    train_ground=take_rows(g_vec, [g_at[g] for g, _ in train]),
                    train_aerial=take_rows(o_vec, [o_at[o] for _, o in train]),
                    tile_ids=[m["id"] for m in tiles],
                    tiles=take_rows(m_vec, [m_at[m["id"]] for m in tiles]),
                    tile_lonlat=np.array([[m["lon"], m["lat"]] for m in tiles]),
                    tile_paths=[m["path"] for m in tiles],
                    tile_size_m=np.array(
                        [np.nan if m["size_m"] is None else m["size_m"] for m in tiles], float
                    ),
                    train_lonlat=np.array(
                        [[_or_nan(r["lon"]), _or_nan(r["lat"])] for r in trained], float
                    ).reshape(-1, 2),
                    query_lonlat=np.array(
                        [[at_row[i]["lon"], at_row[i]["lat"]] for i in queries], float
                    ).reshape(-1, 2),
                )
            )
    if region is not None and not out:
        have = ", ".join(region_label(reg) for reg, _ in frames) or "none"
        raise GeovecError(f"no region {region_label(region)!r} in {store.path} (has: {have})")
    return out
