"""Resampling shared by every aerial source: where the pixels of a north-up square around
a point fall in a source's coordinates, and bilinear sampling there.

A square is ``size_m`` metres on a side, ``px`` pixels, centred on (lon, lat) in an
azimuthal equidistant frame centred on the point, so its metres are true metres whatever
the latitude. Its pixel centres are carried into a source's CRS exactly at a coarse lattice
of nodes and bilinearly between them (as GDAL's approximate transformer does); over a
square of a few hundred metres the difference is far below a millimetre.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from pyproj import CRS, Transformer

from geovec.geo.grid import local_proj

NODES = 9
"""Nodes per side of the lattice transformed exactly."""


@dataclasses.dataclass
class Cut:
    """An aerial image cut for one point: (px, px, 3) uint8 RGB, north up, and which of
    its pixels the source covered with data."""

    rgb: np.ndarray
    valid: np.ndarray  # (px, px) bool

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean())


def square_lonlat(lon: float, lat: float, size_m: float, px: int) -> tuple[np.ndarray, np.ndarray]:
    """Lon, lat (decimal degrees) of every pixel centre of the square, each (px, px), row 0
    the northern edge."""
    to_lonlat = Transformer.from_crs(local_proj(lon, lat), "EPSG:4326", always_xy=True)
    return _lattice(to_lonlat, size_m, px)


def square_in(crs: CRS, lon: float, lat: float, size_m: float, px: int):
    """x, y of every pixel centre of the square in ``crs``, each (px, px)."""
    local = CRS.from_proj4(local_proj(lon, lat))
    return _lattice(Transformer.from_crs(local, crs, always_xy=True), size_m, px)


def _lattice(transformer: Transformer, size_m: float, px: int):
    offsets = (np.arange(px) + 0.5) * size_m / px - size_m / 2  # pixel centres, metres
    nodes = np.linspace(offsets[0], offsets[-1], min(NODES, px))
    east, north = np.meshgrid(nodes, -nodes)  # north up
    x, y = (np.asarray(v) for v in transformer.transform(east, north))
    if len(nodes) == px:
        return x, y
    where = np.interp(offsets, nodes, np.arange(len(nodes)))
    return _interpolate(x, where), _interpolate(y, where)


def _interpolate(grid: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a (n, n) lattice at fractional node positions ``where``
    along both axes; (len(where), len(where))."""
    i0 = np.minimum(np.floor(where).astype(int), grid.shape[0] - 2)
    f = where - i0
    rows = grid[i0] * (1 - f)[:, None] + grid[i0 + 1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]


def bilinear(pixels: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    """Bilinear samples of (H, W, C) ``pixels`` at fractional pixel-centre indices (row 0.0
    is the centre of the first row), and whether each sample lies on the image.

    Returns (float32 (..., C), bool (...)); samples off the image are 0.
    """
    h, w = pixels.shape[:2]
    inside = (cols >= -0.5) & (cols <= w - 0.5) & (rows >= -0.5) & (rows <= h - 0.5)
    c0 = np.clip(np.floor(cols).astype(np.intp), 0, w - 1)
    r0 = np.clip(np.floor(rows).astype(np.intp), 0, h - 1)
    c1, r1 = np.minimum(c0 + 1, w - 1), np.minimum(r0 + 1, h - 1)
    fc = np.clip(cols - np.floor(cols), 0, 1)[..., None].astype(np.float32)
    fr = np.clip(rows - np.floor(rows), 0, 1)[..., None].astype(np.float32)
    top = pixels[r0, c0] * (1 - fc) + pixels[r0, c1] * fc
    bottom = pixels[r1, c0] * (1 - fc) + pixels[r1, c1] * fc
    out = (top * (1 - fr) + bottom * fr).astype(np.float32)
    out[~inside] = 0
    return out, inside


def nearest(mask: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``mask`` (H, W) at the nearest pixel to each fractional index; False off the image."""
    h, w = mask.shape
    r, c = np.rint(rows).astype(np.intp), np.rint(cols).astype(np.intp)
    inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    out = np.zeros(rows.shape, bool)
    out[inside] = mask[r[inside], c[inside]]
    return out


def to_rgb8(values: np.ndarray) -> np.ndarray:
    """Float samples in 0-255 → uint8, rounded."""
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)
