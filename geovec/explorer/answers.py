"""What the explorer's API answers, as plain Python over one store: every answer comes
from the same library functions as the command line (``localize``, ``search``,
``nearest_ground``, ``landcover``, the store's sealed SQL), shaped for the page (GeoJSON,
PNG bytes). No HTTP here: :mod:`geovec.explorer.app` maps requests onto these methods.

>>> explorer = Explorer(demo_store)
>>> page = explorer.points(limit=2)
>>> page["type"], len(page["features"]), page["total"] > 2
('FeatureCollection', 2, True)
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pyarrow as pa

from geovec.analyses.landcover import landcover
from geovec.analyses.localize import localize
from geovec.analyses.regions import containing_tiles
from geovec.analyses.search import nearest_ground, search
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_K, DEFAULT_NEIGHBORS
from geovec.errors import GeovecError
from geovec.explorer.files import servable
from geovec.explorer.requests import NotFound, RequestError
from geovec.explorer.sqlbox import run_sql_box
from geovec.geo.bounds import Bbox
from geovec.geo.webtiles import MapTiles, png_bytes, render_web_tile, warp_to_web_mercator
from geovec.geodesy import footprint_rings
from geovec.report.figures import HEATMAP_ALPHA, heatmap_colours
from geovec.store import Store
from geovec.store.filters import id_filter

VIEWS = ("ground", "overhead", "map")
POINT_PROPERTIES = ("id", "region", "split", "isolated", "source")
"""What each point of /api/points carries besides its position."""
MAX_PAGE = 50_000
"""Most points in one page of /api/points."""
LANDCOVER_PX = 1024
"""Width in pixels of the land-cover overlay."""
LANDCOVER_PIXELS_PER_TILE = 8
"""Interpolated pixels per tile side of the land-cover overlay (the figure uses 16); the
natural-neighbour interpolation is the cost of the first request, a quarter at 8."""


class Explorer:
    """The explorer's answers over the store at ``store`` (a path or an open Store),
    read-only. Caches what does not change while it serves: the map tiles' positions,
    rendered web tiles and land-cover images."""

    def __init__(self, store: Store | str | Path):
        self.store = store if isinstance(store, Store) else Store(store, create=False)
        self._lock = threading.Lock()
        self._tiles: MapTiles | None = None
        self._points: tuple[int, tuple] | None = None
        self._web_tile = functools.lru_cache(maxsize=2048)(self._render_web_tile)
        self._landcover = functools.lru_cache(maxsize=16)(self._landcover_image)

    # what is there ----------------------------------------------------------------

    def info(self) -> dict:
        """Tables and row counts, feature columns per view (name → length), regions with
        their bounds (decimal degrees), the features every interaction can use, the
        default one, and the web zoom from which the aerial base layer is drawn."""
        views = {v: self.store.features(v) for v in VIEWS if self.store.has(v)}
        usable = [f for f in views.get("ground", {}) if all(f in views.get(v, {}) for v in VIEWS)]
        regions = []
        if self.store.has("ground"):
            rows = self.store.query("region_bounds")
            regions = rows.to_pylist()
        tiles = self.map_tiles()
        return {
            "store": str(self.store.path),
            "counts": {t: self.store.count(t) for t in self.store.tables()},
            "features": views,
            "usable_features": usable,
            "default_feature": DEFAULT_FEATURE
            if DEFAULT_FEATURE in usable
            else (usable[0] if usable else None),
            "regions": regions,
            "bounds": tiles.bounds() or _union(regions),
            "basemap_zoom": tiles.native_zoom() if len(tiles) else None,
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

    # points -------------------------------------------------------------------------

    def points(self, bbox: Bbox | None = None, *, offset: int = 0, limit: int = 10_000) -> dict:
        """Ground images with a position inside ``bbox`` as a GeoJSON FeatureCollection
        (properties: id, region, split, isolated, source), ordered by id, ``limit`` from
        ``offset``; ``total`` counts them all and ``next_offset`` is None on the last page."""
        return json.loads(self.points_geojson(bbox, offset=offset, limit=limit))

    def points_geojson(
        self, bbox: Bbox | None = None, *, offset: int = 0, limit: int = 10_000
    ) -> bytes:
        """:meth:`points` as GeoJSON text. The located images are read once (again after
        the ground table changes) with each one's Feature written out; a page is a numpy
        filter of their positions and a join of their Features."""
        if not 1 <= limit <= MAX_PAGE:
            raise RequestError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
        if offset < 0:
            raise RequestError(f"offset must be 0 or more, got {offset}")
        lon, lat, features = self._ground_points()
        w, s, e, n = bbox if bbox is not None else (-180.0, -90.0, 180.0, 90.0)
        inside = np.flatnonzero((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))
        page = inside[offset : offset + limit]
        after = offset + len(page)
        tail = {"total": len(inside), "next_offset": after if after < len(inside) else None}
        body = ",".join(features[i] for i in page)
        return (f'{{"type":"FeatureCollection","features":[{body}],{json.dumps(tail)[1:]}').encode()

    def _ground_points(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """lon, lat and the GeoJSON Feature text of every located ground image
        (sql/ground_points.sql, all of them, by id), read again only when the ground
        table has a new version."""
        if not self.store.has("ground"):
            return np.zeros(0), np.zeros(0), []
        version = self.store.table("ground").version
        with self._lock:
            if self._points is None or self._points[0] != version:
                everything = {"west": -180.0, "south": -90.0, "east": 180.0, "north": 90.0}
                rows = self.store.query("ground_points", **everything, offset=0, limit=2**62)
                features = [
                    json.dumps(
                        {
                            "type": "Feature",
                            "id": r["id"],
                            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                            "properties": {k: r[k] for k in POINT_PROPERTIES},
                        },
                        separators=(",", ":"),
                    )
                    for r in rows.to_pylist()
                ]
                lon = rows.column("lon").to_numpy(zero_copy_only=False)
                lat = rows.column("lat").to_numpy(zero_copy_only=False)
                self._points = (version, (lon, lat, features))
            return self._points[1]

    # files ----------------------------------------------------------------------------

    def image_file(self, view: str, ident: str) -> Path:
        """The image file of row ``ident`` of ``view``, if it may be sent (NotFound else:
        no such row, no file, or a file outside the folder its row names)."""
        if view not in VIEWS:
            raise RequestError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
        if not self.store.has(view):
            raise NotFound(f"the store has no {view} table")
        rows = self.store.read(view, ["path"], id_filter([ident])).column("path").to_pylist()
        path = servable(rows[0]) if rows else None
        if path is None:
            raise NotFound(f"no {view} image with id {ident!r}")
        return path

    def map_tiles(self) -> MapTiles:
        """Centres, sides and files of the store's map tiles, read once."""
        with self._lock:
            if self._tiles is None:
                self._tiles = _read_map_tiles(self.store)
            return self._tiles

    def web_tile(self, z: int, x: int, y: int) -> bytes | None:
        """Web-map tile z/x/y (PNG) of the aerial base layer, None where no tile covers it."""
        if not 0 <= z <= 24 or not (0 <= x < 2**z and 0 <= y < 2**z):
            raise RequestError(f"no web tile {z}/{x}/{y}")
        return self._web_tile(z, x, y)

    def _render_web_tile(self, z: int, x: int, y: int) -> bytes | None:
        image = render_web_tile(self.map_tiles(), z, x, y, readable=_readable)
        return png_bytes(image) if image is not None else None

    def tile_at(self, lon: float, lat: float) -> dict:
        """The map tile whose footprint holds lon/lat (decimal degrees), as a GeoJSON
        polygon feature with its id, centre and side (metres); NotFound outside them all."""
        tiles = self.map_tiles()
        with self.store.cursor() as con:  # the query evaluate uses, over every region
            found = containing_tiles(con, [("click", lon, lat)], all_regions=True).get("click")
        if found is None or found not in tiles.ids:
            raise NotFound(f"no map tile covers {lon:.6f},{lat:.6f}")
        i = tiles.ids.index(found)
        ring = footprint_rings(tiles.lon[i], tiles.lat[i], tiles.size_m[i])[0]
        return {
            "type": "Feature",
            "id": tiles.ids[i],
            "geometry": {"type": "Polygon", "coordinates": [ring.round(7).tolist()]},
            "properties": {
                "id": tiles.ids[i],
                "lon": float(tiles.lon[i]),
                "lat": float(tiles.lat[i]),
                "size_m": float(tiles.size_m[i]),
            },
        }

    # analyses ---------------------------------------------------------------------------

    def neighbours(self, ident: str, feature: str | None = None, k: int = DEFAULT_K) -> dict:
        """The ``k`` ground images nearest photo ``ident`` by ``feature`` (GeoJSON)."""
        feature = self.feature(feature)
        _check_k(k)
        found = nearest_ground(self.store, feature, id=self._ground_id(ident), k=k)
        return {
            "id": ident,
            "feature": feature,
            **_collection([_point(n.as_dict()) for n in found], len(found), None),
        }

    def heatmap(
        self, ident: str, feature: str | None = None, neighbors: int = DEFAULT_NEIGHBORS
    ) -> dict:
        """Localise photo ``ident`` (paper, Figure 10): every map tile of its region as a
        GeoJSON polygon with its score (distance; lower is better), rank and colour (the
        heatmap figure's), the best tiles, the true position and tile, the true rank."""
        feature = self.feature(feature)
        for view in ("overhead", "map"):
            self.feature(feature, view)
        if not 1 <= neighbors <= 1000:
            raise RequestError(f"neighbors must be 1 to 1000, got {neighbors}")
        found = localize(self.store, feature, id=self._ground_id(ident), neighbors=neighbors)
        sizes = found.tile_size_m
        if sizes is None or not np.isfinite(sizes).any():
            raise GeovecError("the map tiles have no size_m; the heatmap needs their footprints")
        sizes = np.where(np.isfinite(sizes), sizes, np.nanmedian(sizes))
        rings = footprint_rings(found.tile_lonlat[:, 0], found.tile_lonlat[:, 1], sizes)
        ranks = np.empty(len(found.scores), int)
        ranks[np.argsort(found.scores, kind="stable")] = np.arange(1, len(found.scores) + 1)
        ids = found.tile_ids
        colours = heatmap_colours(found.scores)
        tiles = [
            {
                "type": "Feature",
                "id": ids[i],
                "geometry": {"type": "Polygon", "coordinates": [rings[i].round(7).tolist()]},
                "properties": {
                    "id": ids[i],
                    "score": float(found.scores[i]),
                    "rank": int(ranks[i]),
                    "colour": colours[i],
                },
            }
            for i in range(len(found.scores))
        ]
        out = found.as_dict()
        out["tiles"] = {"type": "FeatureCollection", "features": tiles}
        return out

    def search(self, tile: str, feature: str | None = None, k: int = DEFAULT_K) -> dict:
        """Aerial image-based search (paper, Figure 8) from map tile ``tile``: the ground
        photos whose paired overhead images (``ground.pair``, as :func:`search` follows it)
        are nearest to it by ``feature`` (GeoJSON). Each point is the photo (its id and
        position) with ``overhead_id`` and ``distance``; ``unpaired`` counts the nearest
        overhead images that no ground photo names, left out."""
        feature = self.feature(feature, "map")
        self.feature(feature, "overhead")
        _check_k(k)
        rows = self.store.read("map", ["id", feature], id_filter([tile])).to_pylist()
        if not rows:
            raise NotFound(f"no map tile with id {tile!r}")
        if rows[0][feature] is None:
            raise RequestError(f"map tile {tile!r} lacks {feature}")
        hits = search(self.store, feature, vector=np.asarray(rows[0][feature], np.float32), k=k)
        paired = [h for h in hits if h.ground_id is not None]
        where = {}
        if paired:
            found = self.store.read(
                "ground", ["id", "lon", "lat", "region"], id_filter(h.ground_id for h in paired)
            )
            where = {r["id"]: r for r in found.to_pylist()}
        points = [
            _point(
                {
                    **where[h.ground_id],
                    "overhead_id": h.id,
                    "distance": h.distance,
                }
            )
            for h in paired
        ]
        return {
            "tile": tile,
            "feature": feature,
            **_collection(points, len(points), None),
            "unpaired": len(hits) - len(paired),
        }

    def landcover(self, region: str | None = None, feature: str | None = None) -> dict:
        """The land-cover image (paper, Figure 7) of ``region`` by ``feature``: where its
        PNG is (``/api/landcover.png``), its bounds (west, south, east, north; decimal
        degrees) and the explained variance of its three components."""
        feature = self.feature(feature, "map")
        meta, _ = self._landcover(region, feature)
        return meta

    def landcover_png(self, region: str | None = None, feature: str | None = None) -> bytes:
        """The land-cover image of :meth:`landcover`, warped to Web Mercator (PNG)."""
        return self._landcover(region, self.feature(feature, "map"))[1]

    def _landcover_image(self, region: str | None, feature: str) -> tuple[dict, bytes]:
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

    def sql(self, query: str, limit: int = 1000, timeout_s: float = 10.0) -> dict:
        """Read-only SQL from the page (:func:`geovec.explorer.sqlbox.run_sql_box`)."""
        return run_sql_box(self.store, query, limit=limit, timeout_s=timeout_s)

    def _ground_id(self, ident: str) -> str:
        if not self.store.has("ground") or not self.store.count("ground", id_filter([ident])):
            raise NotFound(f"no ground image with id {ident!r}")
        return ident


def _read_map_tiles(store: Store) -> MapTiles:
    if not store.has("map"):
        return MapTiles([], np.zeros(0), np.zeros(0), np.zeros(0), [])
    rows = store.read("map", ["id", "lon", "lat", "size_m", "path"])
    rows = rows.filter(pa.compute.is_valid(rows.column("lon")))
    size = rows.column("size_m").to_numpy(zero_copy_only=False).astype(float)
    size = np.where(np.isfinite(size), size, np.nanmedian(size) if np.isfinite(size).any() else 0)
    return MapTiles(
        rows.column("id").to_pylist(),
        rows.column("lon").to_numpy(zero_copy_only=False).astype(float),
        rows.column("lat").to_numpy(zero_copy_only=False).astype(float),
        size,
        rows.column("path").to_pylist(),
    )


def _readable(path: str) -> bool:
    return servable(path) is not None


def _check_k(k: int) -> None:
    if not 1 <= k <= 1000:
        raise RequestError(f"k must be 1 to 1000, got {k}")


def _point(row: dict) -> dict:
    lon, lat = row.get("lon"), row.get("lat")
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}


def _collection(features: list, total: int, next_offset: int | None) -> dict:
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": total,
        "next_offset": next_offset,
    }


def _union(regions: list[dict]):
    boxes = [r for r in regions if r.get("west") is not None]
    if not boxes:
        return None
    return (
        min(r["west"] for r in boxes),
        min(r["south"] for r in boxes),
        max(r["east"] for r in boxes),
        max(r["north"] for r in boxes),
    )
