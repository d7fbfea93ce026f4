"""Resampling shared by every aerial source: where a north-up square around a point falls
in a source's pixels, and the square's image.

A square is ``size_m`` metres on a side, ``px`` pixels, centred on (lon, lat) in the
azimuthal equidistant frame of the point, so its metres are true metres at any latitude.
The corners of an 8 x 8 mesh of cells over it are carried into the source exactly (the
geodesic gives their lon/lat, as PROJ's aeqd does; then the source's CRS); inside each
cell Pillow maps pixels bilinearly (its MESH transform, in C), as GDAL's approximate
transformer does. Over a square of a few hundred metres the difference from an exact
per-pixel transform is far below a millimetre.

Source coordinates here are pixel *edges*: (0, 0) is the top-left corner of the first
pixel, whose centre is (0.5, 0.5).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from PIL import Image
from pyproj import CRS, Transformer

from geovec.geodesy import frame_lonlat

CELLS = 8
"""Mesh cells per side of a square."""


@dataclasses.dataclass
class Cut:
    """An aerial image cut for one point: (px, px, 3) uint8 RGB, north up, which of its
    pixels the source covered with data, and how many source pixels its side spans (the
    fewer of its two directions; in the pixels it was resampled from: a raster's own, or
    those of the overview or tile zoom read)."""

    rgb: np.ndarray
    valid: np.ndarray  # (px, px) bool
    source_px: float = float("inf")

    @property
    def upsampling(self) -> float:
        """Output pixels per source pixel along a side: above 1, finer than the source."""
        return self.valid.shape[0] / self.source_px if self.source_px > 0 else float("inf")

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean())


@dataclasses.dataclass
class Square:
    """The mesh of a square: lon/lat of its nodes (decimal degrees, (n + 1, n + 1), row 0
    the northern edge) and the output pixel edges they stand at."""

    lons: np.ndarray
    lats: np.ndarray
    edges: np.ndarray  # (n + 1,) int, output pixel edges 0 .. px
    px: int

    @classmethod
    def around(cls, lon: float, lat: float, size_m: float, px: int) -> Square:
        edges = np.unique(np.linspace(0, px, min(CELLS, px) + 1).round().astype(int))
        metres = edges * size_m / px - size_m / 2
        east, north = np.meshgrid(metres, -metres)
        lons, lats = frame_lonlat(lon, lat, east, north)  # the square's own aeqd frame
        return cls(lons, lats, edges, px)

    def in_crs(self, crs) -> tuple[np.ndarray, np.ndarray]:
        """x, y of the nodes in ``crs``."""
        wkt = CRS.from_user_input(crs).to_wkt()
        x, y = _from_wgs84(wkt).transform(self.lons, self.lats)
        return np.asarray(x), np.asarray(y)


@functools.lru_cache(maxsize=32)
def _from_wgs84(crs_wkt: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", CRS.from_wkt(crs_wkt), always_xy=True)


def resample(
    pixels: np.ndarray,
    valid: np.ndarray | None,
    cols: np.ndarray,
    rows: np.ndarray,
    square: Square,
) -> Cut | None:
    """The square's image from (H, W, 3) uint8 ``pixels`` (and which source pixels hold
    data, None for all), given where its mesh nodes fall (``cols``, ``rows``, pixel edges).
    None when the square misses the pixels entirely."""
    h, w = pixels.shape[:2]
    if cols.max() <= 0 or rows.max() <= 0 or cols.min() >= w or rows.min() >= h:
        return None
    mesh = []
    e = square.edges
    for i in range(len(e) - 1):
        for j in range(len(e) - 1):
            quad = (
                cols[i, j], rows[i, j],  # upper left
                cols[i + 1, j], rows[i + 1, j],  # lower left
                cols[i + 1, j + 1], rows[i + 1, j + 1],  # lower right
                cols[i, j + 1], rows[i, j + 1],  # upper right
            )  # fmt: skip
            mesh.append(((int(e[j]), int(e[i]), int(e[j + 1]), int(e[i + 1])), quad))
    size = (square.px, square.px)
    # each band as a float image: Pillow's 8-bit bilinear truncates (a bias of -0.5)
    bands = [
        Image.fromarray(pixels[..., b].astype(np.float32), "F").transform(
            size, Image.Transform.MESH, mesh, Image.Resampling.BILINEAR
        )
        for b in range(3)
    ]
    rgb = to_rgb8(np.stack([np.asarray(b) for b in bands], axis=-1))
    known = np.full((h, w), 255, np.uint8) if valid is None else valid.astype(np.uint8) * 255
    mask = Image.fromarray(known, "L").transform(size, Image.Transform.MESH, mesh)
    covered = np.asarray(mask) > 127
    rgb[~covered] = 0
    across = np.hypot(cols[0, -1] - cols[0, 0], rows[0, -1] - rows[0, 0])  # the northern edge
    down = np.hypot(cols[-1, 0] - cols[0, 0], rows[-1, 0] - rows[0, 0])  # the western edge
    return Cut(rgb, covered, float(min(across, down)))


def to_rgb8(values: np.ndarray) -> np.ndarray:
    """Float samples in 0-255 → uint8, rounded."""
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)
