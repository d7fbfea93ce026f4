"""Error in metres (issue 20, item 1): each query's best candidate (top tile, top aerial),
its geodesic distance to the query's true position, median_error_m and within_m, equal
to an independent numpy (float64 distance matrix) and pyproj (geodesics) recomputation,
on both protocols; curve.png's accuracy-vs-distance panel; localize's best guess."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from tests.metre_worlds import geodesic, map_world, pair_world, rank_best, squared

runner = CliRunner()


@pytest.fixture(scope="module")
def mapw(tmp_path_factory):
    return map_world(tmp_path_factory.mktemp("mapw") / "db")  # isolated flags as set


def _expected_map(world, thresholds):
    d = squared(world.queries, world.tiles)
    rows = {}
    for i, q in enumerate(world.query_ids):
        rank, best = rank_best(d[i], world.true_tile[i])
        error = geodesic(world.tile_lonlat[best], world.query_lonlat[i])
        rows[q] = (rank, world.tile_ids[best], error)
    errors = np.array([r[2] for r in rows.values()])
    within = {k: float(np.mean(errors <= t)) for k, t in thresholds.items()}
    return rows, float(np.median(errors)), within


def _by_query(table):
    return {r["query_id"]: r for r in table.to_pylist()}


def test_map_protocol_error_equals_numpy_and_pyproj(mapw):
    thresholds = {"25": 25, "100": 100, "250": 250, "500": 500, "1000": 1000, "5000": 5000}
    result = geovec.evaluate(mapw.store, "gist", method="direct")
    rows, median, within = _expected_map(mapw, thresholds)
    got = _by_query(result.ranks)
    assert set(got) == set(rows)
    for q, (rank, best, error) in rows.items():
        assert got[q]["rank"] == rank and got[q]["best_id"] == best, q
        assert got[q]["error_m"] == pytest.approx(error, abs=1e-6), q
        assert (got[q]["best_id"] == got[q]["true_tile"]) == (rank == 0)  # best is R@1's
    assert result.median_error_m == pytest.approx(median, abs=1e-6)
    assert result.within_m == pytest.approx(within)
    assert result.queries_without_error == 0
    assert 0 < within["250"] < 1  # the world tells thresholds apart
    custom = geovec.evaluate(mapw.store, "gist", method="direct", within_m=(150.5, 60, 700))
    _, _, want = _expected_map(mapw, {"60": 60, "150.5": 150.5, "700": 700})
    assert custom.within_m == pytest.approx(want) and list(custom.within_m) == [
        "60",
        "150.5",
        "700",
    ]


@pytest.fixture(scope="module")
def pairw(tmp_path_factory):
    return pair_world(tmp_path_factory.mktemp("pairw") / "db")


def test_pairs_protocol_error_equals_numpy_and_pyproj(pairw):
    """The error is from the top aerial's centre to the photo's position, else to its true
    aerial's centre; unknown where the top aerial has no position."""
    result = geovec.evaluate(pairw.store, "gist", protocol="pairs")
    d = squared(pairw.queries, pairw.aerials)
    got = _by_query(result.ranks)
    errors = []
    for i, q in enumerate(pairw.query_ids):
        rank, best = rank_best(d[i], pairw.true[i])
        truth = pairw.query_lonlat[i]
        if np.isnan(truth).any():
            truth = pairw.aerial_lonlat[pairw.true[i]]
        error = geodesic(pairw.aerial_lonlat[best], truth)
        errors.append(error)
        assert got[q]["rank"] == rank and got[q]["best_id"] == pairw.aerial_ids[best], q
        assert got[q]["candidates"] == len(pairw.aerial_ids)
        if np.isnan(error):
            assert got[q]["error_m"] is None, q
        else:
            assert got[q]["error_m"] == pytest.approx(error, abs=1e-6), q
    errors = np.array(errors)
    known = errors[np.isfinite(errors)]
    assert result.queries_without_error == int(np.isnan(errors).sum()) > 0
    assert result.median_error_m == pytest.approx(float(np.median(known)), abs=1e-6)
    assert result.within_m["100"] == pytest.approx(float(np.mean(known <= 100)))
    assert result.within_m["1000"] == pytest.approx(float(np.mean(known <= 1000)))
    assert 0 < result.within_m["1000"] < 1


def test_pair_only_datasets_have_no_error(tmp_path):
    from tests.stores import add_rows

    store = geovec.open(tmp_path / "db")
    vectors = np.eye(4, dtype=np.float32)
    add_rows(store, "overhead", [{"id": f"a{i}", "lon": None, "lat": None} for i in range(4)],
             {"gist": vectors})  # fmt: skip
    add_rows(store, "ground", [{"id": f"g{i}", "lon": None, "lat": None, "split": "test",
                                "pair": f"a{i}"} for i in range(4)], {"gist": vectors})  # fmt: skip
    result = geovec.evaluate(store, "gist", protocol="pairs")
    assert result.ranks.column("best_id").to_pylist() == ["a0", "a1", "a2", "a3"]
    assert result.ranks.column("error_m").null_count == 4
    assert result.median_error_m is None and result.queries_without_error == 4
    assert result.within_m["25"] is None


def test_cli_within_m_json_ranks_and_the_distance_panel(mapw, tmp_path):
    db = str(mapw.store.path)
    out = tmp_path / "eval"
    args = ["evaluate", db, "--feature", "gist", "--method", "direct"]
    result = runner.invoke(app, [*args, "--within-m", "100,1000", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    _, median, within = _expected_map(mapw, {"100": 100, "1000": 1000})
    assert data["median_error_m"] == pytest.approx(median, abs=1e-6)
    assert data["within_m"] == pytest.approx(within) and data["queries_without_error"] == 0
    ranks = pq.read_table(out / "ranks_gist.parquet")
    assert {"best_id", "error_m"} <= set(ranks.column_names)
    with Image.open(out / "curve.png") as img:  # two panels: rank curve, error curve
        width, height = img.size
    assert width > 1.6 * height
    text = runner.invoke(app, args)
    assert f"median error {median:.0f} m" in text.output
    for bad in ("25,abc", "0", "-5,10", "nan"):
        wrong = runner.invoke(app, [*args, "--within-m", bad])
        assert wrong.exit_code == 1 and len(wrong.output.strip().splitlines()) == 1, bad
        assert "Traceback" not in wrong.output


def test_localize_prints_the_best_guess_and_its_error(mapw):
    q = mapw.query_ids[7]
    result = geovec.localize(mapw.store, "gist", id=q, neighbors=1)
    # kNN-average with one neighbour: the only training pairs are far away, so check
    # against the tiles' own ranking of the prediction the evaluation makes
    evaluation = _by_query(geovec.evaluate(mapw.store, "gist", neighbors=1).ranks)[q]
    assert result.best_id == evaluation["best_id"]
    assert result.best.column("id")[0].as_py() == result.best_id
    at = mapw.tile_ids.index(result.best_id)
    assert result.best_lonlat == pytest.approx(tuple(mapw.tile_lonlat[at]))
    assert result.error_m == pytest.approx(
        geodesic(mapw.tile_lonlat[at], mapw.query_lonlat[7]), abs=1e-6
    )
    text = runner.invoke(app, ["localize", str(mapw.store.path), "--id", q, "--feature", "gist"])
    assert text.exit_code == 0, text.output
    assert f"best guess {result.best_id}" in text.output
    assert f"{result.error_m:.0f} m from the photo" in text.output
    data = json.loads(
        runner.invoke(
            app, ["localize", str(mapw.store.path), "--id", q, "--feature", "gist", "--json"]
        ).output
    )
    assert data["best_id"] == result.best_id
    assert data["error_m"] == pytest.approx(result.error_m)
