"""Pair evaluation at CVUSA scale: geovec's blocked JAX ranking (the pairs protocol)
against the community's way (the full queries x aerials similarity matrix, built in
chunks of 1,000 queries, then each query's true score compared with its row), same data,
same run. Each runs in its own process so its peak memory (max RSS) is its own.

8,884 queries x 8,884 aerials x 4,096-d (fc6/fc7 size) random float32 features; query i's
true aerial is aerial i (pairs), Euclidean distance.

    python bench/pairs.py [--queries 8884] [--dim 4096]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def data(args):
    import numpy as np

    from geovec.analyses.knn import aligned_empty

    rng = np.random.default_rng(0)
    aerial = rng.standard_normal(dtype=np.float32, out=aligned_empty((args.queries, args.dim)))
    ground = aligned_empty((args.queries, args.dim))
    ground[:] = aerial + rng.standard_normal((args.queries, args.dim), np.float32) * 30.0
    return ground, aerial


def run_geovec(args):
    import numpy as np

    from geovec.analyses.knn import tile_ranks

    ground, aerial = data(args)
    t0 = time.perf_counter()
    ranks = tile_ranks(ground, aerial, np.arange(len(ground)))
    return time.perf_counter() - t0, ranks


def run_community(args):
    import numpy as np

    ground, aerial = data(args)
    t0 = time.perf_counter()
    sq = (aerial * aerial).sum(1)
    rows = []
    for start in range(0, len(ground), 1000):  # as Sample4Geo: chunks, then the full matrix
        q = ground[start : start + 1000]
        rows.append(sq[None, :] - 2 * q @ aerial.T)
    scores = np.concatenate(rows)
    true = scores[np.arange(len(ground)), np.arange(len(ground))]
    ranks = (scores < true[:, None]).sum(1)
    return time.perf_counter() - t0, ranks


def child(name, args):
    seconds, ranks = {"geovec": run_geovec, "community": run_community}[name](args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB
    r1 = float((ranks < 1).mean())
    print(
        json.dumps({"seconds": seconds, "peak_gb": peak, "r1": r1, "ranks": ranks[:200].tolist()})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=8884)
    parser.add_argument("--dim", type=int, default=4096)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    base = [sys.executable, __file__, "--queries", str(args.queries), "--dim", str(args.dim)]
    results = {}
    for name in ("geovec", "community"):
        out = subprocess.run([*base, "--child", name], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name}: failed ({(out.stderr.strip().splitlines() or [out.returncode])[-1]})")
            continue
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    data_gb = 2 * args.queries * args.dim * 4 / 1e9
    flops = 2 * args.queries**2 * args.dim / 1e9
    print(
        f"{args.queries} queries x {args.queries} aerials x {args.dim}-d: features "
        f"{data_gb:.2f} GB, matmul work {flops:.0f} GFLOP"
    )
    for name, r in results.items():
        print(f"{name:<10} {r['seconds']:7.2f} s  peak {r['peak_gb']:5.2f} GB  R@1 {r['r1']:.4f}")
    g, c = results.get("geovec"), results.get("community")
    if g and c:
        same = sum(a == b for a, b in zip(g["ranks"], c["ranks"]))
        print(f"ranks equal on {same} of the first {len(g['ranks'])} queries")
        print(
            f"ratio community/geovec time: {c['seconds'] / g['seconds']:.2f}, "
            f"peak memory: {c['peak_gb'] / g['peak_gb']:.2f}"
        )


if __name__ == "__main__":
    main()
