"""Approximate nearest-neighbour search against the flat (exact) scan, same table, same
run: build time, recall@10 and mean query latency for each index kind.

Generated clustered vectors (1,000 Gaussian clusters), written as an overhead table:
by default 1,000,000 x 205-d (Places205 prob/fc8 size) and 200,000 x 4,096-d (fc6/fc7).
Target: recall@10 >= 0.95 at >= 10x lower latency than the flat search at 1M.

    python bench/ann.py [--sets 1000000x205,200000x4096] [--kinds ivf_pq,ivf_hnsw_sq,ivf_flat]
                        [--queries 50] [--nprobes 20] [--refine-factor 10]
"""

from __future__ import annotations

import argparse
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


def fill(store, rows: int, dim: int) -> None:
    """``rows`` clustered vectors in chunks (one commit each), ids o0..."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, dim), dtype=np.float32) * 2
    store.ensure_features("overhead", [feature_field("f", dim)])
    schema = BASE_SCHEMAS["overhead"]
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        vec = centres[rng.integers(0, 1000, n)] + rng.standard_normal((n, dim), dtype=np.float32)
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
    parser.add_argument("--sets", default="1000000x205,200000x4096")
    parser.add_argument("--kinds", default=",".join(indexes.KINDS))
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--nprobes", type=int, default=20)
    parser.add_argument("--refine-factor", type=int, default=10)
    args = parser.parse_args()
    for spec in args.sets.split(","):
        rows, dim = (int(x) for x in spec.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            store = geovec.open(Path(tmp) / "db")
            t0 = time.perf_counter()
            fill(store, rows, dim)
            print(f"{rows:,} x {dim}-d: written in {time.perf_counter() - t0:.0f} s", flush=True)
            for kind in args.kinds.split(","):
                t0 = time.perf_counter()
                built = indexes.build_index(store, "overhead", "f", kind=kind)
                build_s = time.perf_counter() - t0
                refine = args.refine_factor if kind == "ivf_pq" else None
                r = indexes.measure_recall(
                    store,
                    "overhead",
                    "f",
                    k=10,
                    queries=args.queries,
                    nprobes=args.nprobes,
                    refine_factor=refine,
                )
                print(
                    f"  {kind:<12} build {build_s:6.0f} s  recall@10 {r.recall:.3f}  flat "
                    f"{r.exact_ms:7.1f} ms  index {r.index_ms:6.1f} ms  ratio flat/index "
                    f"{r.exact_ms / r.index_ms:5.1f}x  ({built.line()}; nprobes {args.nprobes}"
                    + (f", refine {refine})" if refine else ")"),
                    flush=True,
                )


if __name__ == "__main__":
    main()
