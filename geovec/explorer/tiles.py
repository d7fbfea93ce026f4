"""A click on an aerial tile: which map tile holds a point (``/api/tile``) and the
aerial image-based search from it (``/api/search``, paper Figure 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from geovec.analyses.regions import containing_tiles
from geovec.analyses.search import search as search_overhead
from geovec.defaults import DEFAULT_K
from geovec.explorer.geojson import collection, point
from geovec.explorer.requests import NotFound, RequestError
from geovec.geodesy import footprint_rings
from geovec.store.filters import id_filter

if TYPE_CHECKING:
    from geovec.explorer.answers import Explorer

MAX_K = 1000
"""Most hits of one search (and nearest photos of one /api/neighbors)."""


def check_k(k: int) -> None:
    """RequestError unless 1 <= k <= MAX_K."""
    if not 1 <= k <= MAX_K:
        raise RequestError(f"k must be 1 to {MAX_K}, got {k}")


def tile_at(explorer: Explorer, lon: float, lat: float) -> dict:
    """The map tile whose footprint holds lon/lat (decimal degrees), as a GeoJSON
    polygon feature with its id, centre and side (metres); NotFound outside them all."""
    tiles = explorer.map_tiles()
    with explorer.store.cursor() as con:  # the query evaluate uses, over every region
        found = containing_tiles(con, [("click", lon, lat)], all_regions=True).get("click")
    if found is None or found not in tiles.ids:
        raise NotFound(f"no map tile covers {lon:.6f},{lat:.6f}")
    i = tiles.ids.index(found)
    ring = footprint_rings(tiles.lon[i], tiles.lat[i], tiles.size_m[i], continuous=True)[0]
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


def search(explorer: Explorer, tile: str, feature: str | None = None, k: int = DEFAULT_K) -> dict:
    """Aerial image-based search (paper, Figure 8) from map tile ``tile``: the ground
    photos whose paired overhead images (``ground.pair``, as :func:`search` follows it)
    are nearest to it by ``feature`` (GeoJSON). Each point is the photo (its id and
    position) with ``overhead_id`` and ``distance``; ``unpaired`` counts the nearest
    overhead images that no ground photo names, left out."""
    store = explorer.store
    feature = explorer.feature(feature, "map")
    explorer.feature(feature, "overhead")
    check_k(k)
    rows = store.read("map", ["id", feature], id_filter([tile])).to_pylist()
    if not rows:
        raise NotFound(f"no map tile with id {tile!r}")
    if rows[0][feature] is None:
        raise RequestError(f"map tile {tile!r} lacks {feature}")
    hits = search_overhead(store, feature, vector=np.asarray(rows[0][feature], np.float32), k=k)
    paired = [h for h in hits if h.ground_id is not None]
    where = {}
    if paired:
        found = store.read(
            "ground", ["id", "lon", "lat", "region"], id_filter(h.ground_id for h in paired)
        )
        where = {r["id"]: r for r in found.to_pylist()}
    points = [
        point({**where[h.ground_id], "overhead_id": h.id, "distance": h.distance}) for h in paired
    ]
    return {
        "tile": tile,
        "feature": feature,
        **collection(points, len(points), None),
        "unpaired": len(hits) - len(paired),
    }
