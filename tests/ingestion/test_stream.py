"""The ingest pipeline (geovec.ingestion.stream): the network runs the next chunk while the
writer thread commits the last, writes and failures arrive in order on that one thread, a
writer's error stops the ingest, the network's waiting is measured; JPEG draft decoding
only when asked."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from geovec.errors import GeovecError
from geovec.features.decode import load_rgb
from geovec.ingestion.records import Record
from geovec.ingestion.stream import PipelineStats, stream_features, stream_into_store
from tests.images import write_images


class CountingExtractor:
    """Stands in for FeatureExtractor: the feature ``n`` is each image's width; ``run``
    says which chunk it has started."""

    batch_size = 2

    def __init__(self):
        self.started = []
        self.second_chunk = threading.Event()

    def prepare(self, rgb):
        return rgb.shape[1]

    def run(self, prepared):
        self.started.append(len(prepared))
        if len(self.started) == 2:
            self.second_chunk.set()
        return {"n": np.asarray(prepared, np.float32)}


def records(tmp_path, n, bad=()):
    paths = write_images(tmp_path / "images", n)
    for i in bad:
        paths[i].write_bytes(b"not an image")
    return [Record(id=str(i), path=p, view="ground", lon=0.0, lat=0.0) for i, p in enumerate(paths)]


def test_network_runs_the_next_chunk_while_the_last_is_written(tmp_path):
    extractor = CountingExtractor()
    calls = []

    def write(chunk, values):
        if not calls:  # the first chunk's commit waits for the network to go on
            calls.append(("overlapped", extractor.second_chunk.wait(timeout=30)))
        calls.append(("write", threading.current_thread().name, [r.id for r in chunk]))

    def fail(failures):
        calls.append(("fail", threading.current_thread().name, [f.path for f in failures]))

    stats = PipelineStats()
    done, failed = stream_features(
        extractor, records(tmp_path, 7, bad=[3]), write, fail, chunk_rows=2, stats=stats
    )
    assert (done, failed) == (6, 1)
    assert calls[0] == ("overlapped", True)
    writes = [c for c in calls[1:] if c[0] == "write"]
    assert [ids for _, _, ids in writes] == [["0", "1"], ["2"], ["4", "5"], ["6"]]
    assert {c[1] for c in calls[1:]} == {"geovec-write"}
    assert [c[0] for c in calls[1:]] == ["write", "write", "fail", "write", "write"]
    assert stats.network_s > 0 and 0 <= stats.idle_share <= 1


def test_a_writer_error_stops_the_ingest(tmp_path):
    written = []

    def write(chunk, values):
        written.append([r.id for r in chunk])
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        stream_features(CountingExtractor(), records(tmp_path, 9), write, print, chunk_rows=2)
    assert written == [["0", "1"]]  # nothing after the failed commit


def test_fast_decode_drafts_large_jpegs_only(tmp_path):
    rng = np.random.default_rng(0)
    big, small = tmp_path / "big.jpg", tmp_path / "small.jpg"
    Image.fromarray(rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8)).save(big)
    Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(small)
    Image.open(big).save(tmp_path / "big.png")
    assert load_rgb(big).shape == (768, 1024, 3)  # default: every pixel, as Caffe
    assert load_rgb(big, draft=(256, 256)).shape == (384, 512, 3)
    assert load_rgb(small, draft=(256, 256)).shape == (480, 640, 3)
    assert load_rgb(tmp_path / "big.png", draft=(256, 256)).shape == (768, 1024, 3)


def test_fast_decode_is_for_the_local_engine():
    with pytest.raises(GeovecError, match="local engine"):
        stream_into_store(
            None, "ingest", None, [], None, None, None, False, "ray", fast_decode=True
        )


def test_ingest_says_how_long_the_network_waited(tmp_path):
    import geovec
    from tests.images import simple_manifest

    manifest = simple_manifest(tmp_path, 4)
    summary = geovec.ingest(geovec.open(tmp_path / "db"), manifest, features="gist", batch_size=2)
    assert summary.ingested == 4 and 0 <= summary.network_idle <= 1
    assert f"network idle {summary.network_idle:.0%})" in summary.line()
    again = geovec.ingest(geovec.open(tmp_path / "db"), manifest, features="gist", batch_size=2)
    assert again.network_idle is None and "network idle" not in again.line()  # nothing to do
