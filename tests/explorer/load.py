"""A bounded load generator for the explorer (tests/explorer/test_load.py and
bench/serve.py): ``geovec serve`` in its own process, a fixed number of client threads
on keep-alive connections, the mixed requests of a page in use (points, web tiles at
every zoom, heatmaps, SQL), and the server's peak memory from /proc."""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mercantile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``geovec serve DB`` in its own process (the clients must not share its GIL), with
    ``env`` added to its environment (GEOVEC_CACHE, say)."""

    def __init__(self, db: Path, env: dict | None = None, log: Path | None = None):
        self.port = free_port()
        self.log = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "geovec", "serve", str(db), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            env={**os.environ, **(env or {})},
        )

    def __enter__(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"geovec serve exited ({self.process.returncode})")
            try:
                con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                con.request("GET", "/api/info")
                con.getresponse().read()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("geovec serve did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(30)
        if self.log is not subprocess.DEVNULL:
            self.log.close()

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM), MiB."""
        return peak_rss_mb(self.process.pid)

    def get_json(self, target: str, body: dict | None = None):
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        if body is None:
            con.request("GET", target)
        else:
            con.request("POST", target, json.dumps(body), {"Content-Type": "application/json"})
        response = con.getresponse()
        return response.status, json.loads(response.read())


def peak_rss_mb(pid: int) -> float:
    """VmHWM of process ``pid`` (Linux), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


Request = tuple[str, str, dict | None]
"""(method, target, JSON body or None)."""


@dataclasses.dataclass
class Load:
    """What a run of :func:`drive` saw: requests done, seconds, statuses, latencies (s),
    and the first few answers that were not 200."""

    done: int
    seconds: float
    statuses: Counter
    latencies: list[float]
    failures: list[str]

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    @property
    def p95_ms(self) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=20)[18] * 1000

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def drive(
    port: int,
    requests: list[Request],
    clients: int,
    seconds: float | None = None,
    rounds: int = 1,
) -> Load:
    """Send ``requests`` in turn from ``clients`` threads, each on its own keep-alive
    connection: for ``seconds`` when given, else ``rounds`` times over the list."""
    local = threading.local()
    lock = threading.Lock()
    statuses: Counter = Counter()
    latencies: list[float] = []
    failures: list[str] = []
    deadline = None if seconds is None else time.monotonic() + seconds
    total = len(requests) * rounds

    def send(method, target, body):
        if not hasattr(local, "con"):
            local.con = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body) if body is not None else None
        try:
            local.con.request(method, target, data, headers)
            response = local.con.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            local.con.close()
            del local.con
            raise

    counter = itertools.count()

    def client(_) -> int:
        done = 0
        while deadline is None or time.monotonic() < deadline:
            with lock:
                i = next(counter)
            if deadline is None and i >= total:
                break
            method, target, body = requests[i % len(requests)]
            t0 = time.perf_counter()
            status, answer = send(method, target, body)
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] += 1
                latencies.append(elapsed)
                if status != 200 and len(failures) < 10:
                    failures.append(f"{status} {method} {target}: {answer[:200]!r}")
            done += 1
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - start
    return Load(done, elapsed, statuses, latencies, failures)


def viewport(z: int, lon: float, lat: float, columns: int = 5, rows: int = 4) -> list[Request]:
    """The web tiles of a 1280 x 800 window (5 x 4 tiles) centred on lon/lat at zoom z."""
    centre = mercantile.tile(lon, lat, z)
    n = 2**z
    out = []
    for dy in range(-(rows // 2), rows - rows // 2):
        for dx in range(-(columns // 2), columns - columns // 2):
            x, y = (centre.x + dx) % n, min(max(centre.y + dy, 0), n - 1)
            out.append(("GET", f"/api/tiles/{z}/{x}/{y}.png", None))
    return out


def page_requests(info: dict, isolated: list[str], feature: str = "gist") -> list[Request]:
    """A page in use over a store with /api/info ``info``: points of the whole area and
    of a corner, web tiles at every zoom from native - 6 to native + 6 around the centre,
    heatmaps of ``isolated`` photos, SQL questions; interleaved."""
    w, s, e, n = info["bounds"]
    lon, lat = (w + e) / 2, (s + n) / 2
    native = info["basemap_zoom"]
    points = [
        ("GET", "/api/points?limit=1000", None),
        ("GET", f"/api/points?bbox={w},{s},{lon},{lat}&limit=5000", None),
    ]
    tiles = [r for z in range(max(0, native - 6), native + 7) for r in viewport(z, lon, lat, 2, 2)]
    heatmaps = [
        ("GET", f"/api/heatmap?id={ident}&feature={feature}&neighbors={k}", None)
        for ident in isolated
        for k in (10, 30)
    ]
    sql = [
        ("POST", "/api/sql", {"query": "SELECT count(*) AS n FROM ground"}),
        ("POST", "/api/sql", {"query": "SELECT region, count(*) AS n FROM ground GROUP BY 1"}),
        ("POST", "/api/sql", {"query": "SELECT id, lon, lat FROM map ORDER BY id LIMIT 50"}),
    ]
    groups = [points, tiles, heatmaps, sql]
    out: list[Request] = []
    for i in range(max(len(g) for g in groups)):
        out += [g[i % len(g)] for g in groups]
    return out
