"""The streaming machinery of ingest and extract, a bounded pipeline of three stages:
decoding and CPU preprocessing in a thread pool (up to two chunks ahead), the
jit-compiled forward pass on this thread (XLA releases the GIL), and the writes (Lance
commits, failure rows, progress) on a writer thread one chunk behind; so the network
waits on neither, and memory stays bounded whatever the number of images. How long the
network waited is measured (:class:`PipelineStats`)."""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
import queue
import threading
import time
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


FAST_DECODE_SIDE = 256
"""``fast_decode``: a JPEG is decoded at the smallest 1/2, 1/4 or 1/8 scale that keeps both
sides at least this (Pillow's ``draft``); smaller JPEGs are decoded in full."""


@dataclasses.dataclass
class PipelineStats:
    """Where the forward pass's thread spent an ingest: ``network_s`` running the network,
    ``waiting_s`` waiting for decoded images or for the writer (seconds)."""

    network_s: float = 0.0
    waiting_s: float = 0.0

    @property
    def idle_share(self) -> float:
        """The share of the pipeline's time that the network waited (0 to 1)."""
        total = self.network_s + self.waiting_s
        return self.waiting_s / total if total > 0 else 0.0


class _Writer:
    """The writer thread: runs the jobs it is given in order, at most ``depth`` waiting;
    the first error is raised again in the thread that hands it the next job or closes it."""

    def __init__(self, depth: int = 1):
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._raised = False
        self._thread = threading.Thread(target=self._loop, name="geovec-write", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # raised again on the pipeline's thread
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None and not self._raised:  # raised once; no job runs after
            self._raised = True
            raise self._error

    def put(self, job: Callable[[], None]) -> None:
        self._check()
        self._jobs.put(job)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()
        self._check()


def stream_features(
    extractor: FeatureExtractor,
    records: Iterable[Record],
    write: Callable[[list[Record], dict], None],
    fail: Callable[[list[Failure]], None],
    *,
    workers: int | None = None,
    chunk_rows: int | None = None,
    progress: ProgressReporter | None = None,
    fast_decode: bool = False,
    stats: PipelineStats | None = None,
) -> tuple[int, int]:
    """Decode, prepare and extract features for ``records``, handing chunks to ``write``
    and failures to ``fail`` (both called in order on one writer thread).

    At most about four chunks of prepared images are in memory at once (two decoding
    ahead, one in the network, one being written). ``fast_decode`` decodes large JPEGs
    at a reduced scale (:data:`FAST_DECODE_SIDE`; faster, but not Caffe's pixels).
    ``stats``, where given, is filled in. Returns (images written, images failed).
    """
    chunk_rows = chunk_rows or extractor.batch_size * 4
    prefetch = chunk_rows * 2
    stats = stats if stats is not None else PipelineStats()
    done = failed = 0
    side = FAST_DECODE_SIDE
    load = functools.partial(load_rgb, draft=(side, side)) if fast_decode else load_rgb

    def prepare(record: Record) -> PreparedImage:
        return extractor.prepare(load(record.path))

    def commit(records: list[Record], values: dict | None, failures: list[Failure]) -> None:
        if records:
            write(records, values)
        if failures:
            fail(failures)
        if progress:
            progress.advance(len(records) + len(failures))

    writer = _Writer()
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
            values = None
            if chunk_records:
                started = time.perf_counter()
                values = extractor.run(chunk_prepared)
                stats.network_s += time.perf_counter() - started
            started = time.perf_counter()
            writer.put(functools.partial(commit, list(chunk_records), values, list(chunk_failures)))
            stats.waiting_s += time.perf_counter() - started
            done += len(chunk_records)
            failed += len(chunk_failures)
            chunk_records.clear()
            chunk_prepared.clear()
            chunk_failures.clear()

        try:
            while window:
                record, future = window.popleft()
                refill()
                started = time.perf_counter()
                try:
                    chunk_prepared.append(future.result())
                    chunk_records.append(record)
                except PREPARE_ERRORS as exc:
                    chunk_failures.append(prepare_failure(record, exc))
                stats.waiting_s += time.perf_counter() - started
                if len(chunk_records) + len(chunk_failures) >= chunk_rows:
                    flush()
            flush()
        finally:
            for _, future in window:  # an error stopped the pipeline: decode no further
                future.cancel()
            writer.close()  # the chunks handed over are written (or the first error raised)
    return done, failed


def stream_into_store(
    store,
    label,
    extractor,
    records,
    write,
    workers,
    chunk_rows,
    progress,
    engine="local",
    *,
    fast_decode=False,
    stats=None,
):
    """stream_features (or its Ray twin, ``engine="ray"``) with failures recorded in
    ``store`` and a progress bar ``label``. Whatever the engine, rows whose features are
    not finite are never written: each becomes a failure (stage ``features``).
    ``fast_decode`` and ``stats`` as for :func:`stream_features` (local engine only)."""
    if engine not in ENGINES:
        raise GeovecError(f"engine must be local or ray, got {engine!r}")
    run = functools.partial(stream_features, fast_decode=fast_decode, stats=stats)
    if engine == "ray":
        if fast_decode:
            raise GeovecError("--fast-decode is for the local engine only")
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
