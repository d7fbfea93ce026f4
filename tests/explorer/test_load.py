"""The explorer under load while a writer appends (issue 19, item 5): ``geovec serve`` in
its own process, 4 client threads sending a page's requests (points, web tiles at every
zoom, heatmaps, SQL) while a ``geovec ingest`` appends photos to the store: every answer
is 200 (no 5xx, no stale schema error), the new photos appear in /api/points, and the
server's peak memory does not climb with the load."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import geovec
from tests.explorer.load import Served, drive, page_requests
from tests.images import write_images, write_manifest

pytestmark = pytest.mark.slow  # a server and an ingest process start: ~30 s on 2 cores

CLIENTS = 4
LOAD_S = 5.0
GROWTH_MB = 300
"""How far the server's peak memory may rise over the loaded run, MiB."""


def new_photos(folder, store, n: int):
    """A manifest of ``n`` tiny ground images in the store's first region."""
    region, lon, lat = store.sql(
        "SELECT region, avg(lon), avg(lat) FROM ground GROUP BY region ORDER BY region LIMIT 1"
    ).fetchone()
    paths = write_images(folder / "images", n, start=7000)
    rng = np.random.default_rng(7)
    rows = [
        {"id": f"load{i}", "path": f"images/{p.name}", "view": "ground", "region": region,
         "lon": lon + rng.uniform(-0.005, 0.005), "lat": lat + rng.uniform(-0.005, 0.005)}
        for i, p in enumerate(paths)
    ]  # fmt: skip
    return write_manifest(folder / "manifest.csv", rows)


def test_the_explorer_answers_a_page_while_an_ingest_appends(world_db, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(world_db, db, ignore=shutil.ignore_patterns(".geovec-cache"))
    store = geovec.open(db)
    isolated = [
        r[0] for r in store.sql("SELECT id FROM ground WHERE isolated ORDER BY id").fetchall()
    ]
    manifest = new_photos(tmp_path / "new", store, 80)
    env = {"GEOVEC_CACHE": str(tmp_path / "cache"), "GEOVEC_WEIGHTS": str(tmp_path / "none")}
    with Served(db, env, log=tmp_path / "server.log") as server:
        status, info = server.get_json("/api/info")
        assert status == 200
        requests = page_requests(info, isolated[:4])
        warm = drive(server.port, requests, CLIENTS)  # every request once: caches filled
        assert warm.server_errors == 0, warm.failures
        warm_peak = server.peak_rss_mb()
        before = server.get_json("/api/points?limit=1")[1]["total"]
        writer = subprocess.Popen(
            [sys.executable, "-m", "geovec", "ingest", str(db), str(manifest),
             "--features", "gist", "--batch-size", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**env},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while store.count("ground") == before and writer.poll() is None:
                assert time.monotonic() < deadline, "the ingest wrote nothing"
                time.sleep(0.05)
            load = drive(server.port, requests, CLIENTS, seconds=LOAD_S)
            still_writing = writer.poll() is None
        finally:
            writer.terminate()
            writer.wait(60)
        after = server.get_json("/api/points?limit=1")[1]["total"]
        peak = server.peak_rss_mb()
    log = (tmp_path / "server.log").read_text()
    assert load.done >= 20, load
    assert set(load.statuses) == {200}, (load.statuses, load.failures, log[-2000:])
    assert "Traceback" not in log, log[-2000:]
    assert after > before, (before, after, still_writing)
    assert peak < warm_peak + GROWTH_MB, (warm_peak, peak)
