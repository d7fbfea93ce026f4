"""The cold-process cost of running the network, without and with the compiled-program
cache (geovec.compile_cache), measured alternately in fresh processes of one run.

Each round starts, for each side, a fresh Python process that builds a FeatureExtractor for
places_fc8 (random Places205 weights written as a caffemodel and converted, which warms
the cache as a user's ``geovec weights convert`` does) and extracts one photo at
``--batch-size`` 64 (as ``search`` and ``localize`` do, at batch 1), then 5 photos (a last
partial batch, run at 8: the cache side compiles that once, in its first round); it
prints the seconds from the extractor's construction to the features, wall and CPU, the
best round of each side. Prints both sides, the ratio and the machine's cores and load.

    python bench/compile_cache.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tests.caffe_writer import caffemodel  # noqa: E402
from tests.reference_alexnet import CAFFENET_CONVS, random_params  # noqa: E402

ONE_PHOTO = """
import json, sys, time
import numpy as np
t0, c0 = time.perf_counter(), time.process_time()
from geovec.features.extract import FeatureExtractor
t1, c1 = time.perf_counter(), time.process_time()
rng = np.random.default_rng(0)
photo = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
n = int(sys.argv[1])
FeatureExtractor(["places_fc8"], batch_size=64).extract([photo] * n)
print(json.dumps({"import_s": t1 - t0, "wall_s": time.perf_counter() - t1,
                  "cpu_s": time.process_time() - c1}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="geovec-bench-compile-"))
    env = {**os.environ, "GEOVEC_WEIGHTS": str(work / "weights")}
    cache = str(work / "xla")
    try:
        params = random_params(CAFFENET_CONVS, 4096, 205, seed=2)
        (work / "places.caffemodel").write_bytes(caffemodel(params))
        np.save(work / "mean.npy", np.full((3, 4, 4), 110.0))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "geovec", "weights", "convert", str(work / "places.caffemodel")]
            + ["--net", "places205", "--mean", str(work / "mean.npy")],
            env={**env, "GEOVEC_XLA_CACHE": cache},
            check=True,
            capture_output=True,
        )
        convert_s = time.perf_counter() - started
        results: dict[tuple[str, int], list[dict]] = {}
        for _ in range(args.rounds):
            for side in ("off", cache):
                for n in (1, 5):
                    done = subprocess.run(
                        [sys.executable, "-c", ONE_PHOTO, str(n)],
                        env={**env, "GEOVEC_XLA_CACHE": side},
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                    results.setdefault(("cache" if side == cache else "off", n), []).append(row)
        load = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"places205 fc8, batch size 64, {args.rounds} alternating rounds of fresh processes")
    print(f"weights convert, compiling batches of 1 and 64: {convert_s:.1f} s")
    for n in (1, 5):
        off, on = results[("off", n)], results[("cache", n)]
        wall_off, wall_on = (min(r["wall_s"] for r in rows) for rows in (off, on))
        cpu_off, cpu_on = (min(r["cpu_s"] for r in rows) for rows in (off, on))
        print(
            f"{n} photo(s), extractor to features: no cache {wall_off:.2f} s wall "
            f"(CPU {cpu_off:.2f} s), cache {wall_on:.2f} s wall (CPU {cpu_on:.2f} s); "
            f"ratio no cache / cache {wall_off / wall_on:.1f} wall, {cpu_off / cpu_on:.1f} CPU"
        )
    imports = min(r["import_s"] for rows in results.values() for r in rows)
    print(f"importing geovec.features.extract (both sides): {imports:.2f} s")
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
