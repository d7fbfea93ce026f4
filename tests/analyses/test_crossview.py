import json

import pyarrow.parquet as pq
import pytest
from pyproj import Geod
from typer.testing import CliRunner

from geovec.analyses.crossview import RANK_SCHEMA, evaluate
from geovec.cli import app
from geovec.errors import FeatureMissingError, GeovecError
from tests.stores import known_store


def test_evaluate_known_answer(tmp_path):
    store = known_store(tmp_path)
    result = evaluate(store, "gist", neighbors=1)
    assert result.queries == 2 and result.candidates == 4 and result.skipped == 1
    assert result.recall["1"] == 0.5 and result.recall["5"] == 1.0  # ranks 0 and 1
    assert result.top_1_percent == 0.5
    assert result.chance_top_1_percent == 0.25  # rank < 1 of 4 candidates
    # ranks 0 and 1 of 4: localised from 1 % (the first max(1, floor(4 p / 100)) = 1
    # candidate) and from 50 % (2 candidates) on
    assert result.area_under_curve == pytest.approx((100 + 51) / 2 / 101)
    # the rows behind the aggregates: q1 predicts [1, 0] (tile t1, its own), q2 [3, 0]
    assert result.ranks.schema == RANK_SCHEMA
    # best: q1's own tile t1 (rank 0), q2's t3 (nearest to [3, 0]); errors: pyproj geodesics
    geod = Geod(ellps="WGS84")
    e1 = geod.inv(0.01, 0.0, 0.0101, 0.0005)[2]
    e2 = geod.inv(0.03, 0.0, 0.0199, -0.0005)[2]
    rows = sorted(result.ranks.to_pylist(), key=lambda r: r["query_id"])
    assert rows == [
        {"query_id": "q1", "region": "r", "rank": 0, "candidates": 4, "true_tile": "t1",
         "best_id": "t1", "error_m": pytest.approx(e1, abs=1e-6)},
        {"query_id": "q2", "region": "r", "rank": 1, "candidates": 4, "true_tile": "t2",
         "best_id": "t3", "error_m": pytest.approx(e2, abs=1e-6)},
    ]  # fmt: skip
    assert result.median_error_m == pytest.approx((e1 + e2) / 2)
    assert result.within_m == {"25": 0.0, "100": 0.5, "250": 0.5, "500": 0.5, "1000": 0.5,
                               "5000": 1.0}  # fmt: skip
    assert result.queries_without_error == 0 and result.prior is None
    assert "ranks" not in result.as_dict()


def test_neighbors_must_be_positive(tmp_path):
    with pytest.raises(GeovecError, match="neighbors must be at least 1, got 0"):
        evaluate(known_store(tmp_path), "gist", neighbors=0)


def test_cli_evaluate_json_curve_and_ranks(tmp_path):
    known_store(tmp_path)
    out = tmp_path / "eval"
    args = ["evaluate", str(tmp_path / "db"), "--feature", "gist", "--neighbors", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {
        "feature",
        "neighbors",
        "queries",
        "candidates",
        "top_1_percent",
        "recall",
        "curve",
    } <= set(data)
    assert data["curve"]["percent"][-1] == 100.0 and data["curve"]["localised"][-1] == 1.0
    assert (out / "curve.png").stat().st_size > 1000
    assert json.loads((out / "evaluate_gist.json").read_text())["queries"] == 2
    ranks = pq.read_table(out / "ranks_gist.parquet")
    assert sorted(ranks.column("rank").to_pylist()) == [0, 1]
    text = CliRunner().invoke(app, args)
    assert "top-1% 0.500 (chance 0.250)" in text.output and "2 queries" in text.output


def test_missing_feature(tmp_path):
    store = known_store(tmp_path)
    with pytest.raises(FeatureMissingError, match="places_fc8"):
        evaluate(store, "places_fc8")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "db")])  # places_fc8 default
    assert result.exit_code == 1 and "geovec extract" in result.output


def test_missing_test_set(tmp_path):
    store = known_store(tmp_path, isolated=False)
    with pytest.raises(GeovecError, match="no test set yet: isolate the test images first"):
        evaluate(store, "gist")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "db"), "--feature", "gist"])
    assert result.exit_code == 1 and "geovec isolate" in result.output


def test_training_pairs_are_what_ground_pair_names(tmp_path):
    """The map protocol's training pairs follow ground.pair alone: training images without
    a pair give no training set, even where aerials share their ids (before, equal ids
    paired them), and the error says how such a store gets linked."""
    from tests.stores import store_from_arrays

    store = known_store(tmp_path)
    rows = store.read("ground", None).to_pylist()
    unpaired = [({**r, "pair": None}, r["gist"]) for r in rows]
    overhead = [(r, r["gist"]) for r in store.read("overhead", None).to_pylist()]
    tiles = [(r, r["gist"]) for r in store.read("map", None).to_pylist()]
    old = store_from_arrays(tmp_path / "old", unpaired, overhead, tiles)
    with pytest.raises(GeovecError, match="a training set.*3 ground images have no pair"):
        evaluate(old, "gist", neighbors=1)
