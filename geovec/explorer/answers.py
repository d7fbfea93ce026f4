"""What the explorer's API answers, as plain Python over one store: every answer comes
from the same library functions as the command line (``localize``, ``search``,
``nearest_ground``, ``landcover``, the store's sealed SQL), shaped for the page (GeoJSON,
PNG bytes). No HTTP here: :mod:`geovec.explorer.routes` maps requests onto these methods.

:class:`Explorer` holds the store and what the layers keep while it serves; each layer's
answer is in its own module: :mod:`~geovec.explorer.points` (the ground photos),
:mod:`~geovec.explorer.images` (row images), :mod:`~geovec.explorer.basemap` (the aerial
web tiles), :mod:`~geovec.explorer.tiles` (a tile click, aerial search),
:mod:`~geovec.explorer.heatmap` (a photo click: neighbours, heatmap),
:mod:`~geovec.explorer.landcover` (the land-cover overlay) and
:mod:`~geovec.explorer.sqlbox` (the SQL box).

>>> explorer = Explorer(demo_store)
>>> page = explorer.points(limit=2)
>>> page["type"], len(page["features"]), page["total"] > 2
('FeatureCollection', 2, True)
"""

from __future__ import annotations

import json
from pathlib import Path

from geovec.analyses.info import store_info
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_K, DEFAULT_NEIGHBORS
from geovec.explorer import heatmap, images, sqlbox, tiles
from geovec.explorer.basemap import BaseMap
from geovec.explorer.geojson import union
from geovec.explorer.heatmap_cache import HeatmapCache
from geovec.explorer.images import VIEWS
from geovec.explorer.landcover import LandCoverOverlays
from geovec.explorer.points import DEFAULT_PAGE, GroundPoints, PointsAnswer
from geovec.explorer.requests import NotFound, RequestError
from geovec.geo.bounds import Bbox
from geovec.geo.webtiles import MapTiles
from geovec.report.figures import HEATMAP_ALPHA
from geovec.store import Store
from geovec.store.filters import id_filter


class Explorer:
    """The explorer's answers over the store at ``store`` (a path or an open Store),
    read-only. Keeps what does not change while it serves: the photos' GeoJSON page set
    (per ground version), the map tiles' positions and web tiles (per map version, the tiles
    on disk beside the store), heatmaps and the regions' inputs (per store version),
    land-cover images."""

    def __init__(self, store: Store | str | Path):
        self.store = store if isinstance(store, Store) else Store(store, create=False)
        self.ground_points = GroundPoints(self.store)
        self.basemap = BaseMap(self.store)
        self.overlays = LandCoverOverlays(self.store)
        self.heatmaps = HeatmapCache(self.store)

    # what is there ----------------------------------------------------------------

    def info(self) -> dict:
        """What ``geovec info`` answers (:func:`geovec.analyses.info.store_info`: tables,
        features with their provenance, regions with their bounds in decimal degrees,
        splits, indexes, failures, heads, the next steps), and for the page: the features
        every interaction can use, the default one, the box to show, the web zoom from
        which the aerial base layer is drawn and the heatmap's opacity."""
        info = store_info(self.store)
        views = info["features"]
        usable = [f for f in views.get("ground", {}) if all(f in views.get(v, {}) for v in VIEWS)]
        map_tiles = self.map_tiles()
        return {
            **info,
            "usable_features": usable,
            "default_feature": DEFAULT_FEATURE
            if DEFAULT_FEATURE in usable
            else (usable[0] if usable else None),
            "bounds": map_tiles.bounds() or union(info["regions"]),
            "basemap_zoom": map_tiles.native_zoom() if len(map_tiles) else None,
            "heatmap_opacity": HEATMAP_ALPHA,
        }

    def feature(self, name: str | None, view: str = "ground") -> str:
        """``name`` checked against the view's feature columns (RequestError), or the
        default feature."""
        present = self.store.features(view) if self.store.has(view) else {}
        if name is None:
            name = DEFAULT_FEATURE if DEFAULT_FEATURE in present else next(iter(present), None)
            if name is None:
                raise RequestError(f"the {view} table has no feature column")
        if name not in present:
            raise RequestError(
                f"unknown feature {name!r} for {view}; present: {', '.join(present) or 'none'}"
            )
        return name

    def ground_id(self, ident: str) -> str:
        """``ident`` if the ground table holds it, else NotFound."""
        if not self.store.has("ground") or not self.store.count("ground", id_filter([ident])):
            raise NotFound(f"no ground image with id {ident!r}")
        return ident

    # the layers, one method each (their code is in the layer's module) ------------------

    def points(self, bbox: Bbox | None = None, *, offset: int = 0, limit: int = DEFAULT_PAGE):
        """:meth:`points_geojson` as a dict."""
        return json.loads(self.points_geojson(bbox, offset=offset, limit=limit))

    def points_geojson(
        self, bbox: Bbox | None = None, *, offset: int = 0, limit: int = DEFAULT_PAGE
    ) -> bytes:
        """:meth:`geovec.explorer.points.GroundPoints.geojson`."""
        return self.ground_points.geojson(bbox, offset=offset, limit=limit)

    def points_answer(
        self,
        bbox: Bbox | None = None,
        *,
        offset: int = 0,
        limit: int = DEFAULT_PAGE,
        gzip_ok: bool = False,
        if_none_match: str | None = None,
    ) -> PointsAnswer:
        """:meth:`geovec.explorer.points.GroundPoints.answer`."""
        return self.ground_points.answer(
            bbox, offset=offset, limit=limit, gzip_ok=gzip_ok, if_none_match=if_none_match
        )

    def image_file(self, view: str, ident: str) -> Path:
        """:func:`geovec.explorer.images.image_file`."""
        return images.image_file(self.store, view, ident)

    def map_tiles(self) -> MapTiles:
        """:meth:`geovec.explorer.basemap.BaseMap.map_tiles`."""
        return self.basemap.map_tiles()

    def web_tile(self, z: int, x: int, y: int) -> bytes | None:
        """:meth:`geovec.explorer.basemap.BaseMap.web_tile`."""
        return self.basemap.web_tile(z, x, y)

    def tile_at(self, lon: float, lat: float) -> dict:
        """:func:`geovec.explorer.tiles.tile_at`."""
        return tiles.tile_at(self, lon, lat)

    def search(self, tile: str, feature: str | None = None, k: int = DEFAULT_K) -> dict:
        """:func:`geovec.explorer.tiles.search`."""
        return tiles.search(self, tile, feature, k)

    def neighbours(self, ident: str, feature: str | None = None, k: int = DEFAULT_K) -> dict:
        """:func:`geovec.explorer.heatmap.neighbours`."""
        return heatmap.neighbours(self, ident, feature, k)

    def heatmap(
        self, ident: str, feature: str | None = None, neighbors: int = DEFAULT_NEIGHBORS
    ) -> dict:
        """:func:`geovec.explorer.heatmap.heatmap`."""
        return heatmap.heatmap(self, ident, feature, neighbors)

    def landcover(self, region: str | None = None, feature: str | None = None) -> dict:
        """:meth:`geovec.explorer.landcover.LandCoverOverlays.meta` (feature checked)."""
        return self.overlays.meta(region, self.feature(feature, "map"))

    def landcover_png(self, region: str | None = None, feature: str | None = None) -> bytes:
        """:meth:`geovec.explorer.landcover.LandCoverOverlays.png` (feature checked)."""
        return self.overlays.png(region, self.feature(feature, "map"))

    def sql(self, query: str, limit: int = 1000, timeout_s: float = 10.0) -> dict:
        """Read-only SQL from the page (:func:`geovec.explorer.sqlbox.run_sql_box`)."""
        return sqlbox.run_sql_box(self.store, query, limit=limit, timeout_s=timeout_s)
