"""One synthetic region: a land-cover raster, elevation and roads on a metric grid.

The region is a square ``extent_m`` on a side in an azimuthal equidistant projection
centred on the region (metres; x east, y north). Land cover comes from smooth noise
fields: a coastline towards the region's sea side, rivers, marsh along low shores, town
density blobs linked by roads, forest and fields in between.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from pyproj import CRS, Transformer
from scipy import ndimage

from geovec.geo.grid import local_crs
from geovec.synthetic.regions import FIELD, FOREST, SUBURBAN, URBAN, WATER, WETLAND, RegionStyle

CELL_M = 10.0
"""Land-cover cell size in metres."""


def smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], scale_cells: float
) -> np.ndarray:
    """Gaussian-smoothed white noise, rescaled to zero mean and unit deviation."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), scale_cells, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


def _draw_line(
    mask: np.ndarray, a: tuple[float, float], b: tuple[float, float], width: int
) -> None:
    n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
    rows = np.linspace(a[0], b[0], n).round().astype(int)
    cols = np.linspace(a[1], b[1], n).round().astype(int)
    ok = (rows >= 0) & (rows < mask.shape[0]) & (cols >= 0) & (cols < mask.shape[1])
    mask[rows[ok], cols[ok]] = True
    if width > 1:
        mask[:] = ndimage.binary_dilation(mask, iterations=width // 2)


@dataclasses.dataclass
class World:
    """A generated region. Raster row 0 is the northern edge; cells are CELL_M metres."""

    style: RegionStyle
    extent_m: float
    cover: np.ndarray  # (n, n) uint8 class index
    elevation: np.ndarray  # (n, n) float32 metres
    roads: np.ndarray  # (n, n) bool
    towns: np.ndarray  # (k, 2) x, y metres

    @property
    def crs(self) -> CRS:
        """The region's metric CRS (azimuthal equidistant on its centre)."""
        return local_crs(self.style.lon, self.style.lat)

    def to_lonlat(self, x, y):
        """Metric x, y → lon, lat (decimal degrees)."""
        t = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return t.transform(x, y)

    def to_xy(self, lon, lat):
        """lon, lat (decimal degrees) → metric x, y."""
        t = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        return t.transform(lon, lat)

    @property
    def size(self) -> int:
        return self.cover.shape[0]

    def cell(self, x, y):
        """(row, col) indices of metric points, clipped to the raster."""
        half = self.extent_m / 2
        col = np.clip(((np.asarray(x) + half) / CELL_M).astype(int), 0, self.size - 1)
        row = np.clip(((half - np.asarray(y)) / CELL_M).astype(int), 0, self.size - 1)
        return row, col

    def cover_at(self, x, y) -> np.ndarray:
        return self.cover[self.cell(x, y)]

    def elevation_at(self, x, y) -> np.ndarray:
        half = self.extent_m / 2
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        coords = [((half - y) / CELL_M - 0.5).ravel(), ((x + half) / CELL_M - 0.5).ravel()]
        values = ndimage.map_coordinates(self.elevation, coords, order=1, mode="nearest")
        return values.reshape(x.shape)

    def cell_centres(self, mask: np.ndarray) -> np.ndarray:
        """(k, 2) metric x, y of the centres of the cells where ``mask`` is True."""
        rows, cols = np.nonzero(mask)
        half = self.extent_m / 2
        return np.stack([(cols + 0.5) * CELL_M - half, half - (rows + 0.5) * CELL_M], axis=1)


def generate_world(style: RegionStyle, extent_m: float, seed: int) -> World:
    """Generate the land cover, elevation and roads of ``style`` over a square region."""
    rng = np.random.default_rng(seed)
    n = int(round(extent_m / CELL_M))
    half = extent_m / 2
    coords = (np.arange(n) + 0.5) * CELL_M - half
    x, y = np.meshgrid(coords, -coords)  # row 0 north
    sx, sy = style.sea_side
    towards_sea = (x * sx + y * sy) / half  # -1 .. 1

    coast = (
        towards_sea
        + 0.35 * smooth_noise(rng, (n, n), n / 12)
        + 0.1 * smooth_noise(rng, (n, n), n / 40)
    )
    water = coast > np.quantile(coast, 1 - style.water_share * 0.8)
    river = np.abs(smooth_noise(rng, (n, n), n / 10)) < 0.06
    water |= river & (rng.random() < 0.9)

    hills = smooth_noise(rng, (n, n), n / 8) + 0.5 * smooth_noise(rng, (n, n), n / 20)
    elevation = (style.relief_m * (0.6 + 0.4 * hills) * np.clip(0.3 - towards_sea, 0, None)).astype(
        np.float32
    )
    elevation[water] = 0.0

    towns = rng.uniform(-0.7 * half, 0.7 * half, (style.towns * 3, 2))
    town_cells = np.stack(
        [((half - towns[:, 1]) / CELL_M).astype(int), ((towns[:, 0] + half) / CELL_M).astype(int)],
        1,
    )
    towns = towns[~water[town_cells[:, 0], town_cells[:, 1]]][: style.towns]
    density = np.zeros((n, n))
    for tx, ty in towns:
        density += np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2 * style.town_size_m**2))
    density *= 1 + 0.3 * smooth_noise(rng, (n, n), n / 30)

    roads = np.zeros((n, n), bool)
    to_cell = lambda p: ((half - p[1]) / CELL_M, (p[0] + half) / CELL_M)  # noqa: E731
    order = np.argsort(towns[:, 0]) if len(towns) else []
    for a, b in zip(order[:-1], order[1:]):
        _draw_line(roads, to_cell(towns[a]), to_cell(towns[b]), 1)
    for _ in range(3):  # country roads crossing the region
        p, q = rng.uniform(-half, half, 2), rng.uniform(-half, half, 2)
        _draw_line(roads, to_cell((p[0], -half)), to_cell((q[0], half)), 1)
    grid = max(8, int(200 / CELL_M))
    street_grid = (np.arange(n)[:, None] % grid == 0) | (np.arange(n)[None, :] % grid == 0)
    roads |= street_grid & (density > 0.3)
    roads &= ~water

    cover = np.full((n, n), FIELD, np.uint8)
    cover[
        smooth_noise(rng, (n, n), n / 25)
        > np.quantile(rng.standard_normal(1000), 1 - style.forest_share)
    ] = FOREST
    near_water = ndimage.distance_transform_edt(~water) * CELL_M < 400
    marsh = (
        near_water
        & (elevation < 3 + style.relief_m * 0.02)
        & (
            smooth_noise(rng, (n, n), n / 30)
            < np.quantile(rng.standard_normal(1000), style.wetland_share)
        )
    )
    cover[marsh] = WETLAND
    cover[density > 0.25] = SUBURBAN
    cover[density > style.urban_core] = URBAN
    cover[water] = WATER
    return World(style, extent_m, cover, elevation, roads, towns)
