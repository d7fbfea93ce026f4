"""The ground photos layer (``/api/points``): located ground images as paged GeoJSON."""

from __future__ import annotations

import json
import threading

import numpy as np

from geovec.explorer.requests import RequestError
from geovec.geo.bounds import Bbox
from geovec.store import Store

POINT_PROPERTIES = ("id", "region", "split", "isolated", "source")
"""What each point of /api/points carries besides its position."""
MAX_PAGE = 50_000
"""Most points in one page of /api/points."""
DEFAULT_PAGE = 10_000
"""Points in a page of /api/points when the request gives no limit."""


class GroundPoints:
    """The located ground images of ``store``, read once per ground table version, each
    one's GeoJSON Feature written out; a page is a numpy filter and a join."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._points: tuple[int, tuple] | None = None

    def geojson(
        self, bbox: Bbox | None = None, *, offset: int = 0, limit: int = DEFAULT_PAGE
    ) -> bytes:
        """Ground images with a position inside ``bbox`` as GeoJSON FeatureCollection text
        (properties: id, region, split, isolated, source), ordered by id, ``limit`` from
        ``offset``; ``total`` counts them all and ``next_offset`` is None on the last page."""
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
