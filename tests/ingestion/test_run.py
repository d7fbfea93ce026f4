import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import WeightsNotFoundError
from geovec.features.decode import load_rgb
from geovec.features.gist import gist
from tests.images import simple_manifest, write_hostile, write_manifest

runner = CliRunner()


def test_mixed_hostile_run(tmp_path):
    hostile = write_hostile(tmp_path / "files")
    rows = [
        {
            "id": name,
            "path": f"files/{name}",
            "view": "ground",
            "lon": -80 + i / 100,
            "lat": 32 + i / 100,
            "region": "r",
        }
        for i, name in enumerate(hostile)
    ]
    rows.append({"id": "nowhere", "path": "files/cmyk.jpg", "view": "ground", "lon": 200, "lat": 0})
    rows.append({"id": "ghost", "path": "files/ghost.png", "view": "ground", "lon": 1, "lat": 1})
    manifest = write_manifest(tmp_path / "manifest.csv", rows)
    store = geovec.open(tmp_path / "db")
    summary = geovec.ingest(store, manifest, features=["gist"], batch_size=4)
    good = {name for name, (_, stage) in hostile.items() if stage is None}
    assert set(store.ids("ground")) == good
    assert summary.ingested == len(good) and summary.failed == len(rows) - len(good)
    failures = {os.path.basename(r["path"]): r for r in store.read("failures").to_pylist()}
    for name, (_, stage) in hostile.items():
        if stage:
            assert failures[name]["stage"] == stage, name
    errors = [r["error"] for r in store.read("failures").to_pylist()]
    assert any("lon 200" in e and "outside" in e for e in errors)
    assert any("file not found" in e for e in errors)
    ground = store.read("ground").to_pylist()
    assert all(len(r["gist"]) == 512 and r["geom"] for r in ground)


def test_features_equal_direct_computation_and_rerun_adds_nothing(tmp_path):
    manifest = simple_manifest(tmp_path, 9)
    store = geovec.open(tmp_path / "db")
    first = geovec.ingest(store, manifest, features="gist", batch_size=4)
    assert (first.ingested, first.skipped) == (9, 0)
    again = geovec.ingest(store, manifest, features="gist", batch_size=4)
    assert (again.ingested, again.skipped, store.count("ground")) == (0, 9, 9)
    ids, vectors = store.vectors("ground", "gist")
    row = ids.index("g5")
    want = gist(load_rgb(tmp_path / "images" / "img0005.png"))
    np.testing.assert_allclose(vectors[row], want, rtol=1e-4, atol=1e-6)
    prov = store.provenance("ground", "gist")
    assert prov["geovec_version"] == geovec.__version__ and "LMgist" in prov["preprocessing"]


def test_cnn_feature_without_weights_fails_before_work(tmp_path):
    manifest = simple_manifest(tmp_path, 2)
    with pytest.raises(WeightsNotFoundError, match="geovec weights convert"):
        geovec.ingest(geovec.open(tmp_path / "db"), manifest, features="places_fc8")
    assert not (tmp_path / "db" / "ground.lance").exists()


def test_extract_adds_a_feature_later(tmp_path, with_weights):
    manifest = simple_manifest(tmp_path, 5)
    store = geovec.open(tmp_path / "db")
    geovec.ingest(store, manifest, features="gist", batch_size=4)
    summary = geovec.extract_missing(store, "imagenet_fc8,places_fc8", batch_size=4)
    assert summary.ingested == 5
    assert store.features("ground") == {"gist": 512, "imagenet_fc8": 1000, "places_fc8": 205}
    assert store.provenance("ground", "places_fc8")["source_sha256"]
    again = geovec.extract_missing(store, "imagenet_fc8", batch_size=4)
    assert (again.ingested, again.skipped) == (0, 5)


def test_cli_ingest_extract_and_sql(tmp_path, with_weights):
    manifest = simple_manifest(tmp_path, 4)
    db = str(tmp_path / "db")
    result = runner.invoke(app, ["ingest", db, str(manifest), "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "ingested 4" in result.output and "places_fc8" in result.output
    result = runner.invoke(app, ["extract", db, "--features", "imagenet_prob", "--batch-size", "4"])
    assert result.exit_code == 0 and "extracted 4" in result.output
    result = runner.invoke(
        app,
        [
            "sql",
            db,
            "SELECT count(*) AS n FROM ground WHERE imagenet_prob IS NOT NULL",
            "--format",
            "csv",
        ],
    )
    assert result.output.strip().splitlines() == ['"n"', "4"]


def test_cli_missing_weights_is_one_line(tmp_path):
    manifest = simple_manifest(tmp_path, 2)
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "db"), str(manifest), "--features", "imagenet_fc7"]
    )
    assert result.exit_code == 1 and "geovec weights convert" in result.output
    assert "Traceback" not in result.output


def test_reader_sees_consistent_snapshots(tmp_path):
    manifest = simple_manifest(tmp_path, 120)
    store = geovec.open(tmp_path / "db")
    done = threading.Event()
    seen = []

    def run():
        try:
            geovec.ingest(
                geovec.open(tmp_path / "db"), manifest, features="gist", batch_size=4, chunk_rows=8
            )
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    while not done.is_set():
        if store.has("ground"):
            table = store.read("ground", ["id", "gist"])
            ids = table.column("id").to_pylist()
            assert len(ids) == len(set(ids))
            assert table.column("gist").null_count == 0
            seen.append(len(ids))
        time.sleep(0.01)
    thread.join()
    assert seen == sorted(seen) and store.count("ground") == 120
    assert len(set(seen)) > 2, "the reader never saw the ingest in progress"


def test_sigkill_mid_ingest_then_resume(tmp_path):
    manifest = simple_manifest(tmp_path, 400)
    db = tmp_path / "db"
    cmd = [
        sys.executable,
        "-m",
        "geovec",
        "ingest",
        str(db),
        str(manifest),
        "--features",
        "gist",
        "--batch-size",
        "4",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = geovec.open(db)
    deadline = time.time() + 120
    count = 0
    while time.time() < deadline:
        count = store.count("ground") if store.has("ground") else 0
        if count > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = geovec.open(db).count("ground")
    assert 0 < killed_at < 400, f"kill came at {killed_at} rows"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resumed = geovec.open(db)
    ids, vectors = resumed.vectors("ground", "gist")
    assert len(ids) == len(set(ids)) == 400
    clean = geovec.open(tmp_path / "clean")
    geovec.ingest(clean, manifest, features="gist", batch_size=4)
    clean_ids, clean_vectors = clean.vectors("ground", "gist")
    order = np.argsort(ids)
    clean_order = np.argsort(clean_ids)
    np.testing.assert_allclose(vectors[order], clean_vectors[clean_order], rtol=1e-5, atol=1e-6)
    versions = resumed.table("ground").list_versions()
    assert len(versions) > 3
    old = resumed.table("ground")
    old.checkout(versions[1]["version"])
    assert old.count_rows() <= 400
