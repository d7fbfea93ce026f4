"""Aerial sources: whatever holds aerial imagery of the ground, opened by one function and
cut the same way. Every source has ``cut(lon, lat, size_m, px)`` → a north-up
:class:`~geovec.geo.sampling.Cut` (or None when the square misses it) and ``close()``.

- a GeoTIFF / COG or any GDAL raster, or a folder or list of them (:mod:`.raster`);
- an image with a world file (.pgw, .jgw, .tfw, .wld) and a CRS (:mod:`.ortho`);
- a tile folder ``{z}/{x}/{y}.png`` or an MBTiles file (:mod:`.tiles`).
"""

from __future__ import annotations

from pathlib import Path

from geovec.errors import AerialSourceError
from geovec.geo.ortho import Orthophoto, world_file_of
from geovec.geo.raster import RASTER_SUFFIXES, Mosaic, Raster, raster_paths
from geovec.geo.tiles import TilePyramid, tile_store


def _is_tile_folder(folder: Path) -> bool:
    return any(p.is_dir() and p.name.isdigit() for p in folder.iterdir())


def open_source(
    source: str | Path | list[str | Path],
    *,
    crs: str | None = None,
    zoom: int | None = None,
    scheme: str | None = None,
):
    """The aerial source at ``source``, by what it is.

    Args:
      source: a raster file, a folder of rasters or of tiles, an .mbtiles file, an image
        with a world file, or a list of rasters (a mosaic).
      crs: the CRS of a world-file image (default: its .prj) or of a raster without one.
      zoom: the tile zoom to read (default: the coarsest as fine as the output).
      scheme: tile rows "xyz" (from the north) or "tms" (from the south); default: TMS
        when the folder has gdal2tiles' tilemapresource.xml, else XYZ.
    """
    if isinstance(source, list | tuple):
        paths = [Path(p) for p in source]
        if len(paths) != 1:
            missing = [p for p in paths if not p.is_file()]
            if missing:
                raise AerialSourceError(f"{missing[0]}: no such raster")
            return Mosaic(paths, crs)
        source = paths[0]
    source = Path(source)
    if not source.exists():
        raise AerialSourceError(f"{source}: no such file or folder")
    if source.suffix.lower() == ".mbtiles" or (source.is_dir() and _is_tile_folder(source)):
        return TilePyramid(tile_store(source, scheme), zoom)
    if source.is_dir():
        paths = raster_paths(source)
        return Mosaic(paths, crs) if len(paths) > 1 else Raster(paths[0], crs)
    world = world_file_of(source)
    if world is not None and source.suffix.lower() not in RASTER_SUFFIXES:
        return Orthophoto.open(source, world, crs)
    return Raster(source, crs)
