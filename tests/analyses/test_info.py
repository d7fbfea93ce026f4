"""``geovec info``: what a store holds and the next step it lacks, the same answer from the
library, the command line (text and --json) and the explorer's /api/info."""

import json

from typer.testing import CliRunner

from geovec.analyses.info import store_info
from geovec.cli import app
from geovec.store.schema import feature_field
from tests.stores import add_rows, known_store, store_from_arrays

runner = CliRunner()


def test_a_store_before_isolate_says_isolate_next(tmp_path):
    store = known_store(tmp_path, isolated=False)
    info = store_info(store)
    assert info["counts"] == {"ground": 6, "map": 4, "overhead": 3}
    assert info["features"]["ground"]["gist"]["length"] == 2
    assert info["features"]["map"]["gist"]["rows"] == 4
    assert info["regions"] == [
        {
            "region": "r",
            "label": "r",
            "ground": 6,
            "overhead": 3,
            "map": 4,
            "images": 6,
            "isolated": 0,
            "west": 0.0,
            "south": -0.0005,
            "east": 0.5,
            "north": 0.5,
        }
    ]
    assert info["split"]["flagged"] == 0 and info["split"]["unset"] == 6
    assert info["next"] == [f"no isolated flags (no test set): geovec isolate {store.path}"]


def test_a_complete_store_lacks_nothing(tmp_path):
    store = known_store(tmp_path)
    info = store_info(store)
    assert info["split"]["isolated"] == 3 and info["split"]["flagged"] == 6
    assert info["next"] == [] and info["failures"] == {} and info["heads"] == []
    lines = runner.invoke(app, ["info", str(store.path)])
    assert lines.exit_code == 0, lines.output
    assert "next: nothing missing: every analysis can run" in lines.output
    assert "  ground.gist: 2 values, 6 of 6 rows; no provenance recorded" in lines.output


def test_own_photos_without_tiles_regions_or_features_say_what_to_run(tmp_path):
    """Photos of one's own (no region), without map tiles or overhead images, one of them
    without the feature, inputs that failed: each missing step with its command."""
    store = store_from_arrays(
        tmp_path / "db",
        [({"id": f"p{i}", "lon": i * 0.1, "lat": 0.0}, [float(i), 0.0]) for i in range(3)],
        [],
        [],
    )
    add_rows(store, "ground", [{"id": "bare", "lon": 1.0, "lat": 1.0}], {})
    store.record_failures([{"path": "x.jpg", "view": "ground", "stage": "location", "error": "e"}])
    info = store_info(store)
    assert info["regions"][0]["region"] is None and info["regions"][0]["label"] == "no region"
    assert info["failures"] == {"location": 1}
    db = str(store.path)
    steps = "\n".join(info["next"])
    assert "no map tiles: cut them with geovec grid" in steps and "geovec aerial" in steps
    assert "no overhead images (the training pairs): geovec aerial" in steps
    assert f"1 of 4 ground rows lack gist: geovec extract {db} --features gist" in steps
    assert f"4 rows have no region: geovec regions {db} --set NAME" in steps
    out = runner.invoke(app, ["info", db, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == json.loads(json.dumps(info, default=str))
    text = runner.invoke(app, ["info", db]).output
    assert "  no region: 4 ground photos" in text and "None" not in text
    assert "failures: location 1" in text


def test_all_photos_isolated_says_how_to_get_training_images(tmp_path):
    ground = [
        ({"id": f"p{i}", "region": "r", "lon": i * 0.1, "lat": 0.0, "isolated": True}, [1.0])
        for i in range(4)
    ]
    store = store_from_arrays(tmp_path / "db", ground, [], [])
    store.set_field_metadata("ground", "isolated", {"geovec_isolation_radius_m": "250.0"})
    steps = store_info(store)["next"]
    assert any(
        s.startswith("all 4 located photos are isolated at ")
        and "add photos within" in s
        and "--radius-m LARGER" in s  # a photo with another within the radius trains
        for s in steps
    ), steps


def test_one_row_without_a_region_is_singular(tmp_path):
    store = store_from_arrays(
        tmp_path / "db", [({"id": "p", "lon": 0.0, "lat": 0.0}, [1.0])], [], []
    )
    assert any(
        s.startswith("1 row has no region: geovec regions") for s in store_info(store)["next"]
    )


def test_feature_provenance_and_heads_are_listed(tmp_path):
    store = known_store(tmp_path)
    made = {"geovec_version": "0", "network": "places205", "layer": "fc7", "weights": "/w.st"}
    store.ensure_features("ground", [feature_field("places_fc7", 2, made)])
    head = {"head": "h", "sha256": "ab", "ground_feature": "gist", "overhead_feature": "gist"}
    for view, tower in (("ground", "ground"), ("overhead", "overhead")):
        store.ensure_features(view, [feature_field(f"h_{tower}", 2, {**head, "tower": tower})])
    info = store_info(store)
    assert info["features"]["ground"]["places_fc7"]["provenance"]["layer"] == "fc7"
    assert info["heads"] == [
        {
            "name": "h",
            "sha256": "ab",
            "ground_feature": "gist",
            "overhead_feature": "gist",
            "columns": {"ground": "h_ground", "overhead": "h_overhead"},
        }
    ]
    text = runner.invoke(app, ["info", str(store.path)]).output
    assert "ground.places_fc7: 2 values, 0 of 6 rows; places205 fc7, weights /w.st" in text
    assert "heads: h (gist -> gist; columns ground.h_ground, overhead.h_overhead)" in text


def test_explorer_info_is_the_same_answer(tmp_path):
    from geovec.explorer.answers import Explorer

    store = known_store(tmp_path)
    answer = Explorer(store).info()
    assert {k: answer[k] for k in store_info(store)} == store_info(store)
    assert answer["usable_features"] == ["gist"] and answer["bounds"] is not None


def test_no_store_is_one_line(tmp_path):
    out = runner.invoke(app, ["info", str(tmp_path / "nothing")])
    assert out.exit_code == 1 and "no geovec database here" in out.output


def test_a_folder_without_tables_is_not_called_a_store(tmp_path):
    """An empty folder, or any folder of other files, is no store: one line naming the
    first step, not a report of "tables: none"."""
    (tmp_path / "notes.txt").write_text("not a store")
    out = runner.invoke(app, ["info", str(tmp_path)])
    assert out.exit_code == 1, out.output
    assert "no geovec tables here" in out.output and "geovec ingest" in out.output
