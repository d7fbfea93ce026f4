"""Slice georeferenced orthophotos: grid tiles and aerial images centred on any location.

An orthophoto is an image plus a world file (.jgw/.pgw/.tfw: six lines A, D, B, E, C, F,
the affine map from pixel (col, row) to map x, y of the pixel's centre) and the CRS of
those map coordinates (a metric one, e.g. UTM). Output images are north-up squares of a
given ground size, resampled bilinearly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import CRS

from geovec.errors import AerialSourceError
from geovec.geo.sampling import Cut, Square, resample


def read_world_file(path: str | Path) -> np.ndarray:
    """The 2x3 affine [[A, B, C], [D, E, F]]: x = A col + B row + C, y = D col + E row + F."""
    try:
        a, d, b, e, c, f = (float(line) for line in Path(path).read_text().split())
    except (OSError, ValueError):
        raise AerialSourceError(f"{path}: a world file has six numbers, one per line") from None
    return np.array([[a, b, c], [d, e, f]])


def world_file_of(image: Path) -> Path | None:
    """The world file beside an image: .pgw for .png (first and last letters of the
    extension plus w), .pngw, or .wld; None when there is none."""
    for candidate in _world_suffixes(image):
        if image.with_suffix(candidate).exists():
            return image.with_suffix(candidate)
    return None


def _world_suffixes(image: Path) -> list[str]:
    """.pgw and .pngw for a .png; only .wld for a file without an extension."""
    ext = image.suffix.lower()
    return [ext[:2] + ext[-1] + "w", ext + "w", ".wld"] if ext else [".wld"]


def write_world_file(path: str | Path, affine: np.ndarray) -> None:
    (a, b, c), (d, e, f) = affine
    Path(path).write_text("\n".join(f"{v:.10f}" for v in (a, d, b, e, c, f)) + "\n")


class Orthophoto:
    """A georeferenced image: pixels (H, W, 3), a world-file affine, and its CRS."""

    def __init__(self, pixels: np.ndarray, affine: np.ndarray, crs: CRS | str):
        self.pixels = np.asarray(pixels)
        self.affine = np.asarray(affine, np.float64)
        self.crs = CRS.from_user_input(crs)
        inverse = np.linalg.inv(np.vstack([self.affine, [0, 0, 1]]))
        self._inverse = inverse[:2]

    @classmethod
    def open(
        cls, image: str | Path, world_file: str | Path | None = None, crs: CRS | str | None = None
    ):
        """Read an image, its world file (default: beside it) and CRS (default: its .prj)."""
        from geovec.features.decode import load_rgb

        image = Path(image)
        if world_file is None:
            world_file = world_file_of(image)
            if world_file is None:
                raise AerialSourceError(
                    f"{image}: no world file beside it ({' or '.join(_world_suffixes(image))})"
                )
        if crs is None:
            prj = image.with_suffix(".prj")
            if not prj.exists():
                raise AerialSourceError(f"{image}: say its CRS (no {prj.name} beside it)")
            crs = prj.read_text()
        return cls(load_rgb(image, max_pixels=1_000_000_000), read_world_file(world_file), crs)

    def cut(self, lon: float, lat: float, size_m: float, px: int) -> Cut | None:
        """The square around (lon, lat); None when it misses the image entirely."""
        square = Square.around(lon, lat, size_m, px)
        x, y = square.in_crs(self.crs)
        col = self._inverse[0, 0] * x + self._inverse[0, 1] * y + self._inverse[0, 2]
        row = self._inverse[1, 0] * x + self._inverse[1, 1] * y + self._inverse[1, 2]
        # a world file names pixel centres: + 0.5 for pixel edges
        return resample(self.pixels, None, col + 0.5, row + 0.5, square)

    def aerial_at(self, lon: float, lat: float, size_m: float = 480.0, px: int = 256) -> np.ndarray:
        """A north-up (px, px, 3) image, ``size_m`` metres on a side, centred on lon, lat
        (black where the image does not reach)."""
        cut = self.cut(lon, lat, size_m, px)
        return cut.rgb if cut is not None else np.zeros((px, px, 3), np.uint8)

    def tiles(self, grid) -> list[np.ndarray]:
        """The images of every tile of a :class:`geovec.geo.grid.Grid`."""
        return [self.aerial_at(lo, la, grid.tile_m) for lo, la in zip(grid.lon, grid.lat)]

    def close(self) -> None:
        pass
