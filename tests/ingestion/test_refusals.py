"""What ingest and extract refuse to write, whatever the engine: features that came out
NaN or infinite (a failure row, stage ``features``), and images whose preparation failed
(decided by the failure's stage, never by its message: ``str(MemoryError())`` is empty)."""

import numpy as np
import pytest

import geovec
from geovec.features import extract as extract_module
from geovec.features.decode import load_rgb
from geovec.features.extract import FeatureExtractor
from geovec.ingestion import ray_engine
from geovec.ingestion.records import Record
from geovec.ingestion.stream import stream_into_store
from tests.images import noise_image, simple_manifest, write_manifest

POISON = (40, 40)  # an image of this size gets a NaN GIST input: its features come out NaN


def poisoned(real):
    """``real`` GIST input, but all NaN for images of the POISON size."""

    def gist_input(rgb):
        grey = real(rgb)
        return np.full_like(grey, np.nan) if rgb.shape[:2] == POISON else grey

    return gist_input


@pytest.fixture
def poisoned_gist(monkeypatch):
    monkeypatch.setattr(extract_module, "gist_input", poisoned(extract_module.gist_input))


def manifest_with_poison(tmp_path):
    manifest = simple_manifest(tmp_path, 3)
    noise_image(7, size=POISON).save(tmp_path / "images" / "poison.png")
    rows = [
        {"id": "p", "path": "images/poison.png", "view": "ground", "lon": 1.0, "lat": 2.0},
        *(
            {"id": f"g{i}", "path": f"images/img{i:04d}.png", "view": "ground", "lon": i, "lat": 0}
            for i in range(3)
        ),
    ]
    return write_manifest(manifest, rows)


def only_failure(store):
    rows = store.read("failures").to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def test_ingest_refuses_nonfinite_features(tmp_path, poisoned_gist):
    manifest = manifest_with_poison(tmp_path)
    store = geovec.open(tmp_path / "db")
    summary = geovec.ingest(store, manifest, features="gist", batch_size=2)
    assert store.ids("ground") == {"g0", "g1", "g2"}
    assert (summary.ingested, summary.failed) == (3, 1)
    failure = only_failure(store)
    assert failure["stage"] == "features" and failure["path"].endswith("poison.png")
    assert "NaN or infinity in gist" in failure["error"]
    again = geovec.ingest(store, manifest, features="gist", batch_size=2)  # tried again,
    assert (again.ingested, again.failed) == (0, 1) and only_failure(store)  # recorded once


def test_extract_refuses_nonfinite_features(tmp_path, monkeypatch):
    manifest = manifest_with_poison(tmp_path)
    store = geovec.open(tmp_path / "db")
    geovec.ingest(store, manifest, features="gist", batch_size=2)  # all finite
    assert store.count("ground") == 4
    store.table("ground").drop_columns(["gist"])
    monkeypatch.setattr(extract_module, "gist_input", poisoned(extract_module.gist_input))
    summary = geovec.extract_missing(store, "gist", batch_size=2)
    assert (summary.ingested, summary.failed) == (3, 1)
    have = {r["id"]: r["gist"] for r in store.read("ground", ["id", "gist"]).to_pylist()}
    assert have["p"] is None and all(np.isfinite(have[f"g{i}"]).all() for i in range(3))
    assert only_failure(store)["stage"] == "features"


def in_process_ray(extractor, records, write, fail, *, workers, chunk_rows, progress):
    """The Ray engine's per-batch steps (decode task, model actor, driver hand-over) run
    here, in this process, on one batch: the engine without a cluster."""
    batch = {
        "index": np.arange(len(records)),
        "path": np.array([str(r.path) for r in records], object),
    }
    prepared = ray_engine._prepare(batch, extractor.needs_crop, extractor.needs_gist)
    computed = ray_engine._Extract(extractor.features, extractor.batch_size, {})(prepared)
    return ray_engine._hand_over(computed, records, extractor.features, write, fail)


def records_of(tmp_path):
    simple_manifest(tmp_path, 2)
    noise_image(7, size=POISON).save(tmp_path / "images" / "poison.png")
    names = ["img0000.png", "poison.png", "img0001.png"]
    return [
        Record(id=n, path=tmp_path / "images" / n, view="ground", lon=0.0, lat=0.0) for n in names
    ]


def test_ray_engine_refuses_nonfinite_features(tmp_path, poisoned_gist, monkeypatch):
    monkeypatch.setattr(ray_engine, "ray_stream_features", in_process_ray)
    store = geovec.open(tmp_path / "db")
    records = records_of(tmp_path)
    written = []
    done, failed = stream_into_store(
        store,
        "ingest",
        FeatureExtractor(["gist"], batch_size=2),
        records,
        lambda chunk, values: written.append(([r.id for r in chunk], values["gist"])),
        None,
        None,
        False,
        "ray",
    )
    assert (done, failed) == (2, 1)
    assert [ids for ids, _ in written] == [["img0000.png", "img0001.png"]]
    assert np.isfinite(written[0][1]).all()
    assert only_failure(store)["stage"] == "features"


def test_ray_engine_fails_an_image_by_its_stage_not_its_message(tmp_path, monkeypatch):
    """A MemoryError has no message: the image is still a failure (stage preprocess, the
    error naming the exception), never a row of a zero crop's features."""
    from geovec.features import decode

    real = decode.load_rgb

    def load(path):
        if str(path).endswith("poison.png"):
            raise MemoryError()
        return real(path)

    monkeypatch.setattr(decode, "load_rgb", load)
    records = records_of(tmp_path)
    batch = {"index": np.arange(3), "path": np.array([str(r.path) for r in records], object)}
    prepared = ray_engine._prepare(batch, needs_crop=False, needs_gist=True)
    assert list(prepared["stage"]) == ["", "preprocess", ""]
    assert list(prepared["error"]) == ["", "MemoryError", ""]
    prepared["error"][1] = ""  # were a failure's message empty, its stage still decides
    computed = ray_engine._Extract(["gist"], 2, {})(prepared)
    expected = FeatureExtractor(["gist"], batch_size=2).extract([real(r.path) for r in records])[
        "gist"
    ]
    np.testing.assert_allclose(computed["gist"][[0, 2]], expected[[0, 2]], rtol=1e-5, atol=1e-6)
    written, failed = [], []
    counts = ray_engine._hand_over(
        computed, records, ["gist"], lambda c, v: written.extend(r.id for r in c), failed.extend
    )
    assert counts == (2, 1) and written == ["img0000.png", "img0001.png"]
    assert [(f.path, f.stage) for f in failed] == [(str(records[1].path), "preprocess")]


def test_local_engine_names_a_messageless_error(tmp_path, monkeypatch):
    from geovec.ingestion import stream

    def load(path):
        if str(path).endswith("poison.png"):
            raise MemoryError()
        return load_rgb(path)

    monkeypatch.setattr(stream, "load_rgb", load)
    store = geovec.open(tmp_path / "db")
    done, failed = stream_into_store(
        store,
        "ingest",
        FeatureExtractor(["gist"], batch_size=2),
        records_of(tmp_path),
        lambda chunk, values: None,
        None,
        None,
        False,
    )
    assert (done, failed) == (2, 1)
    failure = only_failure(store)
    assert (failure["stage"], failure["error"]) == ("preprocess", "MemoryError")
