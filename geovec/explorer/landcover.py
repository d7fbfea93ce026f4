"""The land-cover overlay (``/api/landcover`` and ``/api/landcover.png``, paper Figure 7):
the PCA image of a region's map tiles warped to Web Mercator, kept per (region, feature).
Its interpolated grid is capped at ``MAX_LANDCOVER_PIXELS``: fewer pixels per tile where
the region is wide, a 400 naming the cap where even one pixel per tile is too many (tiles
scattered over a continent)."""

from __future__ import annotations

import functools
import math
from urllib.parse import urlencode

import numpy as np

from geovec.analyses.landcover import landcover
from geovec.explorer.requests import RequestError
from geovec.geo.webtiles import png_bytes, warp_to_web_mercator
from geovec.store import Store
from geovec.store.regions import region_address, region_filter, region_label

LANDCOVER_PX = 1024
"""Width in pixels of the land-cover overlay."""
LANDCOVER_PIXELS_PER_TILE = 8
"""Interpolated pixels per tile side of the land-cover overlay (the figure uses 16); the
natural-neighbour interpolation is the cost of the first request, a quarter at 8."""
CACHED_OVERLAYS = 16
"""Land-cover images kept (LRU)."""
MAX_LANDCOVER_PIXELS = 1024 * 1024
"""Most interpolated pixels of one land-cover image (1024 x 1024: the overlay is drawn
1024 pixels wide, so more would be thrown away)."""


def pixels_per_tile(store: Store, region: str | None) -> int:
    """Pixels per tile side for ``region``'s land-cover image: LANDCOVER_PIXELS_PER_TILE,
    fewer where its grid (the tiles' extent over their spacing, laid as
    :func:`geovec.analyses.landcover.landcover` lays it) would pass MAX_LANDCOVER_PIXELS.

    Raises:
      RequestError: even one pixel per tile would pass it.
    """
    cells = _grid_cells(store, region)
    if cells is None:  # no usable grid: landcover says what is wrong
        return LANDCOVER_PIXELS_PER_TILE
    fit = int(math.sqrt(MAX_LANDCOVER_PIXELS / cells))
    if fit < 1:
        raise RequestError(
            f"the land-cover image of region {region_label(region)!r} would need "
            f"{round(cells):,} pixels at "
            f"one a tile, over the cap of {MAX_LANDCOVER_PIXELS:,} (1024 x 1024): its tiles "
            "are too far apart for one image"
        )
    return min(LANDCOVER_PIXELS_PER_TILE, fit)


def _grid_cells(store: Store, region: str | None) -> float | None:
    """Cells of ``region``'s land-cover grid at one pixel per tile: (extent / spacing + 1)
    on each side in its local frame, the spacing the median distance to the nearest
    other tile (metres); None with fewer than 2 tiles or several regions and none named."""
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from geovec.geo.grid import local_crs

    if not store.has("map"):
        return None
    where = None if region is None else region_filter(region)
    rows = store.read("map", ["region", "lon", "lat"], where)
    if region is None and len(set(rows.column("region").to_pylist())) > 1:
        return None
    lon = rows.column("lon").to_numpy(zero_copy_only=False).astype(float)
    lat = rows.column("lat").to_numpy(zero_copy_only=False).astype(float)
    keep = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[keep], lat[keep]
    if len(lon) < 2:
        return None
    to_xy = Transformer.from_crs("EPSG:4326", local_crs(lon.mean(), lat.mean()), always_xy=True)
    x, y = to_xy.transform(lon, lat)
    sites = np.column_stack([x, y])
    spacing = float(np.median(cKDTree(sites).query(sites, 2)[0][:, 1]))
    if not spacing > 0:
        return None
    return (np.ptp(x) / spacing + 1) * (np.ptp(y) / spacing + 1)


class LandCoverOverlays:
    """Land-cover images of ``store``, made on first request and kept."""

    def __init__(self, store: Store):
        self.store = store
        self._image = functools.lru_cache(maxsize=CACHED_OVERLAYS)(self._make)

    def meta(self, region: str | None, feature: str) -> dict:
        """Where the PNG is (``/api/landcover.png``), its bounds (west, south, east,
        north; decimal degrees) and the explained variance of its three components."""
        return self._image(region, feature)[0]

    def png(self, region: str | None, feature: str) -> bytes:
        """The land-cover image warped to Web Mercator (PNG)."""
        return self._image(region, feature)[1]

    def _make(self, region: str | None, feature: str) -> tuple[dict, bytes]:
        from pyproj import Transformer

        from geovec.geo.grid import local_crs

        result = landcover(
            self.store, feature, region=region, pixels_per_tile=pixels_per_tile(self.store, region)
        )
        west, east, south, north = result.extent
        height, width = result.image.shape[:2]
        crs = local_crs(*result.origin)
        to_frame = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

        def to_source(lon, lat):
            x, y = to_frame.transform(lon, lat)
            return (x - west) / (east - west) * width, (north - y) / (north - south) * height

        edge = np.linspace(0, 1, 33)
        ex = np.concatenate([west + (east - west) * edge, np.full(33, east),
                             west + (east - west) * edge, np.full(33, west)])  # fmt: skip
        ey = np.concatenate([np.full(33, north), south + (north - south) * edge,
                             np.full(33, south), south + (north - south) * edge])  # fmt: skip
        lon, lat = to_lonlat.transform(ex, ey)
        bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        rgb = (np.clip(result.image, 0, 1) * 255).round().astype(np.uint8)
        png = png_bytes(warp_to_web_mercator(rgb, to_source, bounds, LANDCOVER_PX))
        meta = {
            **result.as_dict(),
            "bounds": bounds,
            "url": "/api/landcover.png?"
            + urlencode({"region": region_address(result.region), "feature": feature}),
        }
        return meta, png
