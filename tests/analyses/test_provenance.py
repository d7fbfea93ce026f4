"""Every evaluation's JSON says what made it (``provenance``), and ``geovec evaluate --check
RESULTS.json`` re-runs it: identical on a rerun, different after the store changes."""

import hashlib
import json
import shutil

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import geovec
from geovec.analyses.isolation import isolate
from geovec.analyses.metrics import curve_points
from geovec.analyses.recheck import check_results
from geovec.cli import app
from geovec.errors import ResultsError
from geovec.heads.file import new_head
from tests.stores import add_rows, known_store

runner = CliRunner()


def _digest(ids):
    return hashlib.sha256("".join(f"{i}\n" for i in sorted(ids)).encode()).hexdigest()


def _run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def store(tmp_path):
    store = known_store(tmp_path)
    store.set_field_metadata("map", "gist", {"geovec": json.dumps({"weights_sha256": "ab" * 32})})
    return store


def test_the_map_protocol_records_what_made_it(store):
    result = geovec.evaluate(store, "gist", neighbors=2)
    made = json.loads(json.dumps(result.as_dict()))["provenance"]
    assert made["geovec_version"] == geovec.__version__
    assert made["store"] == str(store.path.resolve())
    assert made["tables"] == {v: store.table(v).version for v in ("ground", "overhead", "map")}
    assert made["features"]["map"] == {"gist": {"weights_sha256": "ab" * 32}}
    assert made["features"]["ground"] == {"gist": store.provenance("ground", "gist")}
    assert made["query_ids_sha256"] == _digest(["q1", "q2"])  # the isolated ones inside a tile
    assert made["candidate_ids_sha256"] == _digest(["t0", "t1", "t2", "t3"])
    assert "max(1, N // 100)" in made["metrics"]["top_1_percent"]
    assert "strictly closer" in made["metrics"]["rank"]
    assert made["metrics"]["recall_at"] == [1, 5, 10]
    assert made["metrics"]["within_m"] == [25.0, 100.0, 250.0, 500.0, 1000.0, 5000.0]
    assert made["split"]["queries"] == "isolated ground images"
    assert made["isolation_radius_m"] is None  # isolated by hand, not by geovec isolate
    arguments = made["arguments"]
    assert (arguments["feature"], arguments["neighbors"], arguments["protocol"]) == (
        "gist",
        2,
        "map",
    )
    assert arguments["within_m"] == [25.0, 100.0, 250.0, 500.0, 1000.0, 5000.0]
    assert made["head"] is None and made["by"] is None


def test_pairs_places_and_heads_record_theirs(store, tmp_path):
    isolate(store, radius_m=300.0)
    pairs = geovec.evaluate(store, "gist", protocol="pairs", split="train")
    made = pairs.provenance
    assert made["isolation_radius_m"] == 300.0
    assert made["query_ids_sha256"] == _digest(pairs.ranks.column("query_id").to_pylist())
    assert made["candidate_ids_sha256"] == _digest(["a0", "a1", "a2"])
    assert made["split"]["queries"] == "ground split 'train' (with their aerial)"
    assert set(made["features"]) == {"ground", "overhead"}
    head = new_head("gist_head", ("gist", "gist"), (2, 2), hidden=4, dim=2, seed=0,
                    metadata={"isolated_at_training": 3})  # fmt: skip
    path = head.save(tmp_path / "gist_head.safetensors")
    learned = geovec.evaluate(store, protocol="map", head=path).provenance
    assert learned["head"] == {
        "name": "gist_head",
        "path": str(path.resolve()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert learned["arguments"]["head"] == str(path.resolve())
    rows = [dict(id=f"d{i}", lon=0.001 * i, lat=0.0, split="database") for i in range(3)]
    rows += [dict(id="p0", lon=0.0001, lat=0.0, split="queries")]
    add_rows(store, "ground", rows, {"gist": np.eye(4, 2, dtype=np.float32)})
    places = geovec.evaluate(store, "gist", protocol="places").provenance
    assert places["candidate_ids_sha256"] == _digest(["d0", "d1", "d2"])
    assert places["metrics"]["threshold_m"] == 25.0 and places["metrics"]["recall_at"] == [
        1,
        5,
        10,
        20,
    ]
    assert "first_positive_rank" in places["metrics"]["rank"]
    assert set(places["features"]) == {"ground"}


def test_check_is_identical_on_a_rerun(store, tmp_path):
    isolate(store)  # splits: train and test
    out = tmp_path / "out"
    assert (
        _run("evaluate", store.path, "--feature", "gist", "--neighbors", 2, "--out", out).exit_code
        == 0
    )
    again = _run("evaluate", "--check", out / "evaluate_gist.json")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1].startswith("identical: ")
    printed = _run("evaluate", store.path, "--feature", "gist", "--protocol", "pairs",
                   "--split", "train", "--within-m", "10,50", "--json")  # fmt: skip
    assert printed.exit_code == 0, printed.output
    (tmp_path / "pairs.json").write_text(printed.output)
    assert _run("evaluate", "--check", tmp_path / "pairs.json").exit_code == 0
    copy = tmp_path / "copy"  # the store moved: name it
    shutil.copytree(store.path, copy)
    verdict = check_results(out / "evaluate_gist.json", copy)
    assert verdict.identical and verdict.notes == []


def test_check_differs_after_a_new_row_and_after_a_changed_feature(store, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(
        _run("evaluate", store.path, "--feature", "gist", "--neighbors", 2, "--json").output
    )
    row = {"id": "q3", "region": "r", "lon": 0.0299, "lat": 0.0, "isolated": True}
    add_rows(store, "ground", [row], {"gist": np.array([[29.0, 0]], np.float32)})
    new_row = _run("evaluate", "--check", path)
    assert new_row.exit_code == 1
    lines = new_row.output.splitlines()
    assert "queries: 2 -> 3" in lines
    assert any(
        line.startswith("provenance.query_ids_sha256: the queries are other rows") for line in lines
    )
    assert any(
        line.startswith("note: the store's tables changed since (Lance versions ground")
        for line in lines
    )
    assert lines[-1].startswith("different: ") and lines[-1].endswith(("difference", "differences"))
    path.write_text(
        _run("evaluate", store.path, "--feature", "gist", "--neighbors", 2, "--json").output
    )
    assert _run("evaluate", "--check", path).exit_code == 0
    moved = pa.table({"id": ["t1"], "gist": pa.array([[40.0, 0.0]], pa.list_(pa.float32(), 2))})
    store.update_columns("map", moved)
    changed = _run("evaluate", "--check", path, "--json")
    assert changed.exit_code == 1
    verdict = json.loads(changed.output)
    assert not verdict["identical"]
    assert any(line.startswith("area_under_curve: ") for line in verdict["differences"]), verdict
    assert not any("sha256" in line for line in verdict["differences"])  # the same rows


def test_check_names_each_changed_number(store, tmp_path):
    result = geovec.evaluate(store, "gist", neighbors=2).as_dict()
    edited = json.loads(json.dumps(result))
    edited["top_1_percent"] = 0.125
    edited["within_m"]["25"] = 0.75
    edited["curve"]["localised"][40] = 0.0
    path = tmp_path / "edited.json"
    path.write_text(json.dumps([edited, json.loads(json.dumps(result))]))
    verdict = check_results(path)
    assert verdict.results == 2
    assert verdict.differences == [
        f"gist: top_1_percent: 0.125 -> {result['top_1_percent']}",
        "gist: curve.localised: 1 of 101 entries differ",
        f"gist: within_m.25: 0.75 -> {json.dumps(result['within_m']['25'])}",
    ]


def test_check_reads_a_curve_as_an_older_geovec_wrote_it(store, tmp_path):
    """Older files hold the curve as [[percent, fraction], ...]: the same numbers."""
    result = json.loads(json.dumps(geovec.evaluate(store, "gist", neighbors=2).as_dict()))
    curve = result["curve"]
    old = {**result, "curve": [[p, f] for p, f in zip(curve["percent"], curve["localised"])]}
    (tmp_path / "old.json").write_text(json.dumps(old, indent=1))
    verdict = check_results(tmp_path / "old.json")
    assert verdict.identical, verdict.differences
    assert curve_points(old["curve"]) == curve_points(curve) and len(curve_points(curve)) == 101


def test_check_refuses_what_it_cannot_rerun(store, tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"feature": "gist", "top_1_percent": 0.5}))
    (tmp_path / "bad.json").write_text("{")
    for name, message in (("old.json", "no provenance to re-run from"),
                          ("bad.json", "not a JSON results file"),
                          ("none.json", "no such results file")):  # fmt: skip
        done = _run("evaluate", "--check", tmp_path / name)
        assert done.exit_code == 1 and message in done.output and len(done.output.splitlines()) == 1
        with pytest.raises(ResultsError, match=message):
            check_results(tmp_path / name)
    lost = _run("evaluate")
    assert lost.exit_code == 1 and "give the database directory" in lost.output
