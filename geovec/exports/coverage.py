"""The coverage of one region (paper, Fig. 3) as a Cloud Optimized GeoTIFF, written by
:func:`geovec.exports.rasters.write_cog` in the region's azimuthal equidistant frame: band
``tiles``, how many map tile footprints hold each pixel's centre (exactly: the test of
:func:`geovec.geodesy.in_footprint`; nodata outside every footprint), and band ``photos``,
how many located ground photos lie in each pixel
(:class:`~geovec.analyses.coverage.CoverageGrid`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pyproj import CRS
from rasterio.transform import from_origin

from geovec.analyses.coverage import DEFAULT_PIXEL_M
from geovec.errors import ExportError
from geovec.exports.rasters import RasterExport, write_cog

if TYPE_CHECKING:
    from geovec.analyses.coverage import Coverage


def coverage_cog(
    result: Coverage, path: str | Path, *, pixel_m: float = DEFAULT_PIXEL_M
) -> RasterExport:
    """Write the coverage of ``result``'s one region as a COG (see the module).

    Raises:
      ExportError: ``result`` holds several regions (a raster is one region's frame).
    """
    if len(result.regions) != 1:
        names = ", ".join(r.region for r in result.regions)
        raise ExportError(
            f"the store has several regions ({names}): say which with --region, or write a PNG"
        )
    region = result.regions[0]
    grid = region.grid(pixel_m)
    transform = from_origin(grid.west, grid.north, grid.pixel_m, grid.pixel_m)
    tags = {
        "kind": "coverage",
        "region": region.region,
        "tiles": region.tiles,
        "photos": region.photos,
        "unlocated": result.unlocated,
        "pixel_m": grid.pixel_m,
    }
    return write_cog(
        path,
        np.stack([grid.tiles, grid.photos]),
        transform,
        CRS.from_proj4(grid.crs),
        ["tiles", "photos"],
        tags,
        [
            {"meaning": "map tile footprints holding the pixel's centre"},
            {"meaning": "located ground photos in the pixel"},
        ],
        "nearest",
    )
