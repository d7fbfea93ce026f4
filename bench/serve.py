"""The explorer's API under load: requests/s and p95 latency of /api/points (200,000
photos, a viewport's worth per request) and /api/heatmap, from a bounded local load
generator (keep-alive connections, a fixed number of client threads) on 127.0.0.1.

Peers, in the same run: for points, the same GeoJSON answer written to a file once and
sent by Python's threading http.server (what exporting a layer and serving it costs, with
no query at all); for the heatmap, the library call itself in-process (``localize``; no
HTTP, no JSON, no footprints). Ratios are geovec / peer.

    python bench/serve.py [--points 200000] [--requests 200] [--clients 4]
"""

from __future__ import annotations

import argparse
import functools
import http.client
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geovec  # noqa: E402
from geovec.store.schema import BASE_SCHEMAS, point_wkb  # noqa: E402
from tests.explorer.conftest import free_port  # noqa: E402

CENTRE = (-79.94, 32.78)
SPAN_DEG = 0.4  # the photos' square; a viewport is an eighth of it on a side


def fill_points(store, n: int) -> None:
    rng = np.random.default_rng(0)
    lon = CENTRE[0] + rng.uniform(-SPAN_DEG / 2, SPAN_DEG / 2, n)
    lat = CENTRE[1] + rng.uniform(-SPAN_DEG / 2, SPAN_DEG / 2, n)
    columns = {f.name: pa.nulls(n, f.type) for f in BASE_SCHEMAS["ground"]}
    columns.update(
        id=pa.array([f"g{i:07d}" for i in range(n)]),
        region=pa.array(["bench"] * n),
        lon=pa.array(lon),
        lat=pa.array(lat),
        geom=pa.array(point_wkb(lon, lat), pa.binary()),
        split=pa.array(np.where(rng.random(n) < 0.9, "train", "test")),
        isolated=pa.array(rng.random(n) < 0.05),
        source=pa.array(["bench"] * n),
    )
    store.append("ground", pa.table(columns))


def load(port: int, targets: list[str], clients: int) -> tuple[float, float]:
    """Requests/s and p95 latency (ms) of GETs of ``targets`` by ``clients`` threads."""
    local = threading.local()

    def one(target):
        if not hasattr(local, "con"):
            local.con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        t0 = time.perf_counter()
        local.con.request("GET", target)
        response = local.con.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body[:200])
        return time.perf_counter() - t0

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, targets))
    elapsed = time.perf_counter() - start
    return len(targets) / elapsed, statistics.quantiles(latencies, n=20)[18] * 1000


class Served:
    """``geovec serve DB`` in its own process (the load generator must not share its GIL)."""

    def __init__(self, db: Path):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "geovec", "serve", str(db), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
        )

    def __enter__(self):
        for _ in range(600):
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=2).request("GET", "/")
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("geovec serve did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(30)


def static_server(folder: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    http.server.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def viewports(count: int) -> list[str]:
    rng = np.random.default_rng(1)
    side = SPAN_DEG / 8
    out = []
    for _ in range(count):
        w = CENTRE[0] - SPAN_DEG / 2 + rng.uniform(0, SPAN_DEG - side)
        s = CENTRE[1] - SPAN_DEG / 2 + rng.uniform(0, SPAN_DEG - side)
        out.append(f"/api/points?bbox={w:.5f},{s:.5f},{w + side:.5f},{s + side:.5f}&limit=50000")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("GEOVEC_WEIGHTS", tempfile.mkdtemp())  # GIST only
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = geovec.open(tmp / "points")
        fill_points(store, args.points)
        targets = viewports(args.requests)
        with Served(store.path) as server:
            load(server.port, targets[:5], 1)  # warm: extensions, caches
            rate, p95 = load(server.port, targets, args.clients)
            con = http.client.HTTPConnection("127.0.0.1", server.port)
            con.request("GET", targets[0])
            answer = con.getresponse().read()
        per = len(json.loads(answer)["features"])
        (tmp / "static").mkdir()
        (tmp / "static" / "points.geojson").write_bytes(answer)
        peer = static_server(tmp / "static")
        peer_rate, peer_p95 = load(
            peer.server_address[1], ["/points.geojson"] * args.requests, args.clients
        )
        peer.shutdown()
        print(f"points: {args.points:,} photos, ~{per:,} per viewport, {args.clients} clients")
        print(f"  geovec /api/points   {rate:8.1f} req/s  p95 {p95:7.1f} ms")
        print(f"  static GeoJSON file  {peer_rate:8.1f} req/s  p95 {peer_p95:7.1f} ms")
        print(f"  ratio (geovec / static file): {rate / peer_rate:.2f}")

        world = geovec.synth(tmp / "world", seed=3, ground=40, extent_km=4)
        small = geovec.open(tmp / "world_db")
        geovec.ingest(small, world.manifest, features=["gist"], batch_size=32)
        geovec.isolate(small)
        ids = small.sql("select id from ground where isolated order by id").fetchall()
        ids = [r[0] for r in ids]
        heat_targets = [f"/api/heatmap?id={ids[i % len(ids)]}" for i in range(args.requests // 4)]
        with Served(small.path) as server:
            load(server.port, heat_targets[:3], 1)
            heat_rate, heat_p95 = load(server.port, heat_targets, args.clients)
        t0 = time.perf_counter()
        for target in heat_targets:
            geovec.localize(small, "gist", id=target.split("=", 1)[1])
        lib_rate = len(heat_targets) / (time.perf_counter() - t0)
        tiles = small.count("map")
        print(f"heatmap: {tiles} tiles per region, {len(ids)} isolated photos")
        print(f"  geovec /api/heatmap  {heat_rate:8.1f} req/s  p95 {heat_p95:7.1f} ms")
        print(f"  localize in-process  {lib_rate:8.1f} calls/s (one thread)")
        print(f"  ratio (server / library): {heat_rate / lib_rate:.2f}")


if __name__ == "__main__":
    main()
