"""Where to look, as named values, longitude first: a bounding box and a circle around a
point, parsed from text with clear errors. Distances are :mod:`geovec.geodesy`'s.

>>> parse_bbox("-80.0,32.7,-79.9,32.8")
Bbox(west=-80.0, south=32.7, east=-79.9, north=32.8)
>>> parse_near("-79.94,32.78,2000")
Near(lon=-79.94, lat=32.78, radius_m=2000.0)
>>> Near(-79.94, 32.78, 2000).contains([-79.94, -79.94], [32.79, 32.80]).tolist()
[True, False]
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from geovec.errors import GeovecError
from geovec.geodesy import EARTH_MEAN_RADIUS_M, distance_m


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

    def contains(self, lon, lat) -> np.ndarray:
        """Whether lon/lat points (decimal degrees) lie within the circle: their WGS84
        geodesic distance to the centre is at most the radius."""
        return distance_m(self.lon, self.lat, lon, lat) <= self.radius_m

    def bbox(self) -> Bbox:
        """A lon/lat box (decimal degrees) that holds the circle: its extent on a sphere,
        widened by 1 % for the ellipsoid, clipped to the globe (every longitude when the
        circle reaches a pole or the box would cross the antimeridian). A prefilter:
        :meth:`contains` decides."""
        angle = self.radius_m * 1.01 / EARTH_MEAN_RADIUS_M  # radians of arc
        south = max(-90.0, self.lat - math.degrees(angle))
        north = min(90.0, self.lat + math.degrees(angle))
        reach = math.sin(angle) / max(math.cos(math.radians(self.lat)), 1e-12)
        if north >= 90.0 or south <= -90.0 or angle >= math.pi / 2 or reach >= 1:
            return Bbox(-180.0, south, 180.0, north)
        dlon = math.degrees(math.asin(reach))
        if self.lon - dlon < -180 or self.lon + dlon > 180:
            return Bbox(-180.0, south, 180.0, north)
        return Bbox(self.lon - dlon, south, self.lon + dlon, north)


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
