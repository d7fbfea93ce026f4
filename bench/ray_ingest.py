"""Ingest throughput of the Ray engine (a local cluster, 1 and 2 model actors) against the
local engine, on the same synthetic images, same run; each run in its own process into a
fresh store, GIST (no weights needed) or --features.

    python bench/ray_ingest.py [--ground 60] [--features gist]
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
    parser.add_argument("--workers", type=int)
    parser.add_argument("--manifest")
    args = parser.parse_args()
    if args.engine:
        child(args)
        return
    import os

    import geovec

    with tempfile.TemporaryDirectory() as tmp:
        world = geovec.synth(Path(tmp) / "world", seed=5, ground=args.ground, extent_km=3.0)
        runs = [("local", None), ("ray", 1), ("ray", 2)]
        results = {}
        for engine, workers in runs:
            cmd = [
                sys.executable,
                __file__,
                "--engine",
                engine,
                "--manifest",
                str(world.manifest),
                "--features",
                args.features,
            ]
            if workers:
                cmd += ["--workers", str(workers)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                print(f"{engine} {workers}: failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            results[(engine, workers)] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{os.cpu_count()} cores; {args.features}; images of the synthetic world")
    base = results.get(("local", None))
    for (engine, workers), r in results.items():
        rate = r["images"] / r["seconds"]
        label = engine if engine == "local" else f"ray x{workers}"
        ratio = f"  ratio to local {rate / (base['images'] / base['seconds']):.2f}" if base else ""
        start = f" (+ {r['startup']:.1f} s cluster start)" if r["startup"] else ""
        print(
            f"{label:<8} {r['images']} images in {r['seconds']:6.1f} s: {rate:6.1f} images/s"
            f"{start}{ratio}"
        )


if __name__ == "__main__":
    main()
