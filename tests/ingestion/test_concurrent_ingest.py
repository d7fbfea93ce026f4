"""Many writers and readers of one store at once, as separate processes (issue 18, item
3): two ``geovec ingest`` runs of one manifest; ``isolate`` and ``embed`` while an ingest
appends; ``evaluate``, SQL and the explorer answering while an ingest appends; a SIGKILL
in the middle of two ingests, then a resume. GIST only (no weights), tiny images."""

from __future__ import annotations

import collections
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import geovec
from geovec.features.decode import load_rgb
from geovec.features.gist import gist
from tests.images import write_images, write_manifest
from tests.stores import add_rows

pytestmark = pytest.mark.slow


def _manifest(folder: Path, ids: range, name: str = "manifest.csv", lon0: float = 0.05) -> Path:
    """Ground images g<i> (noise of seed i), 50 m apart along a line east of ``lon0``."""
    paths = write_images(folder / "images", len(ids), start=ids.start)
    rows = [
        {
            "id": f"g{i}",
            "path": f"images/{p.name}",
            "view": "ground",
            "lon": lon0 + i * 4.5e-4,
            "lat": 0.0,
            "region": "r",
        }
        for i, p in zip(ids, paths)
    ]
    return write_manifest(folder / name, rows)


def _ingest(db: Path, manifest: Path, batch_size: int = 2) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "geovec", "ingest", str(db), str(manifest)]
    cmd += ["--features", "gist", "--batch-size", str(batch_size)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out
    return out


def _ingested(output: str) -> int:
    return int(re.search(r"ingested (\d+)", output).group(1))


def _stored_once(db: Path, view: str = "ground") -> list[str]:
    ids = geovec.open(db).read(view, ["id"]).column("id").to_pylist()
    twice = [i for i, n in collections.Counter(ids).items() if n > 1]
    assert not twice, f"{len(ids) - len(set(ids))} rows stored twice, e.g. {sorted(twice)[:3]}"
    return ids


def _wait_for_rows(db: Path, procs, at_least: int = 1, timeout_s: float = 240) -> int:
    """Rows of ground once there are ``at_least`` (or a process ended, or time is up)."""
    store = geovec.open(db)
    deadline = time.time() + timeout_s
    while time.time() < deadline and all(p.poll() is None for p in procs):
        count = store.count("ground")
        if count >= at_least:
            return count
        time.sleep(0.02)
    return store.count("ground")


def test_two_ingests_of_one_manifest_store_each_image_once(tmp_path):
    """Both runs finish; every image is stored once, and what they say they ingested adds
    up to it (one run's chunk that the other stored first counts as skipped)."""
    manifest = _manifest(tmp_path, range(40))
    db = tmp_path / "db"
    outputs = [_finish(p) for p in [_ingest(db, manifest), _ingest(db, manifest)]]
    ids = _stored_once(db)
    assert sorted(ids) == sorted(f"g{i}" for i in range(40))
    assert sum(_ingested(o) for o in outputs) == 40, outputs
    _, vectors = geovec.open(db).vectors("ground", "gist")
    assert vectors.shape == (40, 512)


def test_sigkill_in_the_middle_of_two_ingests_then_resume(tmp_path):
    """Two ingests of one manifest, one in its order and one in reverse, are both killed
    while they write; both run again at once and finish: every image is stored once,
    with the features of its own file."""
    forward = _manifest(tmp_path, range(48))
    rows = forward.read_text().splitlines()
    backward = tmp_path / "backward.csv"
    backward.write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n")
    db = tmp_path / "db"
    procs = [_ingest(db, forward), _ingest(db, backward)]
    killed_at = _wait_for_rows(db, procs, at_least=12)
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        proc.communicate()
    assert [p.returncode for p in procs] == [-signal.SIGKILL] * 2, "an ingest ended first"
    assert 0 < killed_at < 48, f"killed at {killed_at} rows"
    for out in [_finish(p) for p in [_ingest(db, forward), _ingest(db, backward)]]:
        assert _ingested(out) < 48, out
    ids, vectors = geovec.open(db).vectors("ground", "gist")
    assert len(_stored_once(db)) == 48 and sorted(ids) == sorted(f"g{i}" for i in range(48))
    for i in (0, 23, 47):
        want = gist(load_rgb(tmp_path / "images" / f"img{i:04d}.png"))
        np.testing.assert_allclose(vectors[ids.index(f"g{i}")], want, rtol=1e-4, atol=1e-6)


def _located_store(db: Path, rng, split: bool = True) -> None:
    """3 x 3 map tiles of 480 m on the equator, an isolated query at each tile centre,
    four clusters of three training photos (with their overhead images) between them;
    random 512-value GIST vectors, as ingest would make them. ``split``: the dataset's
    split and isolation flags set (else none: isolate writes both)."""
    step = 480 / 111_320  # degrees of longitude (and latitude) per 480 m at the equator
    tiles = [
        {"id": f"m{i}{j}", "region": "r", "lon": i * step, "lat": j * step, "size_m": 480.0}
        for i in (-1, 0, 1)
        for j in (-1, 0, 1)
    ]
    queries = [
        {**t, "id": f"q{t['id']}", "isolated": True, "split": "test", "size_m": None} for t in tiles
    ]
    train = [
        {"id": f"t{c}{k}", "region": "r", "lon": x + 2e-4 * k, "lat": y, "isolated": False}
        for c, (x, y) in enumerate([(-1, -1), (-1, 1), (1, -1), (1, 1)] * np.array(step / 2))
        for k in range(3)
    ]
    for row in train:
        row.update(split="train", pair=row["id"])
    if not split:
        for row in queries + train:
            row.update(split=None, isolated=None)
    store = geovec.open(db)
    add_rows(store, "map", tiles, {"gist": rng.normal(size=(len(tiles), 512))})
    ground = queries + train
    add_rows(store, "ground", ground, {"gist": rng.normal(size=(len(ground), 512))})
    overhead = [{k: r[k] for k in ("id", "region", "lon", "lat")} for r in train]
    add_rows(store, "overhead", overhead, {"gist": rng.normal(size=(len(overhead), 512))})


def test_isolate_and_embed_while_an_ingest_appends(tmp_path):
    """While another process appends: a thread isolates again and again (a column of
    every row, the split column's metadata), and this one embeds with a new head each
    round (a new column, then an embedding of every row). The ingest finishes, and no
    row, flag, column or embedding of any of them is lost."""
    from geovec.heads.embedding import embed
    from geovec.heads.file import new_head

    db = tmp_path / "db"
    _located_store(db, np.random.default_rng(0), split=False)
    store = geovec.open(db)
    proc = _ingest(db, _manifest(tmp_path, range(40)))
    embedded: dict[str, int] = {}
    isolated = []
    stop = threading.Event()

    def isolate_in_a_loop():
        other = geovec.open(db)
        while not stop.is_set() or not isolated:
            isolated.append(geovec.isolate(other).total)

    thread = threading.Thread(target=isolate_in_a_loop)
    thread.start()
    try:
        while proc.poll() is None or len(embedded) < 2:
            name = f"h{len(embedded)}"
            head = new_head(name, ("gist", "gist"), (512, 512), hidden=8, dim=4, seed=0)
            embedded[name] = embed(store, head).rows["ground"]
    finally:
        stop.set()
        thread.join()
    _finish(proc)
    columns = ["id", "isolated", *(f"{name}_ground" for name in embedded)]
    rows = store.read("ground", columns).to_pylist()
    assert len(_stored_once(db)) == len(rows) == 21 + 40
    assert sum(r["isolated"] is not None for r in rows) == isolated[-1]
    for name, count in embedded.items():
        assert sum(r[f"{name}_ground"] is not None for r in rows) == count, name
    assert store.count("overhead") == 12 and store.count("map") == 9
    assert store.field_metadata("ground", "split")  # isolate's note that it wrote the split


def test_evaluate_sql_and_the_explorer_answer_while_an_ingest_appends(tmp_path):
    """While another process appends ground images: evaluate, the sealed SQL of ``geovec
    sql`` and the explorer's API (its requests at once, as a page load sends them, the
    first ones on a store that has made no view yet) answer every time, the same
    evaluation each time (the new rows are not isolated yet), and each SQL answer reads
    one version of ground."""
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app

    db = tmp_path / "db"
    _located_store(db, np.random.default_rng(1))
    store = geovec.open(db)
    first = geovec.evaluate(store, "gist").ranks.to_pylist()
    assert len(first) == 9
    proc = _ingest(db, _manifest(tmp_path, range(40)))
    requests = [
        ("GET", "/api/info", None),
        ("GET", "/api/points?limit=1000", None),
        ("GET", "/api/tile?lon=0&lat=0", None),
        ("POST", "/api/sql", {"query": "SELECT id FROM ground ORDER BY id"}),
    ] * 2
    counts = []
    with ThreadPoolExecutor(len(requests)) as pool:
        while proc.poll() is None or len(counts) < 2:
            with TestClient(create_app(db)) as client:  # a fresh server, a page load
                barrier = threading.Barrier(len(requests))

                def send(request, client=client, barrier=barrier):
                    barrier.wait()
                    return client.request(request[0], request[1], json=request[2])

                for response in pool.map(send, requests):
                    assert response.status_code == 200, response.text
            assert geovec.evaluate(store, "gist").ranks.to_pylist() == first
            a, b, c = store.sql(
                "SELECT (SELECT count(*) FROM ground), count(*), count(DISTINCT g.id) "
                "FROM ground g JOIN ground h USING (id)",
                sealed=True,
            ).fetchone()
            assert a == b == c >= 21
            counts.append(a)
    _finish(proc)
    assert len(_stored_once(db)) == 21 + 40
    assert counts == sorted(counts)
    assert geovec.evaluate(store, "gist").ranks.to_pylist() == first
