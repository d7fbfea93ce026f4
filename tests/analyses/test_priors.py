"""A GPS prior (issue 20, item 4): only the candidates within R metres (WGS84 geodesic) of
each query's prior position are ranked, the prior being its true position moved S metres
along a seeded random azimuth; equal to an independent numpy/pyproj recomputation on the
map and pairs protocols, the SQL prefilter equal to brute-force geodesics anywhere on
Earth, localize with a given prior, the command line, and the Ray engine."""

import json
import zlib

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import geovec
from geovec.analyses.priors import Prior, candidates_within
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.geodesy import register_sql_functions
from tests.metre_worlds import GEOD, geodesic, map_world, pair_world, rank_best, squared

runner = CliRunner()


def _priors(ids, lonlat, noise_m, seed):
    """The documented rule, recomputed: azimuth 360 * default_rng([seed, crc32(id)]).random()
    degrees, noise_m metres along the geodesic (pyproj Geod.fwd)."""
    out = []
    for ident, (lon, lat) in zip(ids, lonlat):
        azimuth = 360.0 * np.random.default_rng([seed, zlib.crc32(ident.encode())]).random()
        plon, plat, _ = GEOD.fwd(lon, lat, azimuth, noise_m)
        out.append((plon, plat))
    return np.array(out)


def _within(prior, lonlat, radius):
    """Indices of the positions within ``radius`` metres of ``prior`` (pyproj), ascending."""
    known = np.isfinite(lonlat).all(axis=1)
    d = np.full(len(lonlat), np.inf)
    n = int(known.sum())
    d[known] = GEOD.inv(np.full(n, prior[0]), np.full(n, prior[1]), lonlat[known, 0],
                        lonlat[known, 1])[2]  # fmt: skip
    return np.nonzero(d <= radius)[0]


def _by_query(table):
    return {r["query_id"]: r for r in table.to_pylist()}


@pytest.fixture(scope="module")
def mapw(tmp_path_factory):
    return map_world(tmp_path_factory.mktemp("mapw") / "db")


def test_the_prior_is_the_true_position_moved_along_a_seeded_azimuth():
    ids = ["a", "b", "q17"]
    lonlat = np.array([[179.9995, 61.0], [-179.9995, 89.9], [10.0, -45.0]])
    prior = Prior(radius_m=500, noise_m=120, seed=9)
    lon, lat = prior.positions(ids, lonlat[:, 0], lonlat[:, 1])
    want = _priors(ids, lonlat, 120, 9)
    np.testing.assert_allclose(np.column_stack([lon, lat]), want, atol=1e-9)
    for (tl, ta), pl, pa in zip(lonlat, lon, lat):
        assert GEOD.inv(tl, ta, pl, pa)[2] == pytest.approx(120, abs=1e-6)
    # a query's prior depends on its id and the seed alone, not on the others
    alone = prior.positions(["q17"], [10.0], [-45.0])
    assert (alone[0][0], alone[1][0]) == (lon[2], lat[2])
    other = Prior(radius_m=500, noise_m=120, seed=10).positions(ids, lonlat[:, 0], lonlat[:, 1])
    assert not np.allclose(other[0], lon)
    for bad in (dict(radius_m=0), dict(radius_m=float("nan")), dict(radius_m=5, noise_m=-1)):
        with pytest.raises(GeovecError, match="prior"):
            Prior(**bad)


coordinates = st.tuples(
    st.floats(-180, 180), st.floats(-90, 90)
)  # anywhere: antimeridian and poles included


@settings(max_examples=25, deadline=None)
@given(
    priors=st.lists(coordinates, min_size=1, max_size=4),
    near=st.lists(
        st.tuples(st.integers(0, 3), st.floats(0, 360), st.floats(0, 3.0)), min_size=0, max_size=30
    ),  # fmt: skip
    far=st.lists(coordinates, max_size=10),
    radius=st.sampled_from([30.0, 800.0, 25_000.0, 2_000_000.0]),
)
def test_the_sql_prefilter_equals_brute_force_geodesics(priors, near, far, radius):
    """Candidates around the priors, at 0..3 radii (many near the circle's edge), and
    anywhere on Earth; unknown positions are never candidates."""
    priors = np.array(priors)
    spots = [GEOD.fwd(*priors[k % len(priors)], az, r * radius)[:2] for k, az, r in near]
    candidates = np.array(spots + list(far) + [(np.nan, np.nan)], float).reshape(-1, 2)
    con = duckdb.connect()
    register_sql_functions(con)
    offsets, members = candidates_within(
        con, priors[:, 0], priors[:, 1], candidates[:, 0], candidates[:, 1], radius
    )
    for i, p in enumerate(priors):
        want = _within(p, candidates, radius)
        got = members[offsets[i] : offsets[i + 1]]
        assert got.tolist() == want.tolist()


def _expected_map(world, radius, noise, seed):
    priors = _priors(world.query_ids, world.query_lonlat, noise, seed)
    d = squared(world.queries, world.tiles)
    rows = {}
    for i, q in enumerate(world.query_ids):
        allowed = _within(priors[i], world.tile_lonlat, radius)
        rank, best = rank_best(d[i], world.true_tile[i], allowed)
        error = (
            geodesic(world.tile_lonlat[best], world.query_lonlat[i]) if best is not None else None
        )
        rows[q] = (rank, None if best is None else world.tile_ids[best], error, len(allowed))
    return rows


def test_map_protocol_with_a_prior_equals_numpy_and_pyproj(mapw):
    radius, noise, seed = 350.0, 400.0, 11
    result = geovec.evaluate(
        mapw.store, "gist", method="direct", prior_m=radius, prior_noise_m=noise, seed=seed
    )
    rows = _expected_map(mapw, radius, noise, seed)
    got = _by_query(result.ranks)
    for q, (rank, best, error, count) in rows.items():
        assert got[q]["candidates"] == count, q
        assert got[q]["rank"] == rank and got[q]["best_id"] == best, q
        if error is None:
            assert got[q]["error_m"] is None
        else:
            assert got[q]["error_m"] == pytest.approx(error, abs=1e-6), q
    ranks = [r[0] for r in rows.values()]
    outside = sum(r is None for r in ranks)
    assert 0 < outside < len(ranks)  # the world has misses, and hits
    # a query whose true tile lies outside its circle is a miss at every cutoff
    assert result.recall["1"] == pytest.approx(np.mean([r == 0 for r in ranks]))
    assert result.recall["10"] == pytest.approx(np.mean([r is not None and r < 10 for r in ranks]))
    assert result.top_1_percent == result.recall["1"]  # fewer than 200 candidates each
    assert result.curve[-1][1] == pytest.approx(1 - outside / len(ranks))
    counts = [r[3] for r in rows.values()]
    assert result.prior == {
        "radius_m": radius,
        "noise_m": noise,
        "seed": seed,
        "candidates": {"min": min(counts), "median": float(np.median(counts)),
                       "max": max(counts)},
        "outside": outside,
    }  # fmt: skip
    errors = np.array([r[2] for r in rows.values() if r[2] is not None])
    assert result.median_error_m == pytest.approx(float(np.median(errors)), abs=1e-6)
    assert result.queries_without_error == sum(r[2] is None for r in rows.values())


def test_a_circle_holding_every_tile_changes_nothing(mapw):
    plain = geovec.evaluate(mapw.store, "gist", method="direct")
    wide = geovec.evaluate(mapw.store, "gist", method="direct", prior_m=1e6, prior_noise_m=5e4)
    assert wide.ranks.drop(["candidates"]).equals(plain.ranks.drop(["candidates"]))
    assert wide.prior["outside"] == 0 and wide.prior["candidates"]["min"] == len(mapw.tile_ids)


@pytest.fixture(scope="module")
def pairw(tmp_path_factory):
    return pair_world(tmp_path_factory.mktemp("pairw") / "db")


def test_pairs_protocol_with_a_prior_equals_numpy_and_pyproj(pairw):
    """The prior moves each photo's position (its own, else its true aerial's); aerials
    without a position are never candidates."""
    radius, noise, seed = 500.0, 490.0, 2
    result = geovec.evaluate(
        pairw.store, "gist", protocol="pairs", prior_m=radius, prior_noise_m=noise, seed=seed
    )
    truth = pairw.query_lonlat.copy()
    unknown = np.isnan(truth).any(axis=1)
    truth[unknown] = pairw.aerial_lonlat[np.array(pairw.true)[unknown]]
    priors = _priors(pairw.query_ids, truth, noise, seed)
    d = squared(pairw.queries, pairw.aerials)
    got = _by_query(result.ranks)
    ranks = []
    for i, q in enumerate(pairw.query_ids):
        allowed = _within(priors[i], pairw.aerial_lonlat, radius)
        rank, best = rank_best(d[i], pairw.true[i], allowed)
        ranks.append(rank)
        assert got[q]["candidates"] == len(allowed), q
        assert got[q]["rank"] == rank, q
        assert got[q]["best_id"] == (None if best is None else pairw.aerial_ids[best]), q
        if best is not None:
            assert got[q]["error_m"] == pytest.approx(geodesic(pairw.aerial_lonlat[best],
                                                               truth[i]), abs=1e-6)  # fmt: skip
    assert result.prior["outside"] == sum(r is None for r in ranks) > 0
    assert result.recall["1"] == pytest.approx(np.mean([r == 0 for r in ranks]))


def test_a_prior_needs_the_queries_positions(tmp_path):
    from tests.stores import add_rows

    store = geovec.open(tmp_path / "db")
    vectors = np.eye(3, dtype=np.float32)
    add_rows(store, "overhead", [{"id": f"a{i}", "lon": None, "lat": None} for i in range(3)],
             {"gist": vectors})  # fmt: skip
    add_rows(store, "ground", [{"id": f"g{i}", "lon": None, "lat": None, "split": "test",
                                "pair": f"a{i}"} for i in range(3)], {"gist": vectors})  # fmt: skip
    with pytest.raises(GeovecError, match="a GPS prior needs the queries' positions: 3 of 3"):
        geovec.evaluate(store, "gist", protocol="pairs", prior_m=100)


def test_localize_with_a_given_prior(mapw):
    q, i = mapw.query_ids[3], 3
    centre = tuple(mapw.tile_lonlat[mapw.true_tile[i]])
    result = geovec.localize(
        mapw.store, "gist", id=q, neighbors=1, prior_m=450.0, prior_lonlat=centre
    )
    allowed = _within(centre, mapw.tile_lonlat, 450.0)
    assert sorted(result.tile_ids) == sorted(mapw.tile_ids[k] for k in allowed)
    assert result.candidates == len(allowed) and result.prior["candidates"] == len(allowed)
    assert result.best_id in result.tile_ids and not result.prior["true_outside"]
    assert result.true_rank is not None and result.true_rank < len(allowed)
    far = geovec.localize(
        mapw.store, "gist", id=q, neighbors=1, prior_m=200.0,
        prior_lonlat=tuple(mapw.tile_lonlat[(mapw.true_tile[i] + 18) % 36]),
    )  # fmt: skip
    assert far.prior["true_outside"] and far.true_rank is None
    moved = geovec.localize(
        mapw.store, "gist", id=q, neighbors=1, prior_m=450.0, prior_noise_m=300.0, seed=4
    )
    want = _priors([q], mapw.query_lonlat[i : i + 1], 300.0, 4)[0]
    assert (moved.prior["lon"], moved.prior["lat"]) == pytest.approx(tuple(want), abs=1e-9)
    assert moved.candidates == len(_within(want, mapw.tile_lonlat, 450.0))


def test_cli_prior_options(mapw):
    db = str(mapw.store.path)
    args = ["evaluate", db, "--feature", "gist", "--method", "direct"]
    result = runner.invoke(
        app, [*args, "--prior-m", "350", "--prior-noise-m", "400", "--seed", "11", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = _expected_map(mapw, 350.0, 400.0, 11)
    assert data["prior"]["outside"] == sum(r[0] is None for r in rows.values())
    assert data["prior"]["candidates"]["max"] == max(r[3] for r in rows.values())
    text = runner.invoke(app, [*args, "--prior-m", "350", "--prior-noise-m", "400", "--seed", "11"])
    assert "prior 350 m (noise 400 m, seed 11)" in text.output
    lon, lat = mapw.tile_lonlat[0]
    loc = ["localize", db, "--id", mapw.query_ids[0], "--feature", "gist"]
    shown = runner.invoke(app, [*loc, "--prior-m", "350", "--prior", f"{lon},{lat}", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["prior"]["candidates"] == len(
        _within((lon, lat), mapw.tile_lonlat, 350.0)
    )
    for bad in (
        [*args, "--seed", "3"],
        [*args, "--prior-m", "0"],
        [*args, "--prior-m", "100", "--prior-noise-m", "-1"],
        [*loc, "--prior", "1,2"],
        [*loc, "--prior-m", "100", "--prior", "east,north"],
        [*loc, "--prior-m", "100", "--prior", "0,0"],  # no tile near
    ):
        wrong = runner.invoke(app, bad)
        assert wrong.exit_code == 1 and len(wrong.output.strip().splitlines()) == 1, bad
        assert "Traceback" not in wrong.output


def test_ray_engine_gives_the_local_bests_and_priors(ray_cluster, mapw, pairw):
    for kw in ({}, dict(prior_m=350.0, prior_noise_m=400.0, seed=11)):
        local = geovec.evaluate(mapw.store, "gist", method="direct", **kw)
        remote = geovec.evaluate(mapw.store, "gist", method="direct", engine="ray", **kw)
        assert remote.ranks.equals(local.ranks), kw
        local = geovec.evaluate(pairw.store, "gist", protocol="pairs", **kw)
        remote = geovec.evaluate(pairw.store, "gist", protocol="pairs", engine="ray", **kw)
        assert remote.ranks.equals(local.ranks), kw
        mine, theirs = remote.as_dict(), local.as_dict()
        assert mine["provenance"].pop("arguments")["engine"] == "ray"  # all else the same
        theirs["provenance"].pop("arguments")
        assert mine == theirs
