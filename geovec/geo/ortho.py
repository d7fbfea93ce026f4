"""Slice georeferenced orthophotos: grid tiles and aerial images centred on any location.

An orthophoto is an image plus a world file (.jgw/.pgw/.tfw: six lines A, D, B, E, C, F,
the affine map from pixel (col, row) to map x, y of the pixel's centre) and the CRS of
those map coordinates (a metric one, e.g. UTM). Output images are north-up squares of a
given ground size, resampled bilinearly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer

from geovec.errors import GeovecError
from geovec.geo.grid import local_crs


def read_world_file(path: str | Path) -> np.ndarray:
    """The 2x3 affine [[A, B, C], [D, E, F]]: x = A col + B row + C, y = D col + E row + F."""
    try:
        a, d, b, e, c, f = (float(line) for line in Path(path).read_text().split())
    except (OSError, ValueError):
        raise GeovecError(f"{path}: a world file has six numbers, one per line") from None
    return np.array([[a, b, c], [d, e, f]])


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
            ext = image.suffix.lower()
            candidates = [
                image.with_suffix(ext[:2] + ext[-1] + "w"),
                image.with_suffix(ext + "w"),
                image.with_suffix(".wld"),
            ]
            world_file = next((p for p in candidates if p.exists()), None)
            if world_file is None:
                raise GeovecError(f"{image}: no world file beside it (.{ext[1]}{ext[-1]}w or .wld)")
        if crs is None:
            prj = image.with_suffix(".prj")
            if not prj.exists():
                raise GeovecError(f"{image}: say its CRS (no {prj.name} beside it)")
            crs = prj.read_text()
        return cls(load_rgb(image, max_pixels=1_000_000_000), read_world_file(world_file), crs)

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bilinear colours at map coordinates (outside the image: black)."""
        col = self._inverse[0, 0] * x + self._inverse[0, 1] * y + self._inverse[0, 2]
        row = self._inverse[1, 0] * x + self._inverse[1, 1] * y + self._inverse[1, 2]
        h, w = self.pixels.shape[:2]
        inside = (col >= -0.5) & (col <= w - 0.5) & (row >= -0.5) & (row <= h - 0.5)
        c0 = np.clip(np.floor(col).astype(int), 0, w - 1)
        r0 = np.clip(np.floor(row).astype(int), 0, h - 1)
        c1, r1 = np.clip(c0 + 1, 0, w - 1), np.clip(r0 + 1, 0, h - 1)
        fc = np.clip(col - np.floor(col), 0, 1)[..., None]
        fr = np.clip(row - np.floor(row), 0, 1)[..., None]
        src = self.pixels.astype(np.float32)
        out = (src[r0, c0] * (1 - fc) + src[r0, c1] * fc) * (1 - fr) + (
            src[r1, c0] * (1 - fc) + src[r1, c1] * fc
        ) * fr
        out[~inside] = 0
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def aerial_at(self, lon: float, lat: float, size_m: float = 480.0, px: int = 256) -> np.ndarray:
        """A north-up (px, px, 3) image, ``size_m`` metres on a side, centred on lon, lat."""
        local = local_crs(lon, lat)
        offs = (np.arange(px) + 0.5) * size_m / px - size_m / 2
        ex, ny = np.meshgrid(offs, -offs)
        to_map = Transformer.from_crs(local, self.crs, always_xy=True)
        x, y = to_map.transform(ex, ny)
        return self.sample(np.asarray(x), np.asarray(y))

    def tiles(self, grid) -> list[np.ndarray]:
        """The images of every tile of a :class:`geovec.grid.Grid`."""
        return [self.aerial_at(lo, la, grid.tile_m) for lo, la in zip(grid.lon, grid.lat)]
