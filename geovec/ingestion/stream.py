"""The streaming machinery of ingest and extract: decoding and CPU preprocessing in a thread
pool, overlapped with the jit-compiled forward pass (XLA releases the GIL), in chunks of a
fixed number of rows, so memory stays bounded whatever the number of images."""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from geovec.engines import ENGINES
from geovec.errors import GeovecError
from geovec.features.decode import load_rgb
from geovec.features.extract import FeatureExtractor, PreparedImage
from geovec.ingestion.records import PREPARE_ERRORS, Failure, Record, prepare_failure, split_finite
from geovec.progress import ProgressReporter


def _workers(workers: int | None) -> int:
    return workers or max(2, min(8, (os.cpu_count() or 2)))


def stream_features(
    extractor: FeatureExtractor,
    records: Iterable[Record],
    write: Callable[[list[Record], dict], None],
    fail: Callable[[list[Failure]], None],
    *,
    workers: int | None = None,
    chunk_rows: int | None = None,
    progress: ProgressReporter | None = None,
) -> tuple[int, int]:
    """Decode, prepare and extract features for ``records``, handing chunks to ``write``.

    At most about three chunks of prepared images are in memory at once. Returns
    (images written, images failed).
    """
    chunk_rows = chunk_rows or extractor.batch_size * 4
    prefetch = chunk_rows * 2
    done = failed = 0

    def prepare(record: Record) -> PreparedImage:
        return extractor.prepare(load_rgb(record.path))

    with ThreadPoolExecutor(_workers(workers), thread_name_prefix="geovec-decode") as pool:
        window: collections.deque = collections.deque()
        source = iter(records)

        def refill() -> None:
            while len(window) < prefetch:
                record = next(source, None)
                if record is None:
                    return
                window.append((record, pool.submit(prepare, record)))

        refill()
        chunk_records: list[Record] = []
        chunk_prepared: list[PreparedImage] = []
        chunk_failures: list[Failure] = []

        def flush() -> None:
            nonlocal done, failed
            if chunk_records:
                write(list(chunk_records), extractor.run(chunk_prepared))
            if chunk_failures:
                fail(list(chunk_failures))
            done += len(chunk_records)
            failed += len(chunk_failures)
            if progress:
                progress.advance(len(chunk_records) + len(chunk_failures))
            chunk_records.clear()
            chunk_prepared.clear()
            chunk_failures.clear()

        while window:
            record, future = window.popleft()
            refill()
            try:
                chunk_prepared.append(future.result())
                chunk_records.append(record)
            except PREPARE_ERRORS as exc:
                chunk_failures.append(prepare_failure(record, exc))
            if len(chunk_records) + len(chunk_failures) >= chunk_rows:
                flush()
        flush()
    return done, failed


def stream_into_store(
    store, label, extractor, records, write, workers, chunk_rows, progress, engine="local"
):
    """stream_features (or its Ray twin, ``engine="ray"``) with failures recorded in
    ``store`` and a progress bar ``label``. Whatever the engine, rows whose features are
    not finite are never written: each becomes a failure (stage ``features``)."""
    if engine not in ENGINES:
        raise GeovecError(f"engine must be local or ray, got {engine!r}")
    run = stream_features
    if engine == "ray":
        from geovec.ingestion.ray_engine import ray_stream_features as run

    def fail(failures: list[Failure]) -> None:
        store.record_failures([f.row() for f in failures])

    refused = 0

    def write_finite(chunk: list[Record], values: dict) -> None:
        nonlocal refused
        chunk, values, failures = split_finite(chunk, values)
        if failures:
            fail(failures)
            refused += len(failures)
        if chunk:
            write(chunk, values)

    with ProgressReporter(label, len(records), enabled=progress) as bar:
        done, failed = run(
            extractor,
            records,
            write_finite,
            fail,
            workers=workers,
            chunk_rows=chunk_rows,
            progress=bar,
        )
    return done - refused, failed + refused
