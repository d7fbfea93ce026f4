"""Approximate nearest-neighbour search against the flat (exact) scan, same table, same
run, each query answered by both in turn: build time, recall@10 and mean query latency
of each index kind with geovec's defaults (``geovec index`` then ``search``: the default
refine factor and nprobes), and what ``search`` does by default at that size.

Vectors like GIST's of ground photos (512 values, non-negative, most of their energy in a
few dozen directions: a low-rank mix of 60 clustered factors plus noise), written as an
overhead table; by default 6,972 rows, the issue's store. Target: recall@10 >= 0.95 with
the defaults.

    python bench/ann.py [--sets 6972x512,30000x512] [--kinds ivf_pq] [--queries 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geovec  # noqa: E402
from geovec.store import indexes  # noqa: E402
from geovec.store.schema import BASE_SCHEMAS, feature_field, point_wkb, vectors_to_arrow  # noqa: E402

CHUNK = 100_000
RANK = 32
"""Directions holding most of a vector's energy."""


def gist_like(rng, n: int, dim: int, mix: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``n`` non-negative vectors: clustered factors through a non-negative mix, noise."""
    factors = 0.7 * centres[rng.integers(0, len(centres), n)]
    factors += rng.standard_normal((n, RANK), dtype=np.float32)
    noise = 0.3 * rng.standard_normal((n, dim), dtype=np.float32)
    return (0.05 * np.abs(factors @ mix + noise)).astype(np.float32)


def fill(store, rows: int, dim: int) -> None:
    """``rows`` GIST-like vectors in chunks (one commit each), ids o0..."""
    rng = np.random.default_rng(0)
    mix = np.abs(rng.standard_normal((RANK, dim), dtype=np.float32)) / np.sqrt(RANK)
    centres = rng.standard_normal((60, RANK), dtype=np.float32)
    store.ensure_features("overhead", [feature_field("f", dim)])
    schema = BASE_SCHEMAS["overhead"]
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        vec = gist_like(rng, n, dim, mix, centres)
        lon, lat = rng.uniform(-10, 10, n), rng.uniform(-10, 10, n)
        columns = {f.name: pa.nulls(n, f.type) for f in schema}
        columns.update(
            id=pa.array([f"o{i}" for i in range(start, start + n)]),
            lon=pa.array(lon),
            lat=pa.array(lat),
            geom=pa.array(point_wkb(lon, lat), pa.binary()),
            f=vectors_to_arrow(vec),
        )
        store.append("overhead", pa.table(columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="6972x512")
    parser.add_argument("--kinds", default="ivf_pq", help="the default kind first")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    for spec in args.sets.split(","):
        rows, dim = (int(x) for x in spec.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            store = geovec.open(Path(tmp) / "db")
            t0 = time.perf_counter()
            fill(store, rows, dim)
            path = "through the index" if indexes.uses_index(rows, dim) else "exact (flat scan)"
            print(
                f"{rows:,} x {dim}-d GIST-like: written in {time.perf_counter() - t0:.0f} s; "
                f"search's default at this size: {path}; {os.cpu_count()} cores",
                flush=True,
            )
            for kind in args.kinds.split(","):
                t0 = time.perf_counter()
                built = indexes.build_index(store, "overhead", "f", kind=kind)
                build_s = time.perf_counter() - t0
                r = indexes.measure_recall(store, "overhead", "f", k=10, queries=args.queries)
                load = " ".join(f"{v:.1f}" for v in os.getloadavg())
                print(
                    f"  {kind:<12} build {build_s:5.0f} s  recall@10 {r.recall:.3f} (nprobes "
                    f"{r.nprobes}, refine {r.refine_factor})  exact {r.exact_ms:6.1f} ms  index "
                    f"{r.index_ms:6.1f} ms  ratio exact/index {r.exact_ms / r.index_ms:4.1f}x  "
                    f"({built.line()}; load {load})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
