"""The aerial base layer (``/api/tiles/{z}/{x}/{y}.png``): the store's map tiles drawn as
web-map (XYZ) tiles, each aerial square carried into Web Mercator through its own frame
(:func:`geovec.geo.webtiles.render_web_tile`), at every zoom for a bounded cost: from a
pyramid kept on disk beside the store (:mod:`geovec.explorer.webtile_cache`,
:mod:`geovec.geo.pyramid`), coarse tiles their children downsampled."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from geovec.explorer.files import servable
from geovec.explorer.requests import RequestError
from geovec.explorer.webtile_cache import WebTileCache
from geovec.geo.webtiles import TILE_PX, MapTiles, png_bytes
from geovec.store import Store

MAX_ZOOM = 24
"""Deepest web zoom served."""


class BaseMap:
    """The map tiles' positions of ``store`` (read again when the map table changes) and
    the web tiles drawn from them."""

    def __init__(self, store: Store):
        self.store = store
        self.cache = WebTileCache(store, lambda: read_map_tiles(store), readable=_readable)

    def map_tiles(self) -> MapTiles:
        """Centres, sides and files of the store's map tiles."""
        return self.cache.map_tiles()

    def web_tile(self, z: int, x: int, y: int) -> bytes | None:
        """Web-map tile z/x/y (PNG) of the aerial base layer, None where no tile covers it."""
        if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
            raise RequestError(f"no web tile {z}/{x}/{y}")
        return self.cache.png(z, x, y)


def read_map_tiles(store: Store) -> MapTiles:
    """The located map tiles of ``store``: ids, centres (lon, lat), sides (metres; the
    median where one has none) and paths."""
    if not store.has("map"):
        return MapTiles([], np.zeros(0), np.zeros(0), np.zeros(0), [])
    rows = store.read("map", ["id", "lon", "lat", "size_m", "path"])
    rows = rows.filter(pa.compute.is_valid(rows.column("lon")))
    size = rows.column("size_m").to_numpy(zero_copy_only=False).astype(float)
    size = np.where(np.isfinite(size), size, np.nanmedian(size) if np.isfinite(size).any() else 0)
    return MapTiles(
        rows.column("id").to_pylist(),
        rows.column("lon").to_numpy(zero_copy_only=False).astype(float),
        rows.column("lat").to_numpy(zero_copy_only=False).astype(float),
        size,
        rows.column("path").to_pylist(),
    )


@functools.cache
def empty_tile() -> bytes:
    """A transparent web tile (PNG), sent where no map tile covers."""
    from PIL import Image

    return png_bytes(Image.new("RGBA", (TILE_PX, TILE_PX), (0, 0, 0, 0)))


def _readable(path: str) -> bool:
    return servable(path) is not None
