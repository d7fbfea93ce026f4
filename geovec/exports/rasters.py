"""Cloud Optimized GeoTIFFs of the land-cover image (paper, Figure 7) and of the
localisation heatmap (Figure 10), in the frame they are computed in.

That frame is the region's azimuthal equidistant CRS (metres, centred on the region:
:func:`geovec.geo.grid.local_crs`, written into the file as its PROJ definition), unless
``crs`` names another (``EPSG:3857`` for web maps; any CRS that PROJ knows). Pixels
outside every map tile's footprint are nodata (NaN); the bands are float32 and named
(land cover: ``PC1``, ``PC2``, ``PC3``, each scaled to [0, 1] as the figure's R, G, B;
heatmap: ``score``, the feature distance of the tile to the predicted aerial feature,
lower is likelier, and ``rank``, 1 for the best tile). GDAL's COG driver lays the file
out (tiled, DEFLATE, overviews down to one block and at least one, IFDs first); geovec's
facts go in the ``geovec`` tag, one JSON object (kind, region, feature, query, ...).

A tile's footprint is the square of ``size_m`` metres in the tile's own frame
(:func:`geovec.geodesy.footprint_rings`); each is carried into the raster's frame by its
corners and filled with the tile's values.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import rasterio.features
import rasterio.shutil
import rasterio.warp
from pyproj import CRS, Transformer
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from shapely.geometry import Polygon

from geovec.defaults import __version__
from geovec.errors import ExportError
from geovec.geo.grid import local_crs, local_proj
from geovec.geodesy import ecef_m, footprint_rings

if TYPE_CHECKING:
    from geovec.analyses.landcover import LandcoverResult
    from geovec.analyses.localize import Localization

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
"""The media type STAC gives a Cloud Optimized GeoTIFF."""
RASTER_SUFFIXES = (".tif", ".tiff")
MAX_SIDE_PX = 16_384
"""The longest side a heatmap raster may have; a larger region gets coarser pixels."""
DEFAULT_HEATMAP_PIXELS_PER_TILE = 16
TAG = "geovec"
"""The dataset tag holding geovec's facts about a raster, as one JSON object."""


@dataclasses.dataclass
class RasterExport:
    """What was written: the file, its CRS (WKT and PROJ string), its size in pixels
    (``width``, ``height``), pixel size and bounds in the CRS's units (west, south, east,
    north), the band names, the overview factors and the facts stored in its tags."""

    path: Path
    crs_wkt: str
    crs_proj: str | None
    crs_code: str | None
    width: int
    height: int
    transform: list[float]
    bounds: list[float]
    bands: list[str]
    overviews: list[int]
    tags: dict

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["path"] = str(self.path)
        return out


def raster_frame(crs: str | None, origin: tuple[float, float]) -> CRS:
    """The CRS a raster is written in: ``crs`` when given, else the azimuthal equidistant
    frame centred on ``origin`` (lon, lat decimal degrees)."""
    if crs is None:
        return local_crs(*origin)
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj's CRSError, or a type it cannot read
        raise ExportError(f"--crs {crs!r}: not a CRS PROJ knows ({exc})") from None


def landcover_cog(result: LandcoverResult, path: str | Path, *, crs: str | None = None):
    """Write the land-cover image of ``result`` as a COG (module docstring): bands PC1,
    PC2, PC3, nodata outside the tiles' footprints. Returns a :class:`RasterExport`."""
    if result.origin is None or result.extent is None:
        raise ExportError("this land-cover result has no frame (origin, extent) to write")
    image = np.asarray(result.image, np.float32)
    height, width = image.shape[:2]
    west, east, south, north = result.extent
    frame = local_crs(*result.origin)
    transform = from_origin(west, north, (east - west) / width, (north - south) / height)
    bands = np.moveaxis(image, 2, 0).copy()
    lonlat, sizes = getattr(result, "tile_lonlat", None), getattr(result, "tile_size_m", None)
    if lonlat is not None and len(lonlat):
        inside = _footprint_index(
            lonlat, footprint_sizes(sizes, lonlat), frame, transform, (height, width)
        )
        bands[:, inside == 0] = np.nan
    tags = {
        "kind": "landcover",
        "region": result.region,
        "feature": result.feature,
        "tiles": result.tiles,
        "explained_variance": result.explained_variance,
        "scale": "each component scaled to [0, 1] over the region's tiles (the figure's RGB)",
    }
    descriptions = [f"PC{i + 1}" for i in range(bands.shape[0])]
    band_tags = [{"explained_variance": f"{v:.6g}"} for v in result.explained_variance]
    if crs is not None:
        bands, transform, frame = _reproject(bands, transform, frame, raster_frame(crs, (0, 0)))
    return write_cog(path, bands, transform, frame, descriptions, tags, band_tags, "average")


def heatmap_cog(
    result: Localization,
    path: str | Path,
    *,
    crs: str | None = None,
    pixels_per_tile: int = DEFAULT_HEATMAP_PIXELS_PER_TILE,
):
    """Write the localisation heatmap of ``result`` as a COG (module docstring): bands
    ``score`` and ``rank`` filling each tile's footprint, nodata elsewhere. Returns a
    :class:`RasterExport`."""
    if pixels_per_tile < 1:
        raise ExportError(f"pixels per tile must be at least 1, got {pixels_per_tile}")
    lonlat = np.asarray(result.tile_lonlat, float)
    if not len(lonlat):
        raise ExportError("the localisation scored no tiles: no heatmap to write")
    frame = raster_frame(crs, centre_lonlat(lonlat))
    sizes = footprint_sizes(result.tile_size_m, lonlat)
    rings = _rings_in(frame, lonlat, sizes)
    widths = rings[:, :, 0].max(axis=1) - rings[:, :, 0].min(axis=1)
    lo, hi = rings.reshape(-1, 2).min(axis=0), rings.reshape(-1, 2).max(axis=0)
    pixel = float(np.median(widths)) / pixels_per_tile
    pixel = max(pixel, float((hi - lo).max()) / MAX_SIDE_PX)
    west, south = np.floor(lo / pixel) * pixel
    east, north = np.ceil(hi / pixel) * pixel
    width, height = int(round((east - west) / pixel)), int(round((north - south) / pixel))
    transform = from_origin(west, north, pixel, pixel)
    index = _rasterize(rings, transform, (height, width))
    scores = np.asarray(result.scores, np.float64)
    ranks = tile_ranks(scores)
    bands = np.full((2, height, width), np.nan, np.float32)
    filled = index > 0
    bands[0][filled] = scores[index[filled] - 1]
    bands[1][filled] = ranks[index[filled] - 1]
    tags = {
        "kind": "heatmap",
        "query": result.query,
        "feature": result.feature,
        "region": result.region,
        "candidates": result.candidates,
        "true_tile": result.true_tile,
        "true_rank": result.true_rank,
        "true_lonlat": list(result.true_lonlat) if result.true_lonlat else None,
        "score": "feature distance to the predicted aerial feature: lower is likelier",
        "rank": "1 for the best tile",
    }
    return write_cog(path, bands, transform, frame, ["score", "rank"], tags, None, "nearest")


def tile_ranks(scores: np.ndarray) -> np.ndarray:
    """Each tile's rank by score: 1 + the tiles strictly closer (1 for the best; tied
    tiles share a rank), as the explorer's heatmap numbers them."""
    scores = np.asarray(scores, np.float64)
    return 1 + np.searchsorted(np.sort(scores), scores, side="left")


def centre_lonlat(lonlat: np.ndarray) -> tuple[float, float]:
    """lon, lat (decimal degrees) below the mean of the points' Earth-centred positions:
    a centre that stays right across the antimeridian and near the poles."""
    x, y, z = (float(np.asarray(a).mean()) for a in ecef_m(lonlat[:, 0], lonlat[:, 1]))
    lon, lat, _ = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True).transform(x, y, z)
    return float(lon), float(lat)


def footprint_sizes(sizes, lonlat: np.ndarray) -> np.ndarray:
    """Footprint sides in metres: the stored ones, their median where one is unknown, or
    (none stored) the median spacing of the tile centres."""
    if sizes is not None and np.isfinite(np.asarray(sizes, float)).any():
        sizes = np.asarray(sizes, float)
        return np.where(np.isfinite(sizes), sizes, np.nanmedian(sizes))
    if len(lonlat) < 2:
        raise ExportError("one tile without size_m: its footprint is unknown")
    from scipy.spatial import cKDTree

    xyz = np.column_stack(ecef_m(lonlat[:, 0], lonlat[:, 1]))
    return np.full(len(lonlat), float(np.median(cKDTree(xyz).query(xyz, k=2)[0][:, 1])))


def _rings_in(frame: CRS, lonlat: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(N, 5, 2) footprint corners in ``frame``'s coordinates."""
    rings = footprint_rings(lonlat[:, 0], lonlat[:, 1], sizes)
    to_frame = Transformer.from_crs("EPSG:4326", frame, always_xy=True)
    x, y = to_frame.transform(rings[:, :, 0], rings[:, :, 1])
    out = np.stack([np.asarray(x), np.asarray(y)], axis=-1)
    if not np.isfinite(out).all():
        raise ExportError(f"some tiles lie outside the area of {frame.name}; pick another --crs")
    return out


def _rasterize(rings: np.ndarray, transform, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) int32: 1 + the index of the footprint each pixel centre lies in, 0 outside."""
    shapes = ((Polygon(ring), i + 1) for i, ring in enumerate(rings))
    return rasterio.features.rasterize(
        shapes, out_shape=shape, transform=transform, fill=0, dtype="int32"
    )


def _footprint_index(lonlat, sizes, frame, transform, shape) -> np.ndarray:
    return _rasterize(_rings_in(frame, np.asarray(lonlat, float), sizes), transform, shape)


def _reproject(bands: np.ndarray, transform, source: CRS, target: CRS):
    """The bands warped (nearest neighbour) into ``target`` at about the same pixel size."""
    count, height, width = bands.shape
    src, dst = (
        rasterio.crs.CRS.from_wkt(source.to_wkt()),
        rasterio.crs.CRS.from_wkt(target.to_wkt()),
    )
    bounds = rasterio.transform.array_bounds(height, width, transform)
    new_transform, new_width, new_height = rasterio.warp.calculate_default_transform(
        src, dst, width, height, *bounds
    )
    out = np.full((count, new_height, new_width), np.nan, np.float32)
    rasterio.warp.reproject(
        bands,
        out,
        src_transform=transform,
        src_crs=src,
        dst_transform=new_transform,
        dst_crs=dst,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=rasterio.warp.Resampling.nearest,
    )
    return out, new_transform, target


def block_size(width: int, height: int) -> int:
    """The COG's tile side: 512 px for large rasters, 256, or 128 (GDAL's least)."""
    side = max(width, height)
    return 512 if side >= 4096 else 256 if side >= 1024 else 128


def overview_count(width: int, height: int, block: int) -> int:
    """Overview levels (each half the last) down to one block, and at least one, so that a
    small raster (a region of a few dozen tiles) has an overview too."""
    return max(1, math.ceil(math.log2(max(width, height) / block)))


def write_cog(
    path: str | Path,
    bands: np.ndarray,
    transform,
    frame: CRS,
    descriptions: list[str],
    tags: dict,
    band_tags: list[dict] | None = None,
    resampling: str = "nearest",
) -> RasterExport:
    """Write (B, H, W) float32 ``bands`` as a Cloud Optimized GeoTIFF (GDAL's COG driver:
    tiled, DEFLATE with the floating-point predictor, overviews by ``resampling``, NaN
    nodata), each band named, ``tags`` (with geovec's version and the frame's PROJ string)
    as one JSON object in the ``geovec`` tag."""
    path = Path(path)
    if path.suffix.lower() not in RASTER_SUFFIXES:
        raise ExportError(f"{path}: a Cloud Optimized GeoTIFF is named .tif or .tiff")
    count, height, width = bands.shape
    if not width or not height:
        raise ExportError("nothing to write: the raster has no pixels")
    crs = rasterio.crs.CRS.from_wkt(frame.to_wkt())
    proj = _proj_string(frame)
    block = block_size(width, height)
    path.parent.mkdir(parents=True, exist_ok=True)
    facts = {**tags, "geovec_version": __version__, "proj": proj}
    profile = dict(
        driver="GTiff", width=width, height=height, count=count, dtype="float32",
        crs=crs, transform=transform, nodata=np.nan,
    )  # fmt: skip
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            dataset.write(bands.astype(np.float32))
            for i, name in enumerate(descriptions, start=1):
                dataset.set_band_description(i, name)
                if band_tags and i <= len(band_tags):
                    dataset.update_tags(i, **band_tags[i - 1])
            dataset.update_tags(**{TAG: json.dumps(facts)})
            rasterio.shutil.copy(
                dataset,
                path,
                driver="COG",
                BLOCKSIZE=block,
                COMPRESS="DEFLATE",
                PREDICTOR="FLOATING_POINT",
                OVERVIEWS="AUTO",
                OVERVIEW_COUNT=overview_count(width, height, block),
                OVERVIEW_RESAMPLING=resampling.upper(),
                RESAMPLING=resampling.upper(),
            )
    with rasterio.open(path) as written:
        overviews = written.overviews(1)
        out_transform = list(written.transform)[:6]
        bounds = list(written.bounds)
    return RasterExport(
        path=path,
        crs_wkt=frame.to_wkt(),
        crs_proj=proj,
        crs_code=_code(frame),
        width=width,
        height=height,
        transform=out_transform,
        bounds=[bounds[0], bounds[1], bounds[2], bounds[3]],
        bands=list(descriptions),
        overviews=list(overviews),
        tags=dict(tags),
    )


def _code(frame: CRS) -> str | None:
    """ "AUTHORITY:CODE" of a CRS that has one (EPSG:3857), None for a custom frame."""
    found = frame.to_authority(min_confidence=100)
    return f"{found[0]}:{found[1]}" if found else None


def _proj_string(frame: CRS) -> str | None:
    """The PROJ string of an azimuthal equidistant frame (None for other CRSs: their
    WKT and code say it all)."""
    with warnings.catch_warnings():  # to_dict goes through a PROJ string, and says so
        warnings.simplefilter("ignore", UserWarning)
        params = frame.to_dict()
    if params.get("proj") != "aeqd":
        return None
    return local_proj(params.get("lon_0", 0.0), params.get("lat_0", 0.0))


def read_tags(path: str | Path) -> dict:
    """geovec's facts about a raster it wrote (the ``geovec`` tag); {} for any other."""
    with rasterio.open(path) as dataset:
        raw = dataset.tags().get(TAG)
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
