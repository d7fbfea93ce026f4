"""geovec's one geodesy: what "within R metres" and "a tile's footprint" mean, everywhere.

- A distance is the WGS84 geodesic, as pyproj's :class:`~pyproj.Geod` measures it
  (:func:`distance_m`); "within R metres" is ``distance_m <= R``.
- A map tile's footprint is the north-up square ``size_m`` metres on a side around its
  centre in that tile's own azimuthal equidistant frame (the frame ``geovec aerial`` cuts
  it in): a point's place in the frame is (d sin az, d cos az) for the geodesic distance d
  and forward azimuth az from the centre, which is how PROJ's ellipsoidal ``aeqd``
  projects (:func:`frame_offsets_m`, :func:`in_footprint`).

Both are exact anywhere on Earth: across the antimeridian, at the poles, for photos with
no region or a region spanning a continent. SQL sees the same functions
(:func:`register_sql_functions`: ``geodesic_m(lon1, lat1, lon2, lat2)`` and
``in_footprint(centre_lon, centre_lat, size_m, lon, lat)``) and, for bucketing, the
points' WGS84 Earth-centred coordinates (``ecef_x/y/z(lon, lat)`` macros, sql/geodesy.sql).
The named queries bucket points in cubes of those coordinates, valid on the whole sphere,
and keep only pairs whose straight-line (chord) distance can be within the radius: a chord
is never longer than the geodesic, and never shorter than ``1 / chord_slack`` of it.

>>> round(float(distance_m(-79.94, 32.78, -79.94, 32.79)))
1109
>>> east, north = frame_offsets_m(0.0, 0.0, 0.001, 0.0)
>>> round(float(east), 1), round(abs(float(north)), 6)
(111.3, 0.0)
>>> bool(in_footprint(179.999, 0.0, 480.0, -179.9995, 0.0))  # across the antimeridian
True
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
from pyproj import Geod

from geovec.resources import data_dir

WGS84 = Geod(ellps="WGS84")
"""The ellipsoid every distance is measured on."""
_A = 6_378_137.0  # semi-major axis, metres
_E2 = WGS84.es  # first eccentricity squared
EARTH_MEAN_RADIUS_M = 6_371_008.8
"""Mean Earth radius in metres (IUGG), for spherical prefilters only: a distance is
always :func:`distance_m`."""
MIN_CURVATURE_RADIUS_M = _A * (1 - _E2)
"""The smallest radius of curvature of the WGS84 surface (the meridian's, at the equator),
metres: no geodesic bends more sharply than a circle of this radius."""


def _arrays(*values) -> list[np.ndarray]:
    return list(np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values)))


def distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres on the WGS84 ellipsoid between lon/lat points (decimal
    degrees); arrays broadcast."""
    lon1, lat1, lon2, lat2 = _arrays(lon1, lat1, lon2, lat2)
    return np.asarray(WGS84.inv(lon1, lat1, lon2, lat2)[2])


def frame_offsets_m(centre_lon, centre_lat, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) metres of lon/lat points in the azimuthal equidistant frame centred on
    (centre_lon, centre_lat), decimal degrees; arrays broadcast."""
    centre_lon, centre_lat, lon, lat = _arrays(centre_lon, centre_lat, lon, lat)
    azimuth, _, dist = WGS84.inv(centre_lon, centre_lat, lon, lat)
    azimuth = np.radians(azimuth)
    return dist * np.sin(azimuth), dist * np.cos(azimuth)


def frame_lonlat(centre_lon, centre_lat, east_m, north_m) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat (decimal degrees) of the points (east, north) metres in the azimuthal
    equidistant frame centred on (centre_lon, centre_lat): :func:`frame_offsets_m`
    inverted; arrays broadcast."""
    centre_lon, centre_lat, east, north = _arrays(centre_lon, centre_lat, east_m, north_m)
    lon, lat, _ = WGS84.fwd(
        centre_lon, centre_lat, np.degrees(np.arctan2(east, north)), np.hypot(east, north)
    )
    return np.asarray(lon), np.asarray(lat)


def in_footprint(centre_lon, centre_lat, size_m, lon, lat) -> np.ndarray:
    """Whether lon/lat lies in the footprint of a tile centred on (centre_lon, centre_lat):
    the north-up square of ``size_m`` metres in the tile's own frame, edges included."""
    east, north = frame_offsets_m(centre_lon, centre_lat, lon, lat)
    half = np.asarray(size_m, dtype=float) / 2
    return (np.abs(east) <= half) & (np.abs(north) <= half)


def footprint_rings(lon, lat, size_m, *, continuous: bool = False) -> np.ndarray:
    """(N, 5, 2) lon/lat rings (decimal degrees; NW, NE, SE, SW, NW) of the footprints of
    tiles centred on lon/lat with sides ``size_m`` metres: the corners of the squares in
    the tiles' own frames. ``continuous``: each ring's longitudes run on from its first
    corner (past +-180 where it crosses the antimeridian), so a web map draws the small
    square it is rather than a band round the globe."""
    lon, lat, size = (a.ravel() for a in _arrays(lon, lat, size_m))
    half = size / 2
    corners = [(-half, half), (half, half), (half, -half), (-half, -half), (-half, half)]
    ring = [np.column_stack(frame_lonlat(lon, lat, east, north)) for east, north in corners]
    rings = np.stack(ring, axis=1)
    if continuous:
        rings[:, :, 0] = np.degrees(np.unwrap(np.radians(rings[:, :, 0]), axis=1))
    return rings


def chord_slack(chord_m: float) -> float:
    """An upper bound on geodesic / chord for points at most ``chord_m`` metres apart in a
    straight line: the arc of a circle of :data:`MIN_CURVATURE_RADIUS_M` over that chord
    (Schur's comparison: a curve that bends less has the longer chord), with a margin for
    rounding. 1.0000000001 for 250 m."""
    rho = MIN_CURVATURE_RADIUS_M
    chord = min(float(chord_m), 2 * rho)
    arc = 2 * rho * math.asin(chord / (2 * rho)) if chord > 0 else 0.0
    return (arc / chord if chord > 0 else 1.0) * (1 + 1e-9)


def isolation_cells(radius_m: float) -> dict[str, float]:
    """Bucket parameters of sql/isolated_images.sql for a radius in metres: ``cell_m``, the
    side of cubes in which any two points are within the radius (their longest chord,
    a cube's diagonal, stretched by :func:`chord_slack`, is the radius); ``cells``, how
    many cubes out to probe so that every point within the radius is probed; ``slack``,
    the geodesic / chord bound of any two probed points."""
    cell = radius_m / (math.sqrt(3) * chord_slack(radius_m))
    cells = math.ceil(radius_m / cell)
    return {"cell_m": cell, "cells": cells, "slack": chord_slack((2 * cells + 1) * cell * 2)}


def ecef_m(lon, lat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 Earth-centred, Earth-fixed x, y, z metres of lon/lat points on the ellipsoid
    (decimal degrees): the numbers the ``ecef_x/y/z`` SQL macros compute, for tests."""
    lon, lat = (np.radians(a) for a in _arrays(lon, lat))
    prime = _A / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
    return (
        prime * np.cos(lat) * np.cos(lon),
        prime * np.cos(lat) * np.sin(lon),
        prime * (1 - _E2) * np.sin(lat),
    )


# SQL -------------------------------------------------------------------------------------


def _column(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(float, copy=False)


def _sql_distance(lon1, lat1, lon2, lat2) -> pa.Array:
    return pa.array(distance_m(*(_column(v) for v in (lon1, lat1, lon2, lat2))))


def _sql_in_footprint(centre_lon, centre_lat, size_m, lon, lat) -> pa.Array:
    columns = [_column(v) for v in (centre_lon, centre_lat, size_m, lon, lat)]
    return pa.array(in_footprint(*columns))


def register_sql_functions(con) -> None:
    """Give a DuckDB connection (and its cursors) ``geodesic_m`` and ``in_footprint``
    (this module's functions, vectorised) and the ``ecef_x/y/z`` macros of sql/geodesy.sql.
    NULL in any argument gives NULL."""
    from duckdb import sqltypes

    double, boolean = sqltypes.DOUBLE, sqltypes.BOOLEAN
    for name, func, args, out in (
        ("geodesic_m", _sql_distance, 4, double),
        ("in_footprint", _sql_in_footprint, 5, boolean),
    ):
        con.create_function(name, func, [double] * args, out, type="arrow", side_effects=False)
    con.execute((data_dir("sql") / "geodesy.sql").read_text())
