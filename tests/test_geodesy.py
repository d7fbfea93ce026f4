"""The one geodesy: every "within R metres" and every "tile contains point" equals a
brute-force WGS84 answer (pyproj's Geod, and the tile's own pyproj aeqd projection),
on randomized stores spread over the whole globe: across the antimeridian, up to 85
degrees of latitude, in one region, in several or in none."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

import geovec
from geovec.analyses.isolation import isolation_table
from geovec.analyses.regions import containing_tiles
from geovec.geo.grid import local_crs
from geovec.geodesy import (
    distance_m,
    ecef_m,
    footprint_rings,
    frame_lonlat,
    frame_offsets_m,
    in_footprint,
    isolation_cells,
)
from geovec.store.queries import run_query
from geovec.store.sql import new_database
from tests.stores import add_rows

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HARD_PLACES = [  # (lon, lat) where flat frames and lon/lat boxes go wrong
    (179.9995, 10.0),
    (-179.9995, 10.0005),
    (-122.42, 37.77),
    (2.35, 48.86),
    (151.21, -33.87),
    (15.6, 78.2),
    (-60.0, -78.0),
    (40.0, 84.9),
    (-100.0, -84.9),
    (0.0, 0.0),
]


@functools.cache
def database():
    """One DuckDB database for the examples (loading its extensions takes a second)."""
    return new_database()


def scratch(**tables):
    """A cursor of :func:`database` seeing ``tables`` (Arrow) by name."""
    con = database().cursor()
    for name, table in tables.items():
        con.register(name, table)
    return con


def wrap(lon):
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def scatter(rng, centres, per_place, spread_m):
    """Points around each centre, ``spread_m`` metres (1 sd) in a random direction."""
    lon, lat = [], []
    for clon, clat in centres:
        east, north = rng.normal(0, spread_m, (2, per_place))
        plon, plat = frame_lonlat(clon, clat, east, north)
        lon.append(plon)
        lat.append(plat)
    return wrap(np.concatenate(lon)), np.concatenate(lat)


@st.composite
def worldwide(draw, max_places=5):
    """Random clusters of points at random places, half of them at the hard places."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(1, max_places))
    centres = [
        HARD_PLACES[rng.integers(len(HARD_PLACES))]
        if rng.random() < 0.5
        else (rng.uniform(-180, 180), rng.uniform(-85, 85))
        for _ in range(k)
    ]
    spread = draw(st.sampled_from([30.0, 150.0, 600.0]))
    lon, lat = scatter(rng, centres, draw(st.integers(2, 40)), spread)
    return lon, lat, rng


def brute_nearest(lon, lat):
    d = distance_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def ground_table(lon, lat, regions):
    n = len(lon)
    return pa.table(
        {
            "id": [f"g{i:05d}" for i in range(n)],
            "region": regions,
            "lon": lon,
            "lat": lat,
        }
    )


# the functions themselves -------------------------------------------------------------


@given(
    st.floats(-180, 180),
    st.floats(-85, 85),
    st.floats(-3000, 3000),
    st.floats(-3000, 3000),
)
@settings(max_examples=200, deadline=None)
def test_frame_offsets_are_the_tiles_aeqd_projection(lon, lat, east, north):
    plon, plat = frame_lonlat(lon, lat, east, north)
    x, y = Transformer.from_crs("EPSG:4326", local_crs(lon, lat), always_xy=True).transform(
        plon, plat
    )
    got = frame_offsets_m(lon, lat, plon, plat)
    # PROJ puts points within ~1e-4 m of the centre at the centre itself
    assert got[0] == pytest.approx(x, abs=1e-3) and got[1] == pytest.approx(y, abs=1e-3)
    assert got[0] == pytest.approx(east, abs=1e-6) and got[1] == pytest.approx(north, abs=1e-6)


def test_sql_functions_are_the_python_ones():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-180, 180, 500), rng.uniform(-90, 90, 500)
    lon2, lat2 = (
        wrap(lon + rng.normal(0, 0.01, 500)),
        np.clip(lat + rng.normal(0, 0.01, 500), -90, 90),
    )
    con = scratch(p=pa.table({"lon": lon, "lat": lat, "lon2": lon2, "lat2": lat2}))
    got = con.execute(
        "select ecef_x(lon, lat), ecef_y(lon, lat), ecef_z(lon, lat), "
        "geodesic_m(lon, lat, lon2, lat2), in_footprint(lon, lat, 1500.0, lon2, lat2) from p"
    ).fetchnumpy()
    x, y, z = list(got.values())[:3]
    geocentric = Transformer.from_crs("EPSG:4326", "EPSG:4978", always_xy=True)
    gx, gy, gz = geocentric.transform(lon, lat, np.zeros(500))
    assert np.allclose(x, gx, atol=1e-6) and np.allclose(y, gy, atol=1e-6)
    assert np.allclose(z, gz, atol=1e-6)
    assert np.allclose(np.column_stack(ecef_m(lon, lat)), np.column_stack([gx, gy, gz]), atol=1e-6)
    values = list(got.values())
    assert np.array_equal(values[3], distance_m(lon, lat, lon2, lat2))
    assert np.array_equal(values[4], in_footprint(lon, lat, 1500.0, lon2, lat2))
    assert con.execute(
        "select geodesic_m(NULL, 0, 0, 0), in_footprint(0, 0, 1, NULL, 0)"
    ).fetchone() == (None, None)


def test_footprint_rings_are_the_squares_corners():
    ring = footprint_rings([179.9999], [70.0], [480.0])[0]
    east, north = frame_offsets_m(179.9999, 70.0, ring[:, 0], ring[:, 1])
    assert np.allclose(east, [-240, 240, 240, -240, -240], atol=1e-6)
    assert np.allclose(north, [240, 240, -240, -240, 240], atol=1e-6)


# isolation ------------------------------------------------------------------------------


@given(
    worldwide(), st.sampled_from([50.0, 250.0, 1000.0]), st.sampled_from(["one", "none", "many"])
)
@SETTINGS
def test_isolation_equals_brute_force_geodesics(points, radius, regions):
    lon, lat, rng = points
    n = len(lon)
    region = {"one": ["world"] * n, "none": [None] * n}.get(
        regions, [f"r{i}" for i in rng.integers(0, 3, n)]
    )
    con = scratch(ground=ground_table(lon, lat, region))
    table = isolation_table(con, radius)
    nearest = brute_nearest(lon, lat)
    assert table.column("id").to_pylist() == [f"g{i:05d}" for i in range(n)]
    assert table.column("isolated").to_pylist() == (nearest > radius).tolist()
    reported = table.column("nearest_m").to_numpy(zero_copy_only=False)
    known = ~np.isnan(reported)
    assert np.allclose(reported[known], nearest[known], rtol=0, atol=1e-6)
    cells = isolation_cells(radius)
    lonely_far = nearest <= cells["cells"] * cells["cell_m"]
    assert known.sum() <= n and not (known & ~lonely_far).any()


def test_isolation_of_a_store_spread_over_the_globe(tmp_path):
    """Through the API and the CLI: ten clusters around the world, no region at all."""
    from typer.testing import CliRunner

    from geovec.cli import app

    rng = np.random.default_rng(7)
    lon, lat = scatter(rng, HARD_PLACES, 12, 180.0)
    store = geovec.open(tmp_path / "db")
    rows = [
        {"id": f"g{i:04d}", "lon": float(a), "lat": float(b)}
        for i, (a, b) in enumerate(zip(lon, lat))
    ]
    add_rows(store, "ground", rows, {"gist": np.zeros((len(rows), 4), np.float32)})
    result = geovec.isolate(store, radius_m=250.0)
    expected = brute_nearest(lon, lat) > 250.0
    flags = store.sql("select id, isolated from ground order by id").fetchall()
    assert [f for _, f in flags] == expected.tolist()
    assert result.isolated == int(expected.sum()) and 0 < result.isolated < len(rows)
    out = CliRunner().invoke(app, ["isolate", str(tmp_path / "db"), "--radius-m", "600"])
    assert out.exit_code == 0, out.output
    flags = store.sql("select isolated from ground order by id").fetchall()
    assert [f for (f,) in flags] == (brute_nearest(lon, lat) > 600.0).tolist()


# the true tile ---------------------------------------------------------------------------


def brute_containing(points, tiles):
    """The tile whose pyproj aeqd square holds each point (nearest centre, then id)."""
    found = {}
    for tid, tlon, tlat, size in tiles:
        to_frame = Transformer.from_crs("EPSG:4326", local_crs(tlon, tlat), always_xy=True)
        x, y = to_frame.transform([p[1] for p in points], [p[2] for p in points])
        inside = (np.abs(x) <= size / 2) & (np.abs(y) <= size / 2)
        for (pid, plon, plat), hit in zip(points, inside):
            if hit:
                key = (float(distance_m(tlon, tlat, plon, plat)), tid)
                found[pid] = min(found.get(pid, key), key)
    return {pid: key[1] for pid, key in found.items()}


@given(worldwide(max_places=3), st.sampled_from([240.0, 480.0]))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_true_tile_equals_each_tiles_own_frame(points, size):
    tlon, tlat, rng = points
    tlon, tlat = tlon[:60], tlat[:60]
    sizes = rng.choice([size, size * 1.5], len(tlon))
    tiles = [
        (f"t{i:03d}", float(a), float(b), float(s))
        for i, (a, b, s) in enumerate(zip(tlon, tlat, sizes))
    ]
    picks = rng.integers(0, len(tiles), 300)
    plon, plat = scatter(rng, [(tiles[i][1], tiles[i][2]) for i in picks], 1, size / 2)
    points_ = [(f"p{i:03d}", float(a), float(b)) for i, (a, b) in enumerate(zip(plon, plat))]
    con = scratch(
        map=pa.table(
            {
                "id": [t[0] for t in tiles],
                "region": ["r"] * len(tiles),
                "lon": [t[1] for t in tiles],
                "lat": [t[2] for t in tiles],
                "size_m": [t[3] for t in tiles],
            }
        ),
    )
    got = containing_tiles(con, points_, region="r")
    assert got == brute_containing(points_, tiles)
    assert containing_tiles(con, points_, all_regions=True) == got
    assert containing_tiles(con, points_, region="elsewhere") == {}


# training exclusions ---------------------------------------------------------------------


@given(worldwide(), st.sampled_from([100.0, 250.0, 2000.0]))
@SETTINGS
def test_training_exclusions_equal_brute_force(points, radius):
    lon, lat, rng = points
    n = len(lon)
    test = rng.random(n) < 0.3
    ids = [f"g{i:05d}" for i in range(n)]
    con = scratch(
        ground=pa.table(
            {
                "id": ids,
                "isolated": test,
                "split": ["test" if t else "train" for t in test],
                "lon": lon,
                "lat": lat,
                "pair": [f"o{i:05d}" for i in range(n)],
            }
        ),
        overhead=pa.table({"id": [f"o{i:05d}" for i in range(n)], "lon": lon, "lat": lat}),
    )
    rows = run_query(con, "training_pairs", split="train", radius_m=radius).to_pylist()
    d = distance_m(lon[:, None], lat[:, None], lon[None, test], lat[None, test])
    near = (d <= radius).any(axis=1) if test.any() else np.zeros(n, bool)
    expected = [
        "isolated" if t else ("near a test image" if c else None) for t, c in zip(test, near)
    ]
    assert [r["ground_id"] for r in rows] == ids
    assert [r["excluded"] for r in rows] == expected


# search --near ---------------------------------------------------------------------------


@pytest.mark.parametrize("centre", [(179.9995, 10.0), (40.0, 84.9), (-60.0, -78.0)])
def test_search_near_equals_brute_force(tmp_path, centre):
    rng = np.random.default_rng(11)
    lon, lat = scatter(rng, [centre], 200, 800.0)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    store = geovec.open(tmp_path / "db")
    add_rows(
        store,
        "overhead",
        [
            {"id": f"o{i:03d}", "lon": float(a), "lat": float(b)}
            for i, (a, b) in enumerate(zip(lon, lat))
        ],
        {"gist": vectors},
    )
    radius = 700.0
    query = rng.normal(size=8).astype(np.float32)
    hits = geovec.search(store, vector=query, feature="gist", k=10, near=(*centre, radius))
    inside = distance_m(centre[0], centre[1], lon, lat) <= radius
    order = np.argsort(((vectors - query) ** 2).sum(axis=1))
    expected = [f"o{i:03d}" for i in order if inside[i]][:10]
    assert [h.id for h in hits] == expected


def test_tiles_without_a_usable_size_or_position_are_left_out():
    """A map row written by another tool with size_m NaN, 0 or NULL, or no position, is not
    a footprint; it must not break the true tile of the others (a NaN fails the cube cast)."""
    tiles = pa.table(
        {
            "id": ["t0", "nan", "zero", "null", "nopos"],
            "region": ["r"] * 5,
            "lon": [10.0, 10.0, 10.0, 10.0, None],
            "lat": [0.0, 0.0, 0.0, 0.0, None],
            "size_m": [480.0, float("nan"), 0.0, None, 480.0],
        }
    )
    con = scratch(map=tiles)
    points = [("in", 10.001, 0.001), ("out", 10.01, 0.0), ("nowhere", None, None)]
    assert containing_tiles(con, points, region="r") == {"in": "t0"}


def test_continuous_rings_do_not_wrap_round_the_globe():
    wrapped = footprint_rings(179.999, 10.0, 480.0)[0][:, 0]
    assert wrapped.max() - wrapped.min() > 359  # as the plain lon/lat of its corners
    ring = footprint_rings(179.999, 10.0, 480.0, continuous=True)[0][:, 0]
    assert ring.max() - ring.min() < 0.01 and ring.max() > 180
    assert np.allclose(wrap(ring), wrapped)
