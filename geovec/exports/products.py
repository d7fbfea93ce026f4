"""Which file a land-cover image or a heatmap becomes, by its name's suffix: a Cloud
Optimized GeoTIFF (.tif, .tiff: :mod:`geovec.exports.rasters`) or, for a heatmap, the
per-tile polygons (.geojson, .json, .parquet: :mod:`geovec.exports.tiles`). The figures
(.png) stay with :mod:`geovec.report`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from geovec.errors import ExportError
from geovec.exports.rasters import RASTER_SUFFIXES, heatmap_cog, landcover_cog, raster_frame
from geovec.exports.tiles import TILE_SUFFIXES, write_tiles_geojson, write_tiles_geoparquet

if TYPE_CHECKING:
    from geovec.analyses.landcover import LandcoverResult
    from geovec.analyses.localize import Localization

FIGURE_SUFFIXES = (".png",)
PRODUCT_SUFFIXES = {
    "landcover": FIGURE_SUFFIXES + RASTER_SUFFIXES,
    "heatmap": FIGURE_SUFFIXES + RASTER_SUFFIXES + TILE_SUFFIXES,
}


def is_figure(path: str | Path) -> bool:
    """Whether ``path`` names a figure (.png) rather than a georeferenced product."""
    return Path(path).suffix.lower() in FIGURE_SUFFIXES


def check_product(path: str | Path, kind: str, crs: str | None = None) -> Path:
    """``path`` as a file name for a ``kind`` ("landcover" or "heatmap") product.

    Raises:
      ExportError: an unknown suffix, a ``crs`` PROJ does not know, or one given for a
        file that has no CRS to set (a figure, the polygons: always lon/lat).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PRODUCT_SUFFIXES[kind]:
        known = ", ".join(PRODUCT_SUFFIXES[kind])
        raise ExportError(f"{path}: a {kind} file is named with one of {known}")
    if crs is not None and suffix not in RASTER_SUFFIXES:
        raise ExportError(f"--crs applies to a .tif {kind}; {path.name} is not one")
    if crs is not None:
        raster_frame(crs, (0.0, 0.0))  # a CRS PROJ knows, before any work
    return path


def write_landcover_product(
    result: LandcoverResult, path: str | Path, *, crs: str | None = None
) -> Path:
    """The land-cover image as a COG (.tif); see :func:`check_product`."""
    path = check_product(path, "landcover", crs)
    if is_figure(path):
        raise ExportError(f"{path}: the figure is written by geovec.report, not here")
    return landcover_cog(result, path, crs=crs).path


def write_heatmap_product(
    result: Localization, path: str | Path, *, crs: str | None = None
) -> Path:
    """The heatmap as a COG (.tif) or as per-tile polygons (.geojson, .parquet)."""
    path = check_product(path, "heatmap", crs)
    suffix = path.suffix.lower()
    if is_figure(path):
        raise ExportError(f"{path}: the figure is written by geovec.report, not here")
    if suffix in RASTER_SUFFIXES:
        return heatmap_cog(result, path, crs=crs).path
    if suffix == ".parquet":
        return write_tiles_geoparquet(result, path)
    return write_tiles_geojson(result, path)
