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
from geovec.errors import GeovecError, WeightsNotFoundError
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
    manifest = simple_manifest(tmp_path, 48)
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
    assert seen == sorted(seen) and store.count("ground") == 48
    assert len(set(seen)) > 2, "the reader never saw the ingest in progress"


@pytest.mark.slow
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
    # every commit kept a readable version; each is a prefix of the final rows, growing
    table = resumed.table("ground")
    counts = []
    for version in table.list_versions():
        table.checkout(version["version"])
        counts.append(table.count_rows())
        old_ids = table.search().select(["id"]).limit(None).to_arrow().column("id").to_pylist()
        assert set(old_ids) <= set(ids) and len(set(old_ids)) == len(old_ids)
    assert counts == sorted(counts) and counts[-1] == 400
    assert any(0 < c < 400 for c in counts) and len(counts) > 3


@pytest.fixture
def places_with_labels(tmp_path_factory, converted_weights_dir, monkeypatch):
    """Converted Places205 weights whose category names alternate indoor (even class
    index: /k/kitchen) and outdoor (odd: /c/coast)."""
    import shutil

    from geovec.nets.convert import convert_caffemodel
    from tests import caffe_writer, reference_alexnet

    folder = tmp_path_factory.mktemp("labelled")
    labels = folder / "categoryIndex_places205.csv"
    labels.write_text(
        "".join(f"{'/k/kitchen' if i % 2 == 0 else '/c/coast'} {i}\n" for i in range(205))
    )
    params = reference_alexnet.random_params(reference_alexnet.CAFFENET_CONVS, 4096, 205, seed=2)
    model = folder / "places.caffemodel"
    model.write_bytes(caffe_writer.caffemodel(params))
    np.save(folder / "mean.npy", np.full((3, 4, 4), 110.0))
    weights = folder / "weights"
    weights.mkdir()
    convert_caffemodel(
        model,
        "places205",
        mean=folder / "mean.npy",
        labels=labels,
        out=weights / "places205.safetensors",
    )
    shutil.copy(converted_weights_dir / "caffenet.safetensors", weights)
    monkeypatch.setenv("GEOVEC_WEIGHTS", str(weights))
    return weights


def test_outdoor_only_drops_what_places_calls_indoor(tmp_path, places_with_labels):
    """The images dropped are exactly those whose top-1 Places205 class is indoor."""
    from geovec.features.extract import FeatureExtractor

    manifest = simple_manifest(tmp_path, 16)
    prob = FeatureExtractor(["places_prob"], batch_size=8).extract(
        [load_rgb(tmp_path / "images" / f"img{i:04d}.png") for i in range(16)]
    )["places_prob"]
    indoor = {f"g{i}" for i in np.nonzero(prob.argmax(axis=1) % 2 == 0)[0]}
    assert 0 < len(indoor) < 16, "the random network should call some images indoor, not all"
    store = geovec.open(tmp_path / "db")
    summary = geovec.ingest(store, manifest, features="gist", batch_size=8, outdoor_only=True)
    assert store.ids("ground") == {f"g{i}" for i in range(16)} - indoor
    assert summary.indoor == len(indoor) and summary.ingested == 16 - len(indoor)
    result = runner.invoke(
        app,
        ["ingest", str(tmp_path / "cli"), str(manifest), "--features", "gist", "--outdoor-only"],
    )
    assert result.exit_code == 0, result.output
    assert f"dropped {len(indoor)} indoor" in result.output
    assert geovec.open(tmp_path / "cli").ids("ground") == store.ids("ground")


def test_outdoor_only_records_its_drops_and_a_resume_skips_them(tmp_path, places_with_labels):
    """Each drop is a failures row (stage indoor, naming the scene); a resume with
    --outdoor-only decodes none of them again, one without it ingests them."""
    manifest = simple_manifest(tmp_path, 16)
    store = geovec.open(tmp_path / "db")
    first = geovec.ingest(store, manifest, features="gist", batch_size=8, outdoor_only=True)
    assert 0 < first.indoor < 16
    dropped = [r for r in store.read("failures").to_pylist() if r["stage"] == "indoor"]
    assert len(dropped) == first.indoor and first.failed == 0
    assert all("/k/kitchen" in r["error"] and r["view"] == "ground" for r in dropped)
    stored = {
        os.path.basename(p) for p in store.read("ground", ["path"]).column("path").to_pylist()
    }
    assert not stored & {os.path.basename(r["path"]) for r in dropped}
    again = geovec.ingest(store, manifest, features="gist", batch_size=8, outdoor_only=True)
    assert (again.ingested, again.indoor, again.skipped, again.failed) == (0, 0, 16, 0)
    assert store.count("failures") == first.indoor  # nothing recorded twice
    everything = geovec.ingest(store, manifest, features="gist", batch_size=8)
    assert everything.ingested == first.indoor and store.count("ground") == 16


def test_outdoor_only_needs_labelled_places_weights(tmp_path, with_weights):
    manifest = simple_manifest(tmp_path, 2)
    with pytest.raises(GeovecError, match="needs Places205 category names"):
        geovec.ingest(geovec.open(tmp_path / "db"), manifest, features="gist", outdoor_only=True)
    result = runner.invoke(app, ["ingest", str(tmp_path / "db"), str(manifest), "--outdoor-only"])
    assert result.exit_code == 1 and "category names" in result.output
