"""Aerial image-based search (paper, Figure 8): the nearest overhead images to an aerial
image, by LanceDB vector search (Euclidean), optionally restricted to a bbox or a radius
(pushed down as a prefilter), and the ground images paired with them.

>>> hits = search(geovec.open("geo"), "aerial.png", feature="gist", k=5)  # doctest: +SKIP
>>> hits[0].ground_path
'/data/world/charleston/ground/charleston_00042.jpg'
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from geovec.errors import GeovecError
from geovec.store import Store, id_filter

EARTH_RADIUS_M = 6_371_008.8


@dataclasses.dataclass
class SearchHit:
    """One nearest overhead image and its paired ground image. lon/lat decimal degrees."""

    id: str
    distance: float
    lon: float
    lat: float
    region: str | None
    overhead_path: str
    ground_path: str | None


def _filter(bbox, near) -> str | None:
    clauses = []
    if bbox is not None:
        w, s, e, n = (float(v) for v in bbox)
        clauses.append(f"lon >= {w!r} AND lon <= {e!r} AND lat >= {s!r} AND lat <= {n!r}")
    if near is not None:
        lon, lat, radius = (float(v) for v in near)
        dlat = math.degrees(radius / EARTH_RADIUS_M)
        dlon = dlat / max(1e-6, math.cos(math.radians(lat)))
        clauses.append(
            f"lon >= {lon - dlon!r} AND lon <= {lon + dlon!r} "
            f"AND lat >= {lat - dlat!r} AND lat <= {lat + dlat!r}"
        )
    return " AND ".join(clauses) or None


def search_vector(
    store: Store, vector: np.ndarray, feature: str, k: int = 10, bbox=None, near=None
) -> list[SearchHit]:
    """Nearest overhead images to ``vector``; ``bbox`` (W, S, E, N) and ``near`` (lon, lat,
    radius in metres) restrict where to look."""
    if k < 1:
        raise GeovecError("k must be at least 1")
    store.require_feature("overhead", feature)
    query = store.table("overhead").search(
        np.asarray(vector, np.float32), vector_column_name=feature
    )
    query = query.distance_type("l2").select(["id", "lon", "lat", "region", "path", "_distance"])
    where = _filter(bbox, near)
    if where:
        query = query.where(where, prefilter=True)
    rows = query.limit(k * 4 if near else k).to_arrow().to_pylist()
    if near is not None:
        lon0, lat0, radius = near
        rows = [r for r in rows if _haversine(lon0, lat0, r["lon"], r["lat"]) <= radius]
    rows = rows[:k]
    ground = {}
    if rows and store.has("ground"):
        chosen = store.read("ground", ["id", "path"], id_filter(r["id"] for r in rows))
        ground = {g["id"]: g["path"] for g in chosen.to_pylist()}
    return [
        SearchHit(
            r["id"],
            float(np.sqrt(max(r["_distance"], 0.0))),
            r["lon"],
            r["lat"],
            r["region"],
            r["path"],
            ground.get(r["id"]),
        )
        for r in rows
    ]


def _haversine(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def search(
    store: Store,
    aerial_image: str | Path,
    feature: str = "places_fc8",
    k: int = 10,
    bbox=None,
    near=None,
) -> list[SearchHit]:
    """Extract ``feature`` of an aerial image file and search the overhead table."""
    from geovec.decode import load_rgb
    from geovec.extract import FeatureExtractor

    store.require_feature("overhead", feature)
    vector = FeatureExtractor([feature], batch_size=1).extract([load_rgb(aerial_image)])[feature][0]
    return search_vector(store, vector, feature, k, bbox, near)


def write_montage(query: str | Path, hits: list[SearchHit], path: Path) -> Path:
    """Query, its nearest aerial images, and their ground photos."""
    from geovec.plots import montage

    return montage(
        [
            ("query", [(str(query), Path(query).name)]),
            ("nearest aerial", [(h.overhead_path, f"{h.id} {h.distance:.2f}") for h in hits]),
            ("their ground photos", [(h.ground_path or "", h.id) for h in hits]),
        ],
        path,
    )
