"""Web tiles at every zoom for a bounded cost: a pyramid of the map tiles' web tiles, built
lazily and kept on disk, so that no request redraws thousands of map tiles.

- From the native zoom (:meth:`MapTiles.native_zoom`, where a typical map tile spans
  ``MIN_PIXELS_PER_TILE`` web pixels) to ``ZOOMS_ABOVE_NATIVE`` zooms finer, a web tile
  is drawn from the map tiles it overlaps (:func:`render_web_tile`), each from its image
  reduced once to the size it spans at that zoom (kept on disk too: a map PNG is decoded
  once per size, not once per web tile).
- Coarser zooms: a web tile is its four children downsampled (box filter), recursively;
  a subtree that no map tile's footprint meets is empty without being visited. The first
  coarse tile costs the native tiles beneath it; every later one its four children.
- Finer than the finest drawn zoom (far finer than the images): the tile is cut from its
  ancestor at that zoom and scaled up; no map image is read.

Everything lives under one folder per content key (:func:`content_key`: the tiles' ids,
places, sides, files and the files' sizes and times), so a changed table or image file
starts a new pyramid. Writes are atomic (a temporary file, then ``os.replace``), so two
server processes can share a folder; within a process, concurrent requests for one
uncached tile compute it once (a lock per tile). Without a folder (a read-only place)
tiles are kept only in memory. Memory use is bounded: ``MEMORY_BYTES`` of tiles and as
many of reduced images, least recently used first out.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import mercantile
import numpy as np
from PIL import Image

from geovec.geo.webtiles import (
    TILE_PX,
    MapTiles,
    padded,
    png_bytes,
    reduced_image,
    render_web_tile,
)

ZOOMS_ABOVE_NATIVE = 5
"""Zooms finer than the native one drawn from the map images (at native + 5 a typical
map tile spans 384 to 768 web pixels, beyond a 256 px image's own detail); finer tiles
are their ancestor at that zoom, scaled up."""
MEMORY_BYTES = 32 * 2**20
"""Bytes of encoded web tiles, and as many of decoded reduced images, kept in memory."""
FORMAT = "1"
"""Bumped when the drawing changes, so that old pyramids are not reused."""
STALE_AFTER_S = 7 * 24 * 3600
"""A sibling pyramid folder unused this long (seconds) is removed when a new one starts."""
_log = logging.getLogger("geovec.geo.pyramid")


def content_key(tiles: MapTiles) -> str:
    """A short hex key of what the web tiles are drawn from: ids, centres, sides and files
    of the map tiles, with each file's size and modification time (a missing file
    counts as such)."""
    digest = hashlib.sha256(FORMAT.encode())
    for array in (tiles.lon, tiles.lat, tiles.size_m):
        digest.update(np.ascontiguousarray(array, np.float64).tobytes())
    for ident, path in zip(tiles.ids, tiles.paths):
        try:
            stat = os.stat(path) if path else None
            signature = f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "-"
        except OSError:
            signature = "-"
        digest.update(f"\0{ident}\0{path}\0{signature}".encode())
    return digest.hexdigest()[:20]


class BytesLRU:
    """A thread-safe least-recently-used mapping bounded by the bytes of its values
    (``size(value)``)."""

    def __init__(self, limit: int, size: Callable[[object], int]):
        self.limit = limit
        self._size = size
        self._items: collections.OrderedDict = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        size = self._size(value)
        with self._lock:
            if key in self._items:
                self._bytes -= self._size(self._items.pop(key))
            if size > self.limit:
                return
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.limit:
                _, old = self._items.popitem(last=False)
                self._bytes -= self._size(old)

    @property
    def bytes(self) -> int:
        return self._bytes


class KeyLocks:
    """One lock per key, made on first use and dropped when nobody holds or waits on it."""

    def __init__(self):
        self._locks: dict = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def hold(self, key):
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    del self._locks[key]


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file in its folder and os.replace
    (readers see the whole file or none); False, logged, when the folder is not
    writable (a cache is optional)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as fh:
            fh.write(data)
        os.replace(fh.name, path)
        return True
    except OSError as exc:
        _log.debug("cannot cache %s: %s", path, exc)
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(fh.name)
        return False


def _image_bytes(image) -> int:
    return 64 if image is None else image.width * image.height * 4


def _len_bytes(data) -> int:
    return 64 + len(data or b"")


class WebTilePyramid:
    """The web tiles of ``tiles`` at every zoom (see the module), kept under ``folder``
    (None: in memory only). ``readable(path)`` may refuse a map tile's file."""

    def __init__(
        self,
        tiles: MapTiles,
        folder: Path | None = None,
        readable: Callable[[str], bool] = bool,
        memory_bytes: int = MEMORY_BYTES,
    ):
        self.tiles = tiles
        self.folder = Path(folder) if folder is not None else None
        self.readable = readable
        self.native = tiles.native_zoom()
        self.finest = self.native + ZOOMS_ABOVE_NATIVE
        self._png = BytesLRU(memory_bytes, _len_bytes)
        self._images = BytesLRU(memory_bytes, _image_bytes)
        self._locks = KeyLocks()
        self.drawn = collections.Counter()  # tiles computed here: "render", "reduce", ...
        self._counter_lock = threading.Lock()
        if self.folder is not None:
            _touch(self.folder)

    # the answer ---------------------------------------------------------------------

    def png(self, z: int, x: int, y: int) -> bytes | None:
        """Web tile z/x/y as PNG, None where no map tile covers it."""
        if not len(self.tiles) or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        if z > self.finest:
            return self._scaled(z, x, y)
        if not self.covered(z, x, y):
            return None
        key = (z, x, y)
        found = self._png.get(key)
        if found is None:
            with self._locks.hold(key):  # one computes, the others wait for its answer
                found = self._png.get(key)
                if found is None:
                    found = self._stored(z, x, y)
                    if found is None:
                        found = self._compute(z, x, y)
                    self._png.put(key, found)
        return found or None

    def image(self, z: int, x: int, y: int) -> Image.Image | None:
        """Web tile z/x/y as an RGBA image, None where no map tile covers it."""
        data = self.png(z, x, y)
        if data is None:
            return None
        with Image.open(io.BytesIO(data)) as img:
            return img.convert("RGBA")

    def covered(self, z: int, x: int, y: int) -> bool:
        """Whether some map tile's footprint (its Web Mercator box) meets web tile z/x/y."""
        b = mercantile.xy_bounds(x, y, z)
        boxes = self.tiles.mercator_boxes()
        return bool(
            (
                (boxes[:, 0] < b.right)
                & (boxes[:, 2] > b.left)
                & (boxes[:, 1] < b.top)
                & (boxes[:, 3] > b.bottom)
            ).any()
        )

    # computing ----------------------------------------------------------------------

    def _compute(self, z: int, x: int, y: int) -> bytes:
        """The tile's PNG (b"" for an empty one), stored on disk."""
        if z >= self.native:
            image = render_web_tile(self.tiles, z, x, y, images=self._reduced)
            self._count("render")
        else:
            image = self._downsampled(z, x, y)
            self._count("downsample")
        if image is not None and image.getextrema()[3][1] == 0:
            image = None  # nothing readable was drawn: empty
        data = png_bytes(image) if image is not None else b""
        if self.folder is not None:
            write_atomic(self._path(z, x, y), data)
        return data

    def _downsampled(self, z: int, x: int, y: int) -> Image.Image | None:
        """The four children of z/x/y side by side, reduced to one tile (alpha-weighted)."""
        canvas = None
        for dy in (0, 1):
            for dx in (0, 1):
                child = self.image(z + 1, 2 * x + dx, 2 * y + dy)
                if child is None:
                    continue
                if canvas is None:
                    canvas = Image.new("RGBa", (2 * TILE_PX, 2 * TILE_PX), (0, 0, 0, 0))
                canvas.paste(child.convert("RGBa"), (dx * TILE_PX, dy * TILE_PX))
        if canvas is None:
            return None
        return canvas.resize((TILE_PX, TILE_PX), Image.Resampling.BOX).convert("RGBA")

    def _scaled(self, z: int, x: int, y: int) -> bytes | None:
        """A tile finer than ``finest``: its part of the ancestor at ``finest``, scaled."""
        depth = z - self.finest
        ancestor = self.image(self.finest, x >> depth, y >> depth)
        if ancestor is None:
            return None
        part = TILE_PX / 2**depth
        left, top = (x - ((x >> depth) << depth)) * part, (y - ((y >> depth) << depth)) * part
        box = (left, top, left + part, top + part)
        scaled = ancestor.resize((TILE_PX, TILE_PX), Image.Resampling.BILINEAR, box=box)
        self._count("scale")
        return png_bytes(scaled)

    def _reduced(self, i: int, px: int) -> Image.Image | None:
        """Map tile ``i``'s image reduced to ``px`` pixels and padded (for
        :func:`render_web_tile`): from memory, else from disk, else from its file once."""
        key = (i, px)
        found = self._images.get(key, False)
        if found is not False:
            return found
        with self._locks.hold(("reduced", *key)):
            found = self._images.get(key, False)
            if found is False:
                found = self._reduced_uncached(i, px)
                self._images.put(key, found)
        return found

    def _reduced_uncached(self, i: int, px: int) -> Image.Image | None:
        path = self.tiles.paths[i]
        if not path or not self.readable(path):
            return None
        stored = self._reduced_path(i, px)
        if stored is not None and stored.is_file():
            try:
                with Image.open(stored) as img:
                    return padded(img.convert("RGBA"))
            except (OSError, ValueError):
                pass  # damaged: made again
        image = reduced_image(path, px)
        self._count("reduce")
        if image is None:
            return None
        if stored is not None:
            write_atomic(stored, png_bytes(image))
        return padded(image)

    # the folder ---------------------------------------------------------------------

    def _path(self, z: int, x: int, y: int) -> Path:
        return self.folder / str(z) / str(x) / f"{y}.png"

    def _reduced_path(self, i: int, px: int) -> Path | None:
        if self.folder is None:
            return None
        name = hashlib.sha1(f"{self.tiles.ids[i]}\0{self.tiles.paths[i]}".encode()).hexdigest()
        return self.folder / "reduced" / str(px) / f"{name[:24]}.png"

    def _stored(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's PNG from disk (b"": stored empty), None when it is not there."""
        if self.folder is None:
            return None
        try:
            return self._path(z, x, y).read_bytes()
        except OSError:
            return None

    def _count(self, what: str) -> None:
        with self._counter_lock:
            self.drawn[what] += 1


def _touch(folder: Path) -> None:
    """Mark ``folder`` used now, and remove sibling pyramids unused for ``STALE_AFTER_S``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".used").touch()
    except OSError as exc:
        _log.debug("cannot use %s: %s", folder, exc)
        return
    now = time.time()
    for sibling in folder.parent.iterdir():
        try:
            stale = sibling != folder and now - (sibling / ".used").stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if stale:
            import shutil

            shutil.rmtree(sibling, ignore_errors=True)
