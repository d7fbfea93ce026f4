"""The land-cover overlay (``/api/landcover`` and ``/api/landcover.png``, paper Figure 7):
the PCA image of a region's map tiles warped to Web Mercator, kept per (region, feature)."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

import numpy as np

from geovec.analyses.landcover import landcover
from geovec.geo.webtiles import png_bytes, warp_to_web_mercator
from geovec.store import Store

LANDCOVER_PX = 1024
"""Width in pixels of the land-cover overlay."""
LANDCOVER_PIXELS_PER_TILE = 8
"""Interpolated pixels per tile side of the land-cover overlay (the figure uses 16); the
natural-neighbour interpolation is the cost of the first request, a quarter at 8."""
CACHED_OVERLAYS = 16
"""Land-cover images kept (LRU)."""


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
            self.store, feature, region=region, pixels_per_tile=LANDCOVER_PIXELS_PER_TILE
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
            "url": "/api/landcover.png?" + urlencode({"region": result.region, "feature": feature}),
        }
        return meta, png
