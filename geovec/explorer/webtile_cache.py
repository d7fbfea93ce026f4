"""Where the explorer keeps its web-tile pyramid (:mod:`geovec.geo.pyramid`) and which
one it answers from: ``<store>/.geovec-cache/webtiles/<key>/`` (or
``$GEOVEC_CACHE/<store name>-<hash of its path>/webtiles/<key>/`` when GEOVEC_CACHE is
set), ``<key>`` naming what the tiles are drawn from, so a new map table version whose
tiles or image files differ starts a new pyramid and an unchanged one (a feature column
added) keeps it. The map table's version is looked at once a second at most; where the
folder cannot be written, tiles are kept in memory only."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from geovec.geo.pyramid import WebTilePyramid, content_key
from geovec.geo.webtiles import MapTiles
from geovec.store import Store

CHECK_EVERY_S = 1.0
"""Seconds between looks at the map table's version."""
CACHE_ENV = "GEOVEC_CACHE"
"""The environment variable naming a cache folder to use instead of the store's own."""


def cache_root(store_path: str | Path) -> Path:
    """The explorer's cache folder for the store at ``store_path``."""
    store_path = Path(store_path)
    base = os.environ.get(CACHE_ENV)
    if not base:
        return store_path / ".geovec-cache"
    resolved = str(store_path.resolve())
    digest = hashlib.sha256(resolved.encode()).hexdigest()[:12]
    return Path(base) / f"{store_path.name or 'store'}-{digest}"


class WebTileCache:
    """The web tiles of ``store``'s map table: ``read_tiles()`` gives its tiles (read
    again when the table's version changes), ``readable(path)`` may refuse a file."""

    def __init__(
        self,
        store: Store,
        read_tiles: Callable[[], MapTiles],
        readable: Callable[[str], bool] = bool,
        root: Path | None = None,
    ):
        self.store = store
        self.read_tiles = read_tiles
        self.readable = readable
        self.root = Path(root) if root is not None else cache_root(store.path)
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._checked = -float("inf")
        self._pyramid: WebTilePyramid | None = None

    def _map_version(self) -> tuple | None:
        return self.store.version_token("map")

    def pyramid(self) -> WebTilePyramid:
        """The pyramid of the map table as it is now (its version looked at once a second
        at most)."""
        with self._lock:
            now = time.monotonic()
            if self._pyramid is not None and now - self._checked < CHECK_EVERY_S:
                return self._pyramid
            version = self._map_version()
            self._checked = now
            if self._pyramid is None or version != self._version:
                tiles = self.read_tiles()
                key = content_key(tiles)
                if self._pyramid is None or self._pyramid.folder.name != key:
                    folder = self.root / "webtiles" / key
                    self._pyramid = WebTilePyramid(tiles, folder, readable=self.readable)
                self._version = version
            return self._pyramid

    def map_tiles(self) -> MapTiles:
        """The map tiles the current pyramid is drawn from."""
        return self.pyramid().tiles

    def png(self, z: int, x: int, y: int) -> bytes | None:
        """Web tile z/x/y (PNG), None where no map tile covers it."""
        return self.pyramid().png(z, x, y)
