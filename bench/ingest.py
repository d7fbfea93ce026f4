"""End-to-end ingest throughput against forward-only throughput, same network, batch and
run: decode + preprocess + forward + Lance append, versus the jit-compiled forward pass on
already prepared batches. Target ratio >= 0.8. Also Lance append rows/s for 4096-d vectors.

Uses GIST by default (no weights needed); ``--features imagenet_fc7`` with converted
weights measures the CNN path.

    python bench/ingest.py [--images 512] [--features gist] [--batch 32]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

import geovec  # noqa: E402
from geovec.features.decode import load_rgb  # noqa: E402
from geovec.features.extract import FeatureExtractor  # noqa: E402
from geovec.store.schema import vectors_to_arrow  # noqa: E402
from tests.images import write_manifest  # noqa: E402


def make_images(folder: Path, n: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    rows = []
    for i in range(n):
        small = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
        Image.fromarray(small).resize((640, 480), Image.BILINEAR).save(
            folder / f"{i}.jpg", quality=90
        )
        rows.append(
            {"id": str(i), "path": f"{i}.jpg", "view": "ground", "lon": 1 + i * 1e-4, "lat": 2.0}
        )
    return write_manifest(folder / "manifest.csv", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--features", default="gist")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    try:
        manifest = make_images(work / "images", args.images)
        extractor = FeatureExtractor(args.features, batch_size=args.batch)
        prepared = [extractor.prepare(load_rgb(work / "images" / "0.jpg"))] * args.batch
        extractor.run(prepared)  # compile
        t0 = time.perf_counter()
        for _ in range(max(1, args.images // args.batch)):
            extractor.run(prepared)
        forward_ips = (args.images // args.batch) * args.batch / (time.perf_counter() - t0)

        store = geovec.open(work / "db")
        geovec.ingest(
            geovec.open(work / "warm"), manifest, features=args.features, batch_size=args.batch
        )  # compile outside the timing
        summary = geovec.ingest(store, manifest, features=args.features, batch_size=args.batch)
        ingest_ips = summary.ingested / summary.seconds

        db = geovec.open(work / "append")
        rows = 4096
        vectors = np.random.default_rng(0).random((rows, 4096), np.float32)
        table = pa.table({"id": [str(i) for i in range(rows)], "v": vectors_to_arrow(vectors)})
        db.db.create_table("t", schema=table.schema)
        t0 = time.perf_counter()
        for start in range(0, rows, 512):
            db.db.open_table("t").add(table.slice(start, 512))
        append_rows = rows / (time.perf_counter() - t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"features {args.features}, batch {args.batch}, {args.images} images of 640x480")
    print(f"forward only:        {forward_ips:8.1f} images/s")
    print(f"end-to-end ingest:   {ingest_ips:8.1f} images/s")
    print(f"ratio ingest/forward: {ingest_ips / forward_ips:.2f} (target >= 0.8)")
    print(
        f"Lance append, 4096-d float32: {append_rows:,.0f} rows/s "
        f"({append_rows * 16384 / 1e6:.0f} MB/s)"
    )


if __name__ == "__main__":
    main()
