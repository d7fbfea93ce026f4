"""The places protocol (recall@N within a distance) against an independent recomputation:
brute-force geodesic distances with pyproj's Geod, brute-force Euclidean feature distances
in float64 numpy, and the VPR benchmark code's rule (a hit at N when one of the N nearest
database images lies within the threshold; queries without any count as misses)."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from pyproj import Geod
from typer.testing import CliRunner

import geovec
from geovec.analyses.places import evaluate_places
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.ingestion.datasets import import_dataset
from tests import dataset_trees
from tests.stores import add_rows

runner = CliRunner()
GEOD = Geod(ellps="WGS84")
KS = (1, 5, 10, 20)


def recompute(q_vec, q_pos, db_vec, db_pos, threshold_m, ks=KS):
    """The benchmark's evaluation, brute force: recall, queries without a positive, and
    per query the best database index, the first positive's rank and the best's metres."""
    nq, nd = len(q_vec), len(db_vec)
    qlon, dlon = np.repeat(q_pos[:, 0], nd), np.tile(db_pos[:, 0], nq)
    qlat, dlat = np.repeat(q_pos[:, 1], nd), np.tile(db_pos[:, 1], nq)
    metres = GEOD.inv(qlon, qlat, dlon, dlat)[2].reshape(nq, nd)
    positive = np.nan_to_num(metres, nan=np.inf) <= threshold_m  # unlocated: never
    feat = ((q_vec[:, None, :].astype(np.float64) - db_vec[None].astype(np.float64)) ** 2).sum(2)
    order = np.argsort(feat, axis=1, kind="stable")
    ranked = np.take_along_axis(positive, order, axis=1)
    recall = {str(k): float(ranked[:, :k].any(axis=1).mean()) for k in ks}
    first = np.where(ranked.any(axis=1), ranked.argmax(axis=1), -1)
    best = order[:, 0]
    error = metres[np.arange(nq), best]
    return recall, int((~positive.any(axis=1)).sum()), best, first, error


@pytest.fixture(scope="module", params=[(-79.94, 32.78), (179.9985, -16.5)], ids=["sc", "fiji"])
def world(request, tmp_path_factory):
    """300 database images in an 800 m square, 70 located queries in a 1,400 m one (across
    the antimeridian for fiji), 3 database images and 4 queries without a position; each
    located query shows a random database image's feature plus noise, so some are near
    their place and some not."""
    lon0, lat0 = request.param
    rng = np.random.default_rng(11)
    dim, nd, nq = 8, 300, 70
    db_vec = rng.normal(size=(nd, dim)).astype(np.float32)
    east = np.concatenate([rng.uniform(-400, 400, (nd, 2)), rng.uniform(-700, 700, (nq, 2))])
    lon = lon0 + east[:, 0] / (111_320 * np.cos(np.radians(lat0)))
    lon = (lon + 180) % 360 - 180
    lat = lat0 + east[:, 1] / 110_570
    source = rng.integers(0, nd, nq)
    q_vec = (db_vec[source] + rng.normal(0, 0.6, (nq, dim))).astype(np.float32)
    db_pos = np.column_stack([lon[:nd], lat[:nd]])
    q_pos = np.column_stack([lon[nd:], lat[nd:]])
    q_pos[:5] = db_pos[source[:5]] + 3e-5  # a few a few metres from their picture's place
    db_pos[-3:] = np.nan  # no position: candidates, never positives
    q_vec[5] = db_vec[-1]  # its best is a database image without a position
    rows = [
        dict(id=f"d{i:03d}", lon=None if np.isnan(p[0]) else float(p[0]),
             lat=None if np.isnan(p[1]) else float(p[1]), split="database")
        for i, p in enumerate(db_pos)
    ] + [
        dict(id=f"q{i:03d}", lon=float(p[0]), lat=float(p[1]), split="queries")
        for i, p in enumerate(q_pos)
    ] + [dict(id=f"u{i}", lon=None, lat=None, split="queries") for i in range(4)]  # fmt: skip
    extra = rng.normal(size=(4, dim)).astype(np.float32)
    store = geovec.open(tmp_path_factory.mktemp("places") / "db")
    add_rows(store, "ground", rows, {"feat": np.concatenate([db_vec, q_vec, extra])})
    return store, q_vec, q_pos, db_vec, db_pos


@pytest.mark.parametrize("threshold_m", [25.0, 60.0])
def test_recall_equals_the_brute_force_benchmark_rule(world, threshold_m):
    store, q_vec, q_pos, db_vec, db_pos = world
    result = evaluate_places(store, "feat", threshold_m=threshold_m)
    recall, without, best, first, error = recompute(q_vec, q_pos, db_vec, db_pos, threshold_m)
    assert (result.queries, result.candidates, result.unlocated) == (70, 300, 4)
    assert result.recall == pytest.approx(recall, abs=1e-12)
    assert result.queries_without_positive == without
    assert 0 < without < 70 and 0 < recall["1"] < recall["20"] < 1  # neither trivial
    ranks = result.ranks.to_pylist()
    assert [r["query_id"] for r in ranks] == [f"q{i:03d}" for i in range(70)]
    assert [r["best_id"] for r in ranks] == [f"d{i:03d}" for i in best]
    assert [
        -1 if r["first_positive_rank"] is None else r["first_positive_rank"] for r in ranks
    ] == list(first)
    got = np.array([np.nan if r["error_m"] is None else r["error_m"] for r in ranks])
    np.testing.assert_allclose(got, error, rtol=0, atol=1e-6)  # nan where best has no position
    assert np.isnan(got[5])
    assert all(r["error_m"] <= threshold_m for r, f in zip(ranks, first) if f == 0)


def test_recall_values_and_refusals(world):
    store = world[0]
    result = evaluate_places(store, "feat", recall_at="20,1,3")
    assert list(result.recall) == ["1", "3", "20"]
    with pytest.raises(GeovecError, match="whole numbers of at least 1"):
        evaluate_places(store, "feat", recall_at="1,0")
    with pytest.raises(GeovecError, match="positive metres"):
        evaluate_places(store, "feat", threshold_m=float("nan"))
    with pytest.raises(GeovecError, match="two splits"):
        evaluate_places(store, "feat", database_split="queries")
    with pytest.raises(GeovecError, match="no ground image of split 'test' has feat"):
        evaluate_places(store, "feat", query_split="test")
    with pytest.raises(GeovecError, match="local engine only"):
        evaluate_places(store, "feat", engine="ray")
    with pytest.raises(GeovecError, match="ranks by the feature itself"):
        geovec.evaluate(store, "feat", protocol="places", method="knn-average")


@pytest.fixture(scope="module")
def sf_store(tmp_path_factory):
    """A place-recognition tree with the real name format (UTM 10S, San Francisco),
    imported by geovec dataset places and ingested with GIST: 12 database images 10 m
    apart along a street; q0 shows d3's picture 2 m from it (a hit at 1); q1 shows d9's
    picture 60 m from d9 (its nearest is no positive); q2 (1 km away) and q4 (40 m before
    the street) have no database image within 25 m; q3 shows a picture of its own."""
    tmp = tmp_path_factory.mktemp("sf")
    database = [(10.0 * k, 0.0, k) for k in range(12)]
    queries = [(31.0, 2.0, 3), (30.0, 5.0, 9), (1000.0, 0.0, 0), (55.0, -3.0, 100), (-40, 0, 101)]
    root = dataset_trees.places(tmp / "sf", database, queries, layout="images/test", lists=True)
    manifest = import_dataset("places", root, tmp / "sf.parquet").manifest
    store = geovec.open(tmp / "db")
    summary = geovec.ingest(store, manifest, features="gist", batch_size=8)
    assert (summary.ingested, summary.failed) == (17, 0)
    return store, tmp


def test_a_places_tree_imports_ingests_and_evaluates(sf_store):
    store, _ = sf_store
    result = geovec.evaluate(store, "gist", protocol="places")
    db_ids, db_vec = store.vectors("ground", "gist", "split = 'database'")
    q_ids, q_vec = store.vectors("ground", "gist", "split = 'queries'")
    where = {r["id"]: (r["lon"], r["lat"]) for r in store.read("ground").to_pylist()}
    q_pos = np.array([where[i] for i in q_ids])
    db_pos = np.array([where[i] for i in db_ids])
    recall, without, best, first, _ = recompute(q_vec, q_pos, db_vec, db_pos, 25.0)
    assert result.recall == pytest.approx(recall, abs=1e-12)
    assert result.queries_without_positive == without == 2
    assert (result.queries, result.candidates, result.threshold_m) == (5, 12, 25.0)
    ranks = {r["query_id"]: r for r in result.ranks.to_pylist()}
    assert [ranks[i]["best_id"] for i in q_ids] == [db_ids[b] for b in best]
    note = {i: i.split("@")[-2] for i in q_ids + db_ids}  # the names' note field: q0, d3, ...
    by_note = {note[i]: r for i, r in ranks.items()}
    assert note[by_note["q0"]["best_id"]] == "d3" and by_note["q0"]["first_positive_rank"] == 0
    assert by_note["q0"]["error_m"] == pytest.approx(np.hypot(1.0, 2.0), abs=0.01)  # UTM: cm
    assert note[by_note["q1"]["best_id"]] == "d9" and by_note["q1"]["first_positive_rank"] > 0
    assert by_note["q2"]["first_positive_rank"] is None and by_note["q2"]["positives"] == 0
    assert by_note["q2"]["error_m"] == pytest.approx(1000.0, abs=1.0)
    assert [by_note[f"q{k}"]["positives"] for k in range(5)] == [5, 5, 0, 4, 0]


def test_places_on_the_command_line(sf_store):
    store, tmp = sf_store
    out = tmp / "results"
    result = runner.invoke(
        app,
        ["evaluate", str(store.path), "--protocol", "places", "--feature", "gist",
         "--threshold-m", "15", "--recall", "1,2,5", "--json", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"protocol", "method", "feature", "queries", "candidates", "recall",
            "threshold_m", "queries_without_positive"} <= set(data)  # fmt: skip
    assert (data["protocol"], data["method"], data["feature"]) == ("places", "direct", "gist")
    assert list(data["recall"]) == ["1", "2", "5"] and data["threshold_m"] == 15.0
    expected = evaluate_places(store, "gist", threshold_m=15, recall_at=(1, 2, 5))
    assert data["recall"] == expected.recall
    assert data["queries_without_positive"] == expected.queries_without_positive
    assert json.loads((out / "evaluate_gist.json").read_text())["recall"] == expected.recall
    table = pq.read_table(out / "ranks_gist.parquet")
    assert table.column_names[:4] == ["query_id", "best_id", "first_positive_rank", "error_m"]
    assert table.to_pylist() == expected.ranks.to_pylist()
    text = runner.invoke(
        app, ["evaluate", str(store.path), "--protocol", "places", "--feature", "gist"]
    )
    assert text.exit_code == 0 and "2 without a database image within 25 m" in text.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--engine", "ray"], "the places protocol runs on the local engine only"),
        (["--recall", "one"], "recall needs whole numbers"),
    ],
)
def test_places_refusals_on_the_command_line(sf_store, args, message):
    store, _ = sf_store
    command = ["evaluate", str(store.path), "--protocol", "places", "--feature", "gist", *args]
    result = runner.invoke(app, command)
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_places_options_are_for_the_places_protocol(sf_store):
    store, _ = sf_store
    result = runner.invoke(
        app, ["evaluate", str(store.path), "--threshold-m", "25", "--query-split", "x"]
    )
    assert result.exit_code == 1
    assert "--threshold-m, --query-split: for --protocol places only" in result.output
