"""Web-map tile pyramids as aerial sources: a folder ``{z}/{x}/{y}.png|jpg|webp`` (XYZ rows
from the north, or TMS rows from the south, as gdal2tiles writes by default) or an MBTiles
file (SQLite, TMS rows). Tiles are Web Mercator (EPSG:3857); the tiles under a square are
stitched and resampled bilinearly, transparent or missing tiles counting as no data.
mercantile does the tile arithmetic.
"""

from __future__ import annotations

import io
import math
import sqlite3
from pathlib import Path

import mercantile
import numpy as np
from PIL import Image

from geovec.errors import AerialSourceError
from geovec.geo.sampling import Cut, Square, resample

TILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
WORLD_M = 2 * 20037508.342789244
"""Width of the Web Mercator world in metres."""


def _decode(data: bytes) -> np.ndarray:
    """RGBA uint8 of an encoded tile (opaque when the tile has no alpha)."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGBA"))


class TileFolder:
    """Tiles ``{root}/{z}/{x}/{y}.ext``. ``scheme`` "xyz" numbers rows from the north, "tms"
    from the south; None reads gdal2tiles' tilemapresource.xml (TMS) to decide, else xyz."""

    def __init__(self, root: Path, scheme: str | None = None):
        self.root = Path(root)
        if scheme is None:
            scheme = "tms" if (self.root / "tilemapresource.xml").exists() else "xyz"
        if scheme not in ("xyz", "tms"):
            raise AerialSourceError(f"scheme must be xyz or tms, got {scheme!r}")
        self.scheme = scheme
        self.zooms = sorted(int(p.name) for p in self.root.iterdir() if p.name.isdigit())
        if not self.zooms:
            raise AerialSourceError(f"{self.root}: no zoom folders ({{z}}/{{x}}/{{y}}.png)")

    def any_tile(self) -> np.ndarray:
        """One tile of the pyramid (to learn the tile size)."""
        for path in (self.root / str(self.zooms[-1])).rglob("*"):
            if path.suffix.lower() in TILE_SUFFIXES:
                return _decode(path.read_bytes())
        raise AerialSourceError(f"{self.root}: no tile images at zoom {self.zooms[-1]}")

    def tile(self, z: int, x: int, y: int) -> np.ndarray | None:
        row = (1 << z) - 1 - y if self.scheme == "tms" else y
        for suffix in TILE_SUFFIXES:
            path = self.root / str(z) / str(x) / f"{row}{suffix}"
            if path.is_file():
                return _decode(path.read_bytes())
        return None

    def close(self) -> None:
        pass


class MBTiles:
    """An MBTiles file: the ``tiles`` table, rows numbered from the south (TMS)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            rows = self.db.execute("SELECT DISTINCT zoom_level FROM tiles").fetchall()
        except sqlite3.Error as exc:
            raise AerialSourceError(f"{self.path}: not an MBTiles file ({exc})") from None
        self.zooms = sorted(r[0] for r in rows)
        if not self.zooms:
            raise AerialSourceError(f"{self.path}: the MBTiles file holds no tiles")

    def any_tile(self) -> np.ndarray:
        """One tile of the pyramid (to learn the tile size)."""
        return _decode(self.db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()[0])

    def tile(self, z: int, x: int, y: int) -> np.ndarray | None:
        row = self.db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y),
        ).fetchone()
        return _decode(row[0]) if row else None

    def close(self) -> None:
        self.db.close()


class TilePyramid:
    """Cuts squares from a tile store (:class:`TileFolder` or :class:`MBTiles`) at ``zoom``,
    or, when None, at the coarsest zoom at least as fine as the output (the finest there
    is, if none is)."""

    def __init__(self, store: TileFolder | MBTiles, zoom: int | None = None):
        self.store = store
        if zoom is not None and zoom not in store.zooms:
            raise AerialSourceError(f"no tiles at zoom {zoom}; the pyramid has {store.zooms}")
        self.zoom = zoom
        self.tile_px = store.any_tile().shape[0]

    def close(self) -> None:
        self.store.close()

    def _zoom_for(self, lat: float, metres_per_px: float) -> int:
        if self.zoom is not None:
            return self.zoom
        for z in self.store.zooms:
            if WORLD_M * math.cos(math.radians(lat)) / (self.tile_px << z) <= metres_per_px:
                return z
        return self.store.zooms[-1]

    def cut(self, lon: float, lat: float, size_m: float, px: int) -> Cut | None:
        """The square around (lon, lat), or None when no tile lies under it."""
        z = self._zoom_for(lat, size_m / px)
        square = Square.around(lon, lat, size_m, px)
        west, east = square.lons.min(), square.lons.max()
        south, north = max(square.lats.min(), -85.05), min(square.lats.max(), 85.05)
        tiles = list(mercantile.tiles(west, south, east, north, zooms=z))
        images = {(t.x, t.y): self.store.tile(z, t.x, t.y) for t in tiles}
        if not any(img is not None for img in images.values()):
            return None
        size = self.tile_px
        x0, y0 = min(t.x for t in tiles), min(t.y for t in tiles)
        width = (max(t.x for t in tiles) - x0 + 1) * size
        height = (max(t.y for t in tiles) - y0 + 1) * size
        canvas = np.zeros((height, width, 4), np.uint8)  # transparent where tiles are missing
        for (tx, ty), img in images.items():
            if img is not None:
                top, left = (ty - y0) * size, (tx - x0) * size
                canvas[top : top + size, left : left + size] = img[:size, :size]
        # the mesh nodes in canvas pixels, from Web Mercator metres
        mx, my = square.in_crs("EPSG:3857")
        origin = mercantile.xy_bounds(mercantile.Tile(x0, y0, z))
        metres_per_px = (origin.right - origin.left) / size
        cols, rows = (mx - origin.left) / metres_per_px, (origin.top - my) / metres_per_px
        return resample(canvas, canvas[..., 3] > 127, cols, rows, square)


def tile_store(source: Path, scheme: str | None = None) -> TileFolder | MBTiles:
    """The tile store at ``source``: an .mbtiles file or a {z}/{x}/{y} folder."""
    if source.suffix.lower() == ".mbtiles":
        return MBTiles(source)
    return TileFolder(source, scheme)
