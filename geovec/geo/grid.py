"""The aerial reference grid: tile centres and footprints over a region.

Tiles are squares ``tile_m`` metres on a side (paper: 480 m, 256x256 px), laid out in an
azimuthal equidistant projection centred on the region, so sizes and spacings are true
metres near the region whatever its latitude. Centres and footprints come back as WGS84
lon/lat (decimal degrees).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Polygon, box

from geovec.errors import GeovecError
from geovec.geo.bounds import Bbox

TILE_M = 480.0
"""Default tile side in metres (the paper's 256x256 px aerial tiles)."""
GRID_COLUMNS = ["id", "lon", "lat", "size_m", "footprint"]


def local_proj(lon: float, lat: float) -> str:
    """PROJ string of an azimuthal equidistant CRS (metres) centred on lon, lat."""
    return f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"


def local_crs(lon: float, lat: float) -> CRS:
    """An azimuthal equidistant CRS (metres) centred on lon, lat."""
    return CRS.from_proj4(local_proj(lon, lat))


@dataclasses.dataclass
class Grid:
    """Tile centres (lon, lat), footprints (lon/lat polygons) and the metric frame."""

    ids: list[str]
    lon: np.ndarray
    lat: np.ndarray
    footprints: list[Polygon]
    tile_m: float
    crs: CRS
    x: np.ndarray  # metric centres in ``crs``
    y: np.ndarray
    regions: list[str | None] | None = None  # each tile's region, when named (a region column)

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self) -> list[dict]:
        """One dict per tile: id, lon, lat, size_m, footprint as WKT (and region, when
        the tiles have regions)."""
        rows = [
            {"id": i, "lon": float(lo), "lat": float(la), "size_m": self.tile_m, "footprint": f.wkt}
            for i, lo, la, f in zip(self.ids, self.lon, self.lat, self.footprints)
        ]
        for row, region in zip(rows, self.regions or []):
            row["region"] = region
        return rows

    def to_csv(self, path: str | Path | None = None) -> str:
        """The tiles as CSV (id, lon, lat, size_m, footprint; region when they have
        regions, empty for none), a points table that ``geovec aerial`` and manifests read;
        also written to ``path`` when given."""
        buffer = io.StringIO()
        fields = GRID_COLUMNS + (["region"] if self.regions is not None else [])
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        if path is not None:
            Path(path).write_text(buffer.getvalue())
        return buffer.getvalue()


def reference_grid(
    region: Bbox | tuple[float, float, float, float] | Polygon,
    tile_m: float = TILE_M,
    spacing_m: float | None = None,
    prefix: str = "tile",
) -> Grid:
    """Tiles covering a bbox (W, S, E, N) or a lon/lat polygon.

    Args:
      region: bbox in decimal degrees, or a shapely polygon in lon/lat.
      tile_m: tile side in metres.
      spacing_m: distance between neighbouring centres (default ``tile_m``: edge to edge).
    """
    polygon = box(*region) if isinstance(region, tuple) else region
    if polygon.is_empty or polygon.area == 0:
        raise GeovecError("the region is empty")
    spacing = tile_m if spacing_m is None else spacing_m
    if not (0 < tile_m < math.inf and 0 < spacing < math.inf):  # NaN fails both
        raise GeovecError(
            f"tile size and spacing must be positive metres, got {tile_m:g} and {spacing:g}"
        )
    centre = polygon.centroid
    crs = local_crs(centre.x, centre.y)
    forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    metric = shapely.transform(
        shapely.segmentize(polygon, 0.01), forward.transform, interleaved=False
    )
    minx, miny, maxx, maxy = metric.bounds
    nx = max(1, math.ceil((maxx - minx) / spacing))
    ny = max(1, math.ceil((maxy - miny) / spacing))
    xs = (minx + maxx) / 2 + (np.arange(nx) - (nx - 1) / 2) * spacing
    ys = (miny + maxy) / 2 + (np.arange(ny) - (ny - 1) / 2) * spacing
    gx, gy = np.meshgrid(xs, ys[::-1])  # north row first
    gx, gy = gx.ravel(), gy.ravel()
    half = tile_m / 2
    squares = shapely.box(gx - half, gy - half, gx + half, gy + half)
    keep = (
        shapely.intersects(squares, metric)
        if not isinstance(region, tuple)
        else np.ones(len(gx), bool)
    )
    keep &= shapely.contains_xy(metric.buffer(half), gx, gy)
    gx, gy = gx[keep], gy[keep]
    lon, lat = back.transform(gx, gy)
    corners = [
        Polygon(
            zip(
                *back.transform(
                    [x - half, x + half, x + half, x - half],
                    [y - half, y - half, y + half, y + half],
                )
            )
        )
        for x, y in zip(gx, gy)
    ]
    width = len(str(len(gx)))
    ids = [f"{prefix}{i:0{width}d}" for i in range(len(gx))]
    return Grid(ids, np.asarray(lon), np.asarray(lat), corners, tile_m, crs, gx, gy)
