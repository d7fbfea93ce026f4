"""The explorer as a service: ``geovec serve`` in its own process under a bounded local
load generator (keep-alive connections, a fixed number of client threads, 127.0.0.1;
tests/explorer/load.py), each comparison like with like: both sides warm, the same
threads, the same requests.

1. /api/points over 200,000 photos (a viewport's worth per request) against the same
   GeoJSON answer as a static file sent by Python's threading http.server.
2. Web tiles, cold: the first 1280 x 800 viewport (5 x 4 tiles) at the native zoom and
   2, 4, 6 zooms coarser, each on a fresh server with an empty cache, over a store of
   about 2,000 map tiles with 256 px images; as a ratio to one cold native tile.
3. /api/heatmap (distinct photo and neighbour counts, region inputs loaded) against
   ``localize`` in-process with the region's inputs loaded, the same threads.
4. A page in use (points, web tiles at every zoom, heatmaps, SQL) for a fixed time,
   without and then with a ``geovec ingest`` appending photos: requests/s of both, no
   5xx, the new rows seen, the server's peak memory (VmHWM).

    python bench/serve.py [--points 200000] [--requests 200] [--clients 4] [--load-s 20]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
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
from bench.common import alternate, report  # noqa: E402
from geovec.store.schema import BASE_SCHEMAS, point_wkb  # noqa: E402
from tests.explorer.load import Served, drive, page_requests, viewport  # noqa: E402
from tests.images import write_images, write_manifest  # noqa: E402

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


def fill_map(store, folder: Path, side_km: float) -> int:
    """480 m map tiles over a square of ``side_km`` around CENTRE, each a 256 px PNG."""
    from PIL import Image

    from geovec.geo.grid import reference_grid

    half_lat = side_km / 2 / 111.32
    half_lon = half_lat / np.cos(np.radians(CENTRE[1]))
    grid = reference_grid(
        (CENTRE[0] - half_lon, CENTRE[1] - half_lat, CENTRE[0] + half_lon, CENTRE[1] + half_lat)
    )
    n = len(grid.ids)
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        path = folder / f"m{i:05d}.png"
        base = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(base).resize((256, 256), Image.Resampling.BILINEAR).save(path)
        paths.append(str(path))
    lon, lat = np.asarray(grid.lon), np.asarray(grid.lat)
    columns = {f.name: pa.nulls(n, f.type) for f in BASE_SCHEMAS["map"]}
    columns.update(
        id=pa.array(list(grid.ids)),
        region=pa.array(["bench"] * n),
        path=pa.array(paths),
        lon=pa.array(lon),
        lat=pa.array(lat),
        geom=pa.array(point_wkb(lon, lat), pa.binary()),
        size_m=pa.array(np.full(n, 480.0)),
    )
    store.append("map", pa.table(columns))
    return n


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn

    def log_message(self, *args) -> None:
        pass


def static_server(folder: Path):
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def viewports(count: int) -> list:
    rng = np.random.default_rng(1)
    side = SPAN_DEG / 8
    out = []
    for _ in range(count):
        w = CENTRE[0] - SPAN_DEG / 2 + rng.uniform(0, SPAN_DEG - side)
        s = CENTRE[1] - SPAN_DEG / 2 + rng.uniform(0, SPAN_DEG - side)
        box = f"{w:.5f},{s:.5f},{w + side:.5f},{s + side:.5f}"
        out.append(("GET", f"/api/points?bbox={box}&limit=50000", None))
    return out


def checked(load, what: str):
    if load.failures:
        raise SystemExit(f"{what}: {load.statuses}: {load.failures[:3]}")
    return load


def bench_points(tmp: Path, args) -> None:
    """/api/points, a distinct viewport per request (its page set built by the first
    request, timed), against the bytes of one such answer as a static file from Python's
    threading http.server; both warm (20 requests), the same clients and keep-alive
    connections, no compression on either side; then each in turn for 5 rounds: the best
    rate of each and the median of the rounds' ratios (each round's pair saw the same
    load)."""
    import http.client
    import statistics

    rounds = 5
    store = geovec.open(tmp / "points")
    fill_points(store, args.points)
    targets = viewports(args.requests)
    (tmp / "static").mkdir()
    with Served(store.path, {"GEOVEC_CACHE": str(tmp / "cache")}) as server:
        t0 = time.perf_counter()
        server.get_json("/api/points?limit=1")  # waits for the page set serve builds at start
        build_s = time.perf_counter() - t0
        con = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        con.request("GET", targets[0][1])
        (tmp / "static" / "points.geojson").write_bytes(con.getresponse().read())
        peer_server = static_server(tmp / "static")
        peer_port = peer_server.server_address[1]
        files = [("GET", "/points.geojson", None)] * args.requests
        drive(server.port, targets[:20], args.clients)
        drive(peer_port, files[:20], args.clients)
        ours = peer = None
        ratios = []
        for _ in range(rounds):
            mine = checked(drive(server.port, targets, args.clients), "points")
            theirs = checked(drive(peer_port, files, args.clients), "static")
            ours = mine if ours is None or mine.rate > ours.rate else ours
            peer = theirs if peer is None or theirs.rate > peer.rate else peer
            ratios.append(mine.rate / theirs.rate)
        peer_server.shutdown()
    size = (tmp / "static" / "points.geojson").stat().st_size
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"points: {args.points:,} photos, {args.requests} distinct viewports of ~{size / 1e3:,.0f} "
        f"kB, {args.clients} clients, best of {rounds} rounds in turn; {os.cpu_count()} "
        f"cores, load average {load}"
    )
    print(f"  first answer {build_s:.1f} s after the server was up (the page set built at start)")
    print(f"  geovec /api/points   {ours.rate:8.1f} req/s  p95 {ours.p95_ms:7.1f} ms")
    print(f"  static GeoJSON file  {peer.rate:8.1f} req/s  p95 {peer.p95_ms:7.1f} ms")
    print(
        f"  ratio (geovec / static file): best rates {ours.rate / peer.rate:.2f}, median of the "
        f"rounds {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
    )


def bench_tiles(tmp: Path, args) -> None:
    store = geovec.open(tmp / "maps")
    n = fill_map(store, tmp / "map_images", args.map_km)
    with Served(store.path, {"GEOVEC_CACHE": str(tmp / "tile_cache0")}) as server:
        _, info = server.get_json("/api/info")
    native = info["basemap_zoom"]

    def cold(name: str, requests: list, clients: int):
        cache = tmp / f"tile_cache_{name}"
        with Served(store.path, {"GEOVEC_CACHE": str(cache)}) as server:
            server.get_json("/api/info")  # the map table read, as the page's first request
            first = checked(drive(server.port, requests, clients), name)
            again = checked(drive(server.port, requests, clients), name)
            rss = server.peak_rss_mb()
        return first.seconds, again.seconds, rss

    one = viewport(native, *CENTRE, 1, 1)
    single, single_warm, _ = cold("single", one, 1)
    print(f"web tiles, cold: {n:,} map tiles (256 px PNG), native zoom {native}")
    print(f"  one native tile        {single:6.2f} s cold, {single_warm * 1000:6.1f} ms cached")
    for z in (native, native - 2, native - 4, native - 6):
        requests = viewport(z, *CENTRE)
        first, again, rss = cold(f"z{z}", requests, args.clients)
        print(
            f"  5x4 viewport at z{z:<2}  {first:6.2f} s cold ({first / single:5.1f} native tiles),"
            f" {again * 1000:6.1f} ms cached; server peak {rss:5.0f} MiB"
        )


def world_store(tmp: Path):
    world = geovec.synth(tmp / "world", seed=3, ground=60, extent_km=4)
    store = geovec.open(tmp / "world_db")
    geovec.ingest(store, world.manifest, features=["gist"], batch_size=32)
    geovec.isolate(store)
    return store


def bench_heatmap(tmp: Path, store, args) -> None:
    """/api/heatmap against ``localize`` in-process: the same distinct (photo, neighbours)
    keys in each round for both (so no answer comes from the server's cache), the same
    threads (``--clients``), the region's inputs loaded on both sides, one warm-up batch
    each, then server and library in turn for ``--rounds``, the best kept."""
    from geovec.explorer.heatmap_cache import HeatmapCache

    region = store.sql("select region from ground where isolated order by id").fetchone()[0]
    query = "select id from ground where isolated and region = $r order by id"
    ids = [r[0] for r in store.sql(query, params={"r": region}).fetchall()]
    warm_n, n = 8, args.requests
    total = warm_n + n * args.rounds
    keys = [(ident, k) for k in range(5, 5 + total) for ident in ids][:total]
    batches = [keys[:warm_n]] + [
        keys[warm_n + i * n : warm_n + (i + 1) * n] for i in range(args.rounds)
    ]
    data = HeatmapCache(store).region_data("gist", region)  # loaded, as on the server

    def call(key):
        return geovec.localize(store, "gist", id=key[0], neighbors=key[1], data=data)

    with (
        Served(store.path, {"GEOVEC_CACHE": str(tmp / "heat_cache")}) as server,
        ThreadPoolExecutor(args.clients) as pool,
    ):
        server_batches, library_batches, loads = iter(batches), iter(batches), []

        def ours() -> None:
            targets = [
                ("GET", f"/api/heatmap?id={i}&feature=gist&neighbors={k}", None)
                for i, k in next(server_batches)
            ]
            loads.append(checked(drive(server.port, targets, args.clients), "heatmap"))

        def library() -> None:
            list(pool.map(call, next(library_batches)))

        seconds = alternate({"server": ours, "library": library}, rounds=args.rounds, warm=1)
    print(
        f"heatmap: {len(data.tile_ids)} tiles in region {region}, {n} distinct (photo, "
        f"neighbours) a round, warm-up {warm_n}, best of {args.rounds} in turn; p95 of the "
        f"server's last round {loads[-1].p95_ms:.1f} ms"
    )
    report(
        "heatmaps (server overhead)",
        "req/s",
        ("geovec /api/heatmap", n / seconds["server"], args.clients),
        ("localize in-process", n / seconds["library"], args.clients),
    )


def ingest_manifest(tmp: Path, store, n: int) -> Path:
    """``n`` tiny ground images inside the store's first region, not yet ingested."""
    region, lon, lat = store.sql(
        "select region, avg(lon), avg(lat) from ground group by region order by region limit 1"
    ).fetchone()
    paths = write_images(tmp / "new" / "images", n, start=5000)
    rng = np.random.default_rng(5)
    rows = [
        {
            "id": f"new{i}",
            "path": f"images/{p.name}",
            "view": "ground",
            "lon": lon + rng.uniform(-0.01, 0.01),
            "lat": lat + rng.uniform(-0.01, 0.01),
            "region": region,
        }
        for i, p in enumerate(paths)
    ]
    return write_manifest(tmp / "new" / "manifest.csv", rows)


def bench_load(tmp: Path, store, args) -> None:
    import subprocess

    ids = [r[0] for r in store.sql("select id from ground where isolated order by id").fetchall()]
    manifest = ingest_manifest(tmp, store, args.ingest)
    with Served(store.path, {"GEOVEC_CACHE": str(tmp / "load_cache")}) as server:
        _, info = server.get_json("/api/info")
        requests = page_requests(info, ids[:6])
        drive(server.port, requests, args.clients)  # warm: every request once
        quiet = drive(server.port, requests, args.clients, seconds=args.load_s)
        before = server.get_json("/api/points?limit=1")[1]["total"]
        cmd = [sys.executable, "-m", "geovec", "ingest", str(store.path), str(manifest)]
        writer = subprocess.Popen(
            [*cmd, "--features", "gist", "--batch-size", "4"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while geovec.open(store.path).count("ground") == before and writer.poll() is None:
                time.sleep(0.05)
            busy = drive(server.port, requests, args.clients, seconds=args.load_s)
            writing = writer.poll() is None
            after = server.get_json("/api/points?limit=1")[1]["total"]
        finally:
            writer.terminate()
            writer.wait(60)
        rss = server.peak_rss_mb()
    schema = [f for f in quiet.failures + busy.failures if "schema" in f.lower()]
    print(
        f"a page in use: {len(requests)} requests (points, tiles z{info['basemap_zoom'] - 6}"
        f"-z{info['basemap_zoom'] + 6}, heatmaps, SQL), {args.clients} clients, "
        f"{args.load_s:g} s each, {os.cpu_count()} cores"
    )
    for name, load in (("no writer", quiet), ("geovec ingest appending", busy)):
        print(
            f"  {name:<23} {load.rate:8.1f} req/s  p95 {load.p95_ms:7.1f} ms  "
            f"statuses {dict(load.statuses)}"
        )
    print(f"  ratio (with writer / without): {busy.rate / quiet.rate:.2f}")
    print(
        f"  5xx: {quiet.server_errors + busy.server_errors}, schema errors: {len(schema)}, "
        f"photos {before} -> {after} while it ran (ingest still writing at the end: {writing}); "
        f"server peak RSS {rss:.0f} MiB"
    )
    for failure in (quiet.failures + busy.failures)[:5]:
        print("   ", failure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="heatmap rounds of each side")
    parser.add_argument("--map-km", type=float, default=22.0, help="side of the map tiles' square")
    parser.add_argument("--load-s", type=float, default=20.0, help="seconds of each page load run")
    parser.add_argument("--ingest", type=int, default=400, help="photos the writer appends")
    parser.add_argument("--only", default="points,tiles,heatmap,load")
    args = parser.parse_args()
    os.environ.setdefault("GEOVEC_WEIGHTS", tempfile.mkdtemp())  # GIST only
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "points" in only:
            bench_points(tmp, args)
        if "tiles" in only:
            bench_tiles(tmp, args)
        if only & {"heatmap", "load"}:
            store = world_store(tmp)
            if "heatmap" in only:
                bench_heatmap(tmp, store, args)
            if "load" in only:
                bench_load(tmp, store, args)


if __name__ == "__main__":
    main()
