"""Pair evaluation at CVUSA scale: geovec's exact bounded ranking (the pairs protocol's
kernel, :mod:`geovec.analyses.bounded`) against the community's way (the full queries x
aerials similarity matrix in numpy, in chunks of 1,000 queries as Sample4Geo builds it,
then each query's true score compared with its row), same data, same run.

Each side runs in its own process (its peak memory, max RSS, is its own), with the same
threads (every core: OpenBLAS's and XLA's defaults) and the same warm-up (one call on the
first 1,024 queries, which compiles geovec's kernels for the shapes of the full run);
the sides alternate, ``--rounds`` times each, and the best time of each is compared.

Features (8,884 queries x 8,884 aerials x 4,096-d, fc6/fc7 size; query i's true aerial is
aerial i, Euclidean distance):

- ``cnn``: CNN-like, as fc7 is: non-negative, most energy in a few dozen directions: the
  ReLU of a rank-32 Gaussian (plus a bias) with small uniform noise; a query is its
  aerial's latent code plus Gaussian noise, through the same map;
- ``gaussian``: Gaussian noise, a query its aerial plus 30 times as much noise.

    python bench/pairs.py [--queries 8884] [--dim 4096] [--features cnn gaussian]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def data(args):
    """(ground, aerial) float32 features of ``args.features`` (see the module)."""
    import numpy as np

    from geovec.analyses.knn import aligned_empty

    rng = np.random.default_rng(0)
    n, dim = args.queries, args.dim
    if args.features == "gaussian":
        aerial = rng.standard_normal(dtype=np.float32, out=aligned_empty((n, dim)))
        ground = aligned_empty((n, dim))
        ground[:] = aerial + rng.standard_normal((n, dim), np.float32) * 30.0
        return ground, aerial
    return cnn_like(rng, n, dim)


def cnn_like(rng, n: int, dim: int, rank: int = 32, latent_noise: float = 1.0):
    """(ground, aerial): ReLU(z W + 0.5) + U(0, 0.02) with z of rank ``rank``; a ground
    row's z is its aerial's plus N(0, latent_noise^2)."""
    import numpy as np

    from geovec.analyses.knn import aligned_empty

    mix = rng.standard_normal((rank, dim)).astype(np.float32) / np.sqrt(rank)
    z = rng.standard_normal((n, rank)).astype(np.float32)
    out = []
    for code in (z + latent_noise * rng.standard_normal((n, rank)).astype(np.float32), z):
        x = aligned_empty((n, dim))
        np.maximum(code @ mix + 0.5, 0, out=x)
        x += 0.02 * rng.random((n, dim), np.float32)
        out.append(x)
    return out[0], out[1]


def run_geovec(ground, aerial):
    import numpy as np

    from geovec.analyses.knn import rank_and_best

    ranks, _ = rank_and_best(ground, aerial, np.arange(len(ground)))
    return ranks


def run_community(ground, aerial):
    import numpy as np

    sq = (aerial * aerial).sum(1)
    rows = []
    for start in range(0, len(ground), 1000):  # as Sample4Geo: chunks, then the full matrix
        q = ground[start : start + 1000]
        rows.append(sq[None, :] - 2 * q @ aerial.T)
    scores = np.concatenate(rows)
    true = scores[np.arange(len(ground)), np.arange(len(ground))]
    return (scores < true[:, None]).sum(1)


def child(name, args):
    import numpy as np

    run = {"geovec": run_geovec, "community": run_community}[name]
    ground, aerial = data(args)
    warm = min(1024, len(ground))
    run(ground[:warm], aerial)  # the warm-up: same shapes, a ninth of the work
    t0 = time.perf_counter()
    ranks = run(ground, aerial)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB
    out = {"seconds": seconds, "peak_gb": peak, "ranks": np.asarray(ranks).tolist()}
    if name == "geovec" and args.check:
        # the exact ranks (float64) of a sample, and those of the former float32 scan
        from geovec.analyses.knn import _float32_scan

        pick = np.arange(0, len(ground), max(1, len(ground) // 200))
        q, a = ground[pick].astype(np.float64), aerial.astype(np.float64)
        e = (a * a).sum(1)[None, :] - 2 * q @ a.T
        out["exact_sample"] = (e < e[np.arange(len(pick)), pick][:, None]).sum(1).tolist()
        out["sample"] = pick.tolist()
        out["float32_scan"] = _float32_scan(ground, aerial, np.arange(len(ground)))[0].tolist()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=8884)
    parser.add_argument("--dim", type=int, default=4096)
    parser.add_argument("--features", nargs="+", default=["cnn", "gaussian"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-check", dest="check", action="store_false")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        args.features = args.features[0]
        child(args.child, args)
        return
    import numpy as np

    print(
        f"{args.queries} queries x {args.queries} aerials x {args.dim}-d: features "
        f"{2 * args.queries * args.dim * 4 / 1e9:.2f} GB, full-matrix work "
        f"{2 * args.queries**2 * args.dim / 1e9:.0f} GFLOP; {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}"
    )
    for features in args.features:
        base = [sys.executable, __file__, "--queries", str(args.queries), "--dim", str(args.dim)]
        base += ["--features", features]
        runs = {"geovec": [], "community": []}
        for round_ in range(args.rounds):
            check = [] if args.check and round_ == 0 else ["--no-check"]  # checks: once
            for name in ("geovec", "community"):
                command = [*base, *check, "--child", name]
                out = subprocess.run(command, capture_output=True, text=True)
                if out.returncode != 0:
                    tail = (out.stderr.strip().splitlines() or [out.returncode])[-1]
                    print(f"{name}: failed ({tail})")
                    continue
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        g = min(runs["geovec"], key=lambda r: r["seconds"], default=None)
        c = min(runs["community"], key=lambda r: r["seconds"], default=None)
        print(f"[{features}] load {os.getloadavg()[0]:.1f}")
        for name, rs in runs.items():
            times = ", ".join(f"{r['seconds']:.2f}" for r in rs)
            peak = max((r["peak_gb"] for r in rs), default=0)
            r1 = float(np.mean(np.array(rs[0]["ranks"]) < 1)) if rs else 0
            print(f"  {name:<10} {times} s  peak {peak:5.2f} GB  R@1 {r1:.4f}")
        if g and c:
            gr, cr = np.array(g["ranks"]), np.array(c["ranks"])
            print(
                f"  ranks equal to the full matrix's (float32) on {(gr == cr).sum()} of {len(gr)}"
            )
            checked = next((r for r in runs["geovec"] if "exact_sample" in r), None)
            if checked:
                g = {**g, **{k: checked[k] for k in ("exact_sample", "sample", "float32_scan")}}
                pick = np.array(g["sample"])
                exact = np.array(g["exact_sample"])
                old = np.array(g["float32_scan"])
                print(
                    f"  exact (float64) ranks of {len(pick)} sampled queries: geovec equal on "
                    f"{(gr[pick] == exact).sum()}, the full matrix on {(cr[pick] == exact).sum()}"
                    f"; the former float32 scan equals geovec on {(old == gr).sum()} of {len(gr)}"
                )
            print(
                f"  ratio community/geovec time: {c['seconds'] / g['seconds']:.2f} "
                f"(best of {args.rounds} each), peak memory: {c['peak_gb'] / g['peak_gb']:.2f}"
            )


if __name__ == "__main__":
    main()
