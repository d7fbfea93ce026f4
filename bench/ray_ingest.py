"""Ingest throughput of the Ray engine (a local cluster) against the local engine, on the
same synthetic images, same run; each run in its own process into a fresh store, GIST (no
weights needed) or --features.

Like with like: both engines get the machine's cores (the local engine its decode threads
and XLA's pool over every core; Ray ``--workers`` model actors, the core count by default,
one XLA thread each, beside its decode tasks), both start cold in a fresh process (the
Ray cluster's start timed apart), and the two run in turn for ``--rounds``, the best kept.

    python bench/ray_ingest.py [--ground 60] [--features gist] [--workers cores] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import cores, report  # noqa: E402


def child(args) -> None:
    import geovec

    kwargs = {} if args.engine == "local" else {"engine": "ray", "workers": args.workers}
    if args.engine == "ray":
        from geovec.engines import start_ray

        t0 = time.perf_counter()
        start_ray(None)
        startup = time.perf_counter() - t0
    else:
        startup = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = geovec.open(Path(tmp) / "db")
        summary = geovec.ingest(store, args.manifest, features=args.features.split(","), **kwargs)
    print(json.dumps({"images": summary.ingested, "seconds": summary.seconds, "startup": startup}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ground", type=int, default=60)
    parser.add_argument("--features", default="gist")
    parser.add_argument("--engine")
    parser.add_argument("--workers", type=int, default=cores(), help="Ray model actors")
    parser.add_argument("--rounds", type=int, default=1, help="cold runs of each engine, in turn")
    parser.add_argument("--manifest")
    args = parser.parse_args()
    if args.engine:
        child(args)
        return
    import geovec
    from geovec.ingestion.stream import _workers

    with tempfile.TemporaryDirectory() as tmp:
        world = geovec.synth(Path(tmp) / "world", seed=5, ground=args.ground, extent_km=3.0)
        results = {}
        for _ in range(args.rounds):
            for engine in ("ray", "local"):
                cmd = [sys.executable, __file__, "--engine", engine]
                cmd += ["--manifest", str(world.manifest), "--features", args.features]
                cmd += ["--workers", str(args.workers)]
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode:
                    print(f"{engine}: failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if engine not in results or r["seconds"] < results[engine]["seconds"]:
                    results[engine] = r
    print(
        f"{args.features}; {args.ground} ground images of the synthetic world and their "
        f"tiles; cold processes, best of {args.rounds} in turn"
    )
    for engine, r in results.items():
        start = f" (+ {r['startup']:.1f} s cluster start)" if r["startup"] else ""
        print(f"  {engine:<5} {r['images']} images in {r['seconds']:6.1f} s{start}")
    if len(results) == 2:
        rate = {e: r["images"] / r["seconds"] for e, r in results.items()}
        report(
            "ingest throughput",
            "images/s",
            ("geovec --engine ray", rate["ray"], f"{args.workers} actors x 1 XLA"),
            ("geovec --engine local", rate["local"], f"XLA {cores()} + {_workers(None)} decode"),
        )


if __name__ == "__main__":
    main()
