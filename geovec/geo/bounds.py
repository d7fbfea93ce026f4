"""Where to look, as named values, longitude first: a bounding box and a circle around a
point, parsed from text with clear errors, and the great-circle distance.

>>> parse_bbox("-80.0,32.7,-79.9,32.8")
Bbox(west=-80.0, south=32.7, east=-79.9, north=32.8)
>>> parse_near("-79.94,32.78,2000")
Near(lon=-79.94, lat=32.78, radius_m=2000.0)
"""

from __future__ import annotations

import math
from typing import NamedTuple

from geovec.errors import GeovecError

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius in metres (IUGG)."""


class Bbox(NamedTuple):
    """A lon/lat box in decimal degrees."""

    west: float
    south: float
    east: float
    north: float


class Near(NamedTuple):
    """A circle: centre lon, lat in decimal degrees and radius in metres."""

    lon: float
    lat: float
    radius_m: float

    def bbox(self) -> Bbox:
        """The lon/lat box that holds the circle (decimal degrees)."""
        dlat = math.degrees(self.radius_m / EARTH_RADIUS_M)
        dlon = dlat / max(1e-6, math.cos(math.radians(self.lat)))
        return Bbox(self.lon - dlon, self.lat - dlat, self.lon + dlon, self.lat + dlat)


def _numbers(text: str, count: int, what: str, example: str) -> list[float]:
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise GeovecError(f"{what} must be {example}, got {text!r}")
    return values


def as_bbox(box) -> Bbox:
    """A checked :class:`Bbox` from a Bbox, a (W, S, E, N) sequence or "W,S,E,N" text."""
    if isinstance(box, str):
        box = _numbers(box, 4, "a bbox", "W,S,E,N in decimal degrees")
    w, s, e, n = (float(v) for v in box)
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise GeovecError(
            f"bbox {w:g},{s:g},{e:g},{n:g} is not W<E within [-180,180], S<N within [-90,90]"
        )
    return Bbox(w, s, e, n)


def parse_bbox(text: str) -> Bbox:
    """ "W,S,E,N" in decimal degrees → a checked :class:`Bbox`."""
    return as_bbox(str(text))


def as_near(near) -> Near:
    """A checked :class:`Near` from a Near, a (lon, lat, radius_m) sequence or text."""
    if isinstance(near, str):
        near = _numbers(near, 3, "near", "LON,LAT,RADIUS_M, e.g. -79.94,32.78,2000")
    lon, lat, radius = (float(v) for v in near)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90 and radius > 0):
        raise GeovecError(
            f"near {lon:g},{lat:g},{radius:g}: lon within [-180,180], lat within [-90,90], "
            "radius positive metres"
        )
    return Near(lon, lat, radius)


def parse_near(text: str) -> Near:
    """ "LON,LAT,RADIUS_M" → a checked :class:`Near`."""
    return as_near(str(text))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat points (decimal degrees)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
