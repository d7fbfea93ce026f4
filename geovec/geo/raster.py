"""GeoTIFFs, Cloud-Optimized GeoTIFFs and any raster GDAL reads, as aerial sources, with
rasterio: each cut reads only the window under its square, from the overview whose
resolution suits the output (a 20 GB orthophoto is never loaded whole), in the raster's
own CRS (UTM, Web Mercator, geographic, ...). A folder or list of rasters is a mosaic:
each point is cut from a raster that covers it.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
from pyproj import CRS

from geovec.errors import AerialSourceError
from geovec.geo.sampling import Cut, Square, resample, to_rgb8

RASTER_SUFFIXES = {".tif", ".tiff", ".vrt", ".img", ".jp2", ".gpkg"}


class Raster:
    """One raster read by windows. Bands: red, green, blue by their colour
    interpretation (else the first three), a palette band through its colour map, or one
    grey band; alpha, nodata and internal masks give the valid pixels."""

    def __init__(self, path: str | Path, crs=None):
        import rasterio
        from rasterio.enums import ColorInterp

        self.path = Path(path)
        try:
            with warnings.catch_warnings():  # not georeferenced: said below, in one line
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                self.dataset = rasterio.open(self.path)
        except rasterio.errors.RasterioIOError as exc:
            raise AerialSourceError(f"{self.path}: not a raster GDAL can read ({exc})") from None
        ds = self.dataset
        self.crs = CRS.from_user_input(crs) if crs is not None else ds.crs
        if self.crs is None:
            raise AerialSourceError(f"{self.path}: the raster has no CRS; give it (crs argument)")
        if ds.transform.is_identity:
            raise AerialSourceError(f"{self.path}: the raster is not georeferenced")
        interp = list(ds.colorinterp)
        wanted = (ColorInterp.red, ColorInterp.green, ColorInterp.blue)
        if all(c in interp for c in wanted):
            self.bands = [interp.index(c) + 1 for c in wanted]
        elif ds.count >= 3:
            self.bands = [1, 2, 3]
        else:
            self.bands = [1]
        self.palette = None
        if interp[0] == ColorInterp.palette:
            colours = ds.colormap(1)
            self.palette = np.zeros((max(colours) + 1, 3), np.uint8)
            for index, rgba in colours.items():
                self.palette[index] = rgba[:3]
        self.scale = self._scale()

    def _scale(self) -> np.ndarray | None:
        """Per band factor to 0-255 for rasters that are not 8-bit (from the band's
        statistics, its maximum to 255)."""
        if self.dataset.dtypes[self.bands[0] - 1] == "uint8" or self.palette is not None:
            return None
        stats = self.dataset.stats(indexes=self.bands, approx=True)
        peaks = [max(band.max, 1e-12) for band in stats]
        return 255.0 / np.asarray(peaks, np.float32)

    def close(self) -> None:
        self.dataset.close()

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in decimal degrees."""
        from rasterio.warp import transform_bounds

        return transform_bounds(self.crs, "EPSG:4326", *self.dataset.bounds, densify_pts=21)

    def cut(self, lon: float, lat: float, size_m: float, px: int) -> Cut | None:
        """The square around (lon, lat), or None when it misses the raster entirely."""
        from rasterio.enums import Resampling
        from rasterio.windows import Window

        ds = self.dataset
        square = Square.around(lon, lat, size_m, px)
        x, y = square.in_crs(self.crs)
        a, b, c, d, e, f = (~ds.transform)[:6]
        cols, rows = a * x + b * y + c, d * x + e * y + f  # pixel edges
        c0 = max(int(math.floor(cols.min())) - 1, 0)
        r0 = max(int(math.floor(rows.min())) - 1, 0)
        c1 = min(int(math.ceil(cols.max())) + 1, ds.width)
        r1 = min(int(math.ceil(rows.max())) + 1, ds.height)
        if c1 <= c0 or r1 <= r0:
            return None
        # source pixels per output pixel: read decimated (GDAL picks the overview) when >= 2
        span = max(cols.max() - cols.min(), rows.max() - rows.min())
        step = max(1, int(span / px))
        shape = (max(1, math.ceil((r1 - r0) / step)), max(1, math.ceil((c1 - c0) / step)))
        window = Window(c0, r0, c1 - c0, r1 - r0)
        resampling = Resampling.average if step > 1 else Resampling.nearest
        data = ds.read(
            self.bands, window=window, out_shape=(len(self.bands), *shape), resampling=resampling
        )
        valid = ds.dataset_mask(window=window, out_shape=shape, resampling=Resampling.nearest)
        pixels = np.moveaxis(data, 0, -1)
        if self.palette is not None:
            pixels = self.palette[np.clip(pixels[..., 0].astype(int), 0, len(self.palette) - 1)]
        elif self.scale is not None:
            pixels = to_rgb8(pixels * self.scale)
        if pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        sy, sx = (r1 - r0) / shape[0], (c1 - c0) / shape[1]
        return resample(
            pixels.astype(np.uint8), valid > 0, (cols - c0) / sx, (rows - r0) / sy, square
        )


class Mosaic:
    """Several rasters: a point is cut from the raster that covers it best (most valid
    pixels), looked up by each raster's lon/lat bounds."""

    def __init__(self, paths: list[Path], crs=None):
        if not paths:
            raise AerialSourceError("no rasters given")
        self.rasters = [Raster(p, crs) for p in paths]
        self.bounds = np.array([r.lonlat_bounds() for r in self.rasters])

    def close(self) -> None:
        for r in self.rasters:
            r.close()

    def cut(self, lon: float, lat: float, size_m: float, px: int) -> Cut | None:
        w, s, e, n = self.bounds.T
        best = None
        for i in np.nonzero((w <= lon) & (lon <= e) & (s <= lat) & (lat <= n))[0]:
            cut = self.rasters[i].cut(lon, lat, size_m, px)
            if cut is not None and (best is None or cut.valid_fraction > best.valid_fraction):
                best = cut
            if best is not None and best.valid_fraction == 1.0:
                break
        return best


def raster_paths(source: Path) -> list[Path]:
    """The rasters of a folder (recursively, by suffix), or the one file."""
    if source.is_dir():
        found = sorted(p for p in source.rglob("*") if p.suffix.lower() in RASTER_SUFFIXES)
        if not found:
            raise AerialSourceError(f"{source}: no rasters ({', '.join(sorted(RASTER_SUFFIXES))})")
        return found
    return [source]
