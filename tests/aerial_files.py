"""Aerial sources written by other tools, from one synthetic orthophoto: GeoTIFFs in UTM
and in geographic coordinates (GDAL through rasterio, with overviews), a Cloud-Optimized
GeoTIFF, an MBTiles file (GDAL's MBTiles driver), tile folders made by gdal2tiles (TMS and
XYZ; skipped where GDAL's command-line tools are missing) and a PNG with a world file.

The orthophoto is 1 m per pixel, a smooth texture with bright magenta marks 3 m wide at
known points (MARKS, lon/lat)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

CENTRE = (-79.94, 32.78)  # lon, lat: Charleston
UTM = "EPSG:32617"
SIDE_M = 800
MARK = (255, 0, 255)
MARK_OFFSETS = [(-200.0, 150.0), (0.0, 0.0), (250.0, -240.0)]  # east, north metres


def texture(size: int) -> np.ndarray:
    """Smooth RGB texture (H, W, 3) uint8 without magenta."""
    y, x = np.mgrid[0:size, 0:size] / size
    r = 90 + 60 * np.sin(9 * x + 3 * np.cos(7 * y))
    g = 120 + 70 * np.cos(11 * y - 2 * x)
    b = 60 + 40 * np.sin(5 * (x + y))
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def utm_frame():
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    cx, cy = to_utm.transform(*CENTRE)
    return round(cx), round(cy)


def marks_lonlat() -> list[tuple[float, float]]:
    """Lon, lat of the centre of each mark: the centre of its middle pixel."""
    from pyproj import Transformer

    cx, cy = utm_frame()
    back = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    return [back.transform(cx + e + 0.5, cy + n - 0.5) for e, n in MARK_OFFSETS]


def orthophoto() -> tuple[np.ndarray, object]:
    """(pixels (H, W, 3), rasterio affine in UTM) of the orthophoto."""
    from rasterio.transform import from_origin

    cx, cy = utm_frame()
    left, top = cx - SIDE_M / 2, cy + SIDE_M / 2
    pixels = texture(SIDE_M)
    for e, n in MARK_OFFSETS:
        col, row = int(cx + e - left), int(top - (cy + n))
        pixels[row - 1 : row + 2, col - 1 : col + 2] = MARK
    return pixels, from_origin(left, top, 1.0, 1.0)


def write_geotiff(path: Path, pixels, transform, crs, **extra) -> Path:
    import rasterio
    from rasterio.enums import Resampling

    profile = dict(
        driver="GTiff",
        width=pixels.shape[1],
        height=pixels.shape[0],
        count=3,
        dtype="uint8",
        crs=crs,
        transform=transform,
        tiled=True,
        photometric="RGB",
    )
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(pixels, -1, 0))
        if profile["driver"] == "GTiff":
            dst.build_overviews([2, 4, 8], Resampling.average)
    return path


def reproject_to(src_path: Path, path: Path, crs: str, resolution: float) -> Path:
    """GDAL's warper (through rasterio) into another CRS, alpha marking no data."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with rasterio.open(src_path) as src:
        transform, width, height = calculate_default_transform(
            src.crs, crs, src.width, src.height, *src.bounds, resolution=resolution
        )
        profile = dict(
            driver="GTiff",
            width=width,
            height=height,
            count=4,
            dtype="uint8",
            crs=crs,
            transform=transform,
            photometric="RGB",
            alpha="YES",
        )
        with rasterio.open(path, "w", **profile) as dst:
            for band in (1, 2, 3):
                reproject(
                    rasterio.band(src, band),
                    rasterio.band(dst, band),
                    resampling=Resampling.bilinear,
                )
            mask = np.full((src.height, src.width), 255, np.uint8)
            alpha = np.zeros((height, width), np.uint8)
            reproject(
                mask,
                alpha,
                src_transform=src.transform,
                src_crs=src.crs,
                dst_transform=transform,
                dst_crs=crs,
                resampling=Resampling.nearest,
            )
            dst.write(alpha, 4)
    return path


def build(folder: Path) -> dict[str, Path]:
    """Every kind of aerial source, by name."""
    import rasterio
    from rasterio.shutil import copy as gdal_copy

    folder.mkdir(parents=True, exist_ok=True)
    pixels, transform = orthophoto()
    out = {"utm": write_geotiff(folder / "utm.tif", pixels, transform, UTM)}
    out["geographic"] = reproject_to(out["utm"], folder / "wgs84.tif", "EPSG:4326", 1e-5)
    out["cog"] = folder / "utm_cog.tif"
    gdal_copy(out["utm"], out["cog"], driver="COG", overview_resampling="average")
    mercator = reproject_to(out["utm"], folder / "mercator.tif", "EPSG:3857", 1.0)
    out["mbtiles"] = folder / "tiles.mbtiles"
    with rasterio.Env():
        gdal_copy(mercator, out["mbtiles"], driver="MBTiles", ZOOM_LEVEL_STRATEGY="UPPER")
    from PIL import Image

    png = folder / "ortho.png"
    Image.fromarray(pixels).save(png)
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
    # a world file names the centre of the first pixel
    png.with_suffix(".pgw").write_text(f"{a}\n{d}\n{b}\n{e}\n{c + a / 2}\n{f + e / 2}\n")
    png.with_suffix(".prj").write_text(rasterio.crs.CRS.from_string(UTM).to_wkt())
    out["worldfile"] = png
    if shutil.which("gdal2tiles.py"):
        for scheme, flags in (("tms", []), ("xyz", ["--xyz"])):
            target = folder / f"gdal2tiles_{scheme}"
            subprocess.run(
                [
                    "gdal2tiles.py",
                    *flags,
                    "-q",
                    "-z",
                    "14-17",
                    "-w",
                    "none",
                    "--processes=1",
                    str(out["utm"]),
                    str(target),
                ],
                check=True,
            )
            out[f"tiles_{scheme}"] = target
    return out
