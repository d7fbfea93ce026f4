"""Streamed ingest: images with locations in, features with locations out.

Decoding and CPU preprocessing run in a thread pool, overlapped with the jit-compiled
forward pass (XLA releases the GIL); batches have a fixed shape; rows are appended to
LanceDB in chunks, each one commit, so memory stays bounded and a run killed at any
moment resumes where it stopped: ids already stored are skipped, nothing is written twice.

>>> store = geovec.open("geo")                                   # doctest: +SKIP
>>> ingest(store, "world/manifest.csv", features=["gist"])       # doctest: +SKIP
IngestSummary(ingested=1200, skipped=0, failed=3, ...)
"""

from __future__ import annotations

import collections
import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

from geovec import DEFAULT_BATCH_SIZE
from geovec.decode import load_rgb
from geovec.errors import GeovecError, ImageDecodeError
from geovec.extract import (
    GIST,
    FeatureExtractor,
    PreparedImage,
    parse_features,
)
from geovec.indoor import indoor_mask
from geovec.progress import ProgressReporter
from geovec.sources import Failure, Record, read_source
from geovec.store import BASE_SCHEMAS, VIEWS, Store, feature_field, point_wkb, vectors_to_arrow
from geovec.weights import available_networks, network


@dataclasses.dataclass
class IngestSummary:
    """What an ingest or extract run did."""

    ingested: int
    skipped: int
    failed: int
    features: list[str]
    seconds: float
    indoor: int = 0  # ground images dropped by the indoor/outdoor filter

    @property
    def images_per_second(self) -> float:
        return self.ingested / self.seconds if self.seconds > 0 else 0.0

    def line(self, verb: str = "ingested") -> str:
        dropped = f", dropped {self.indoor} indoor" if self.indoor else ""
        return (
            f"{verb} {self.ingested}{dropped}, skipped {self.skipped} already present, failed "
            f"{self.failed} ({', '.join(self.features)}; {self.seconds:.1f} s, "
            f"{self.images_per_second:.1f} images/s)"
        )


PLACES_PROB = "places_prob"


def default_features() -> list[str]:
    """GIST, plus places_fc8 when converted Places205 weights are present."""
    features = [GIST]
    if "places205" in available_networks():
        features.append(f"{network('places205').feature_prefix}_fc8")
    return features


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
            except ImageDecodeError as exc:
                chunk_failures.append(Failure(str(record.path), record.view, "decode", str(exc)))
            except (ValueError, MemoryError) as exc:
                chunk_failures.append(
                    Failure(str(record.path), record.view, "preprocess", str(exc))
                )
            if len(chunk_records) + len(chunk_failures) >= chunk_rows:
                flush()
        flush()
    return done, failed


def _stream_into(store, label, extractor, records, write, workers, chunk_rows, progress):
    """stream_features with failures recorded in ``store`` and a progress bar ``label``."""
    with ProgressReporter(label, len(records), enabled=progress) as bar:
        return stream_features(
            extractor,
            records,
            write,
            lambda fs: store.record_failures([f.row() for f in fs]),
            workers=workers,
            chunk_rows=chunk_rows,
            progress=bar,
        )


def _rows(view: str, records: Sequence[Record], features: dict) -> pa.Table:
    columns: dict[str, object] = {
        "id": [r.id for r in records],
        "region": [r.region for r in records],
        "path": [str(r.path) for r in records],
        "lon": [r.lon for r in records],
        "lat": [r.lat for r in records],
    }
    columns["geom"] = point_wkb(columns["lon"], columns["lat"])
    if view == "ground":
        columns.update(
            source=[r.source for r in records],
            pair=[r.pair for r in records],
            split=[r.split for r in records],
            isolated=[None] * len(records),
        )
    elif view == "map":
        columns["size_m"] = [r.size_m for r in records]
    base = BASE_SCHEMAS[view]
    arrays = [pa.array(columns[f.name], f.type) for f in base]
    names = list(base.names)
    for name, values in features.items():
        arrays.append(vectors_to_arrow(values))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def ingest(
    store: Store,
    source: str | Path,
    *,
    view: str | None = None,
    features: str | Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    chunk_rows: int | None = None,
    progress: bool = False,
    outdoor_only: bool = False,
) -> IngestSummary:
    """Ingest a manifest or an EXIF-located image folder into ``store``.

    Args:
      source: manifest (.csv/.parquet/.geojson) or folder of images with EXIF GPS.
      view: only this view (manifests) or the view of every image (folders).
      features: names like ``gist,places_fc8``; default :func:`default_features`.
      batch_size: images per forward pass.
      chunk_rows: rows per Lance commit (default 4 batches).
      progress: show a rich progress bar with images/s on stderr.
      outdoor_only: drop ground images whose Places205 top-1 scene is indoor (needs
        converted Places205 weights with category names).

    Raises:
      WeightsNotFoundError: a CNN feature without converted weights, before any work.
      ManifestError: the source cannot be read at all (bad rows become failures instead).
    """
    started = time.perf_counter()
    wanted = parse_features(features or default_features())
    computed = [s.name for s in wanted]
    if outdoor_only and PLACES_PROB not in computed:
        computed.append(PLACES_PROB)
    extractor = FeatureExtractor(computed, batch_size=batch_size)
    labels = extractor.weights["places205"].labels if outdoor_only else None
    if outdoor_only:
        indoor_mask(np.zeros((1, 205)), labels)  # fails now, before any work, without labels
    records, failures = read_source(source, view)
    store.record_failures([f.row() for f in failures])
    existing = {v: store.ids(v) for v in VIEWS}
    todo = [r for r in records if r.id not in existing[r.view]]
    fields = [feature_field(s.name, s.dim, extractor.provenance(s.name)) for s in wanted]
    for v in sorted({r.view for r in todo}):
        store.ensure_features(v, fields)
    dropped = 0

    def write(chunk: list[Record], values: dict) -> None:
        nonlocal dropped
        indoor = np.zeros(len(chunk), bool)
        if outdoor_only:
            is_ground = np.array([r.view == "ground" for r in chunk])
            indoor = indoor_mask(values[PLACES_PROB], labels) & is_ground
            dropped += int(indoor.sum())
        for v in VIEWS:
            picked = [i for i, r in enumerate(chunk) if r.view == v and not indoor[i]]
            if picked:
                feats = {s.name: values[s.name][picked] for s in wanted}
                store.append(v, _rows(v, [chunk[i] for i in picked], feats))

    done, failed = _stream_into(
        store, "ingest", extractor, todo, write, workers, chunk_rows, progress
    )
    return IngestSummary(
        ingested=done - dropped,
        skipped=len(records) - len(todo),
        failed=failed + len(failures),
        features=[s.name for s in wanted],
        seconds=time.perf_counter() - started,
        indoor=dropped,
    )


def extract_missing(
    store: Store,
    features: str | Sequence[str],
    *,
    view: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    chunk_rows: int | None = None,
    progress: bool = False,
) -> IngestSummary:
    """Fill feature columns that existing rows lack (e.g. add imagenet_fc7 later).

    Resumable like :func:`ingest`: each chunk is one commit, and a re-run only touches
    rows where a requested feature is still null.
    """
    started = time.perf_counter()
    extractor = FeatureExtractor(features, batch_size=batch_size)
    views = [view] if view else [v for v in VIEWS if store.has(v)]
    if not views:
        raise GeovecError(f"{store.path} has no images yet; run geovec ingest first")
    fields = [feature_field(s.name, s.dim, extractor.provenance(s.name)) for s in extractor.specs]
    total = skipped = failed = 0
    for v in views:
        store.ensure_features(v, fields)
        missing = " OR ".join(f"{name} IS NULL" for name in extractor.features)
        rows = store.read(v, ["id", "path"], missing)
        skipped += store.count(v) - rows.num_rows
        records = [
            Record(id=i, path=Path(p), view=v, lon=0.0, lat=0.0)
            for i, p in zip(rows.column("id").to_pylist(), rows.column("path").to_pylist())
        ]

        def write(chunk: list[Record], values: dict, v=v) -> None:
            arrays = [pa.array([r.id for r in chunk], pa.string())]
            arrays += [vectors_to_arrow(values[name]) for name in extractor.features]
            store.update_columns(v, pa.Table.from_arrays(arrays, names=["id", *extractor.features]))

        done, bad = _stream_into(
            store, f"extract {v}", extractor, records, write, workers, chunk_rows, progress
        )
        total += done
        failed += bad
    return IngestSummary(total, skipped, failed, extractor.features, time.perf_counter() - started)
