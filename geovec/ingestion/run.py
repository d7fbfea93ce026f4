"""Ingest: images with locations in, features with locations out; and extract: feature
columns that stored rows lack.

Rows are appended to LanceDB in chunks, each one commit (:mod:`.stream` keeps memory
bounded), so a run killed at any moment resumes where it stopped: ids already stored are
skipped, nothing is written twice. Ingests into one store at the same time (processes or
threads) each commit only the ids not stored yet (:meth:`~geovec.store.Store.append`), so
each image is stored once whoever computes it first.

>>> ingest(demo_store, demo_world.manifest, features=["gist"]).ingested   # all stored already
0
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from geovec.counts import count
from geovec.defaults import DEFAULT_BATCH_SIZE
from geovec.engines import in_ray_session
from geovec.errors import GeovecError
from geovec.features.extract import FeatureExtractor
from geovec.features.indoor import indoor_mask, scene_network, top_categories
from geovec.features.names import default_features, parse_features
from geovec.ingestion.links import link_pairs, overhead_claims
from geovec.ingestion.records import Failure, Record
from geovec.ingestion.sources import read_source
from geovec.ingestion.stream import PipelineStats, stream_into_store
from geovec.store import Store
from geovec.store.database import removes_new_store_on_failure
from geovec.store.schema import (
    BASE_SCHEMAS,
    FAILURES,
    VIEWS,
    feature_field,
    point_wkb,
    vectors_to_arrow,
)

if TYPE_CHECKING:
    from geovec.analyses.region_rules import RegionAssignment, RegionRule


@dataclasses.dataclass
class IngestSummary:
    """What an ingest or extract run did."""

    ingested: int
    skipped: int
    failed: int
    features: list[str]
    seconds: float
    indoor: int = 0  # ground images dropped by the indoor/outdoor filter
    linked: int = 0  # ground images whose pair this run set (geovec.ingestion.links)
    network_idle: float | None = None  # share of the pipeline's time the network waited
    regions: RegionAssignment | None = None  # the regions --region/--regions gave (new rows)

    @property
    def images_per_second(self) -> float:
        return self.ingested / self.seconds if self.seconds > 0 else 0.0

    def line(self, verb: str = "ingested") -> str:
        dropped = f", dropped {self.indoor} indoor" if self.indoor else ""
        dropped += f", linked {count(self.linked, 'pair')}" if self.linked else ""
        idle = "" if self.network_idle is None else f", network idle {self.network_idle:.0%}"
        return (
            f"{verb} {self.ingested}{dropped}, skipped {self.skipped} done before, failed "
            f"{self.failed} ({', '.join(self.features)}; {self.seconds:.1f} s, "
            f"{self.images_per_second:.1f} images/s{idle})"
        )


PLACES_PROB = "places_prob"
INDOOR_STAGE = "indoor"
"""The stage of a ground image that ``--outdoor-only`` dropped (a row of ``failures``)."""


def _dropped_indoor(store: Store) -> set[tuple[str, str]]:
    """(path, view) of the images an earlier ``--outdoor-only`` run dropped: the same
    image and network give the same scene, so a resume need not decode them again."""
    if not store.has(FAILURES):
        return set()
    rows = store.read(FAILURES, ["path", "view"], f"stage = '{INDOOR_STAGE}'")
    return set(zip(rows.column("path").to_pylist(), rows.column("view").to_pylist()))


def _indoor_failures(
    chunk: Sequence[Record], indoor: np.ndarray, prob, labels, net: str = "places205"
) -> list[Failure]:
    """A failure row (stage ``indoor``, the scene and network in the reason) per dropped
    image."""
    picked = np.flatnonzero(indoor)
    scenes = top_categories(prob[picked], labels) if len(picked) else []
    return [
        Failure(
            str(chunk[i].path),
            chunk[i].view,
            INDOOR_STAGE,
            f"{net.capitalize()} top-1 scene {scene} is indoor (dropped by --outdoor-only)",
        )
        for i, scene in zip(picked, scenes)
    ]


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
            semi_pairs=[list(r.semi_pairs) if r.semi_pairs else None for r in records],
        )
    elif view == "overhead":
        columns["split"] = [r.split for r in records]
    elif view == "map":
        columns["size_m"] = [r.size_m for r in records]
    base = BASE_SCHEMAS[view]
    arrays = [pa.array(columns[f.name], f.type) for f in base]
    names = list(base.names)
    for name, values in features.items():
        arrays.append(vectors_to_arrow(values))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


@removes_new_store_on_failure
@in_ray_session
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
    engine: str = "local",
    ray_address: str | None = None,
    fast_decode: bool = False,
    regions: RegionRule | None = None,
) -> IngestSummary:
    """Ingest a manifest or an EXIF-located image folder into ``store``.

    Args:
      source: manifest (.csv/.parquet/.geojson) or folder of images with EXIF GPS.
      view: only this view (manifests) or the view of every image (folders).
      features: names like ``gist,places_fc8``; default :func:`default_features`.
      batch_size: images per forward pass.
      chunk_rows: rows per Lance commit (default 4 batches).
      progress: show a rich progress bar with images/s on stderr.
      outdoor_only: drop ground images whose Places top-1 scene is indoor (Places365 where
        its weights are converted, else Places205 with category names:
        :func:`~geovec.features.indoor.scene_network`); each drop is a ``failures`` row
        (stage ``indoor``), and a resume with ``outdoor_only`` skips those images.
      engine: "local" (threads and one jitted model in this process) or "ray" (Ray Data
        tasks and an actor pool: :mod:`geovec.ingestion.ray_engine`); the same rows.
      ray_address: the Ray cluster to join (default: start a local one).
      workers: decode threads (local) or model actors (ray).
      fast_decode: decode large JPEGs at a reduced scale (Pillow's draft, at least
        256 x 256; local engine): faster, but the features are not Caffe's.
      regions: a region for the new rows that have none (a folder of photos, a manifest
        without a region column): one name, or by a polygon layer
        (:class:`~geovec.analyses.region_rules.RegionRule`); rows already stored keep theirs
        (``geovec regions`` changes those).

    Raises:
      WeightsNotFoundError: a CNN feature without converted weights, before any work.
      ManifestError: the source cannot be read at all (bad rows become failures instead).
    """
    started = time.perf_counter()
    wanted = parse_features(features or default_features())
    computed = [s.name for s in wanted]
    scene_net, scene_prob = scene_network() if outdoor_only else ("", PLACES_PROB)
    if outdoor_only and scene_prob not in computed:
        computed.append(scene_prob)
    extractor = FeatureExtractor(computed, batch_size=batch_size)
    labels = extractor.weights[scene_net].labels if outdoor_only else None
    if outdoor_only:  # fails now, before any work, without labels
        indoor_mask(np.zeros((1, extractor.weights[scene_net].net.num_classes)), labels)
    records, failures = read_source(source, view)
    store.record_failures([f.row() for f in failures])
    existing = {v: store.ids(v) for v in VIEWS}
    dropped_before = _dropped_indoor(store) if outdoor_only else set()
    todo = [
        r
        for r in records
        if r.id not in existing[r.view] and (str(r.path), r.view) not in dropped_before
    ]
    assigned = None
    if regions is not None:
        todo, assigned = _with_regions(todo, regions)
    fields = [feature_field(s.name, s.dim, extractor.provenance(s.name)) for s in wanted]
    for v in sorted({r.view for r in todo}):
        store.ensure_features(v, fields)
    dropped = 0
    stored_meanwhile = 0  # rows another ingest of this store wrote after we listed its ids

    def write(chunk: list[Record], values: dict) -> None:
        nonlocal dropped, stored_meanwhile
        indoor = np.zeros(len(chunk), bool)
        if outdoor_only:
            is_ground = np.array([r.view == "ground" for r in chunk])
            indoor = indoor_mask(values[scene_prob], labels, scene_net) & is_ground
            dropped += int(indoor.sum())
            drops = _indoor_failures(chunk, indoor, values[scene_prob], labels, scene_net)
            store.record_failures([f.row() for f in drops])
        for v in VIEWS:
            picked = [i for i, r in enumerate(chunk) if r.view == v and not indoor[i]]
            if picked:
                feats = {s.name: values[s.name][picked] for s in wanted}
                written = store.append(v, _rows(v, [chunk[i] for i in picked], feats))
                stored_meanwhile += len(picked) - written

    stats = PipelineStats()
    done, failed = stream_into_store(
        store,
        "ingest",
        extractor,
        todo,
        write,
        workers,
        chunk_rows,
        progress,
        engine,
        fast_decode=fast_decode,
        stats=stats,
    )
    linked = link_pairs(store, overhead_claims(records))  # either view may come first
    return IngestSummary(
        ingested=done - dropped - stored_meanwhile,
        skipped=len(records) - len(todo) + stored_meanwhile,
        failed=failed + len(failures),
        features=[s.name for s in wanted],
        seconds=time.perf_counter() - started,
        indoor=dropped,
        linked=linked,
        network_idle=stats.idle_share if engine == "local" and todo else None,
        regions=assigned,
    )


def _with_regions(records: list[Record], rule: RegionRule) -> tuple[list[Record], RegionAssignment]:
    """The records, those without a region given one by ``rule``."""
    bare = [i for i, r in enumerate(records) if r.region is None]
    found = rule.assign([records[i].lon for i in bare], [records[i].lat for i in bare])
    out = list(records)
    for i, region in zip(bare, found.regions):
        out[i] = dataclasses.replace(out[i], region=region)
    return out, found


@in_ray_session
def extract_missing(
    store: Store,
    features: str | Sequence[str],
    *,
    view: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    chunk_rows: int | None = None,
    progress: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
) -> IngestSummary:
    """Fill feature columns that existing rows lack (e.g. add imagenet_fc7 later).

    Resumable like :func:`ingest`: each chunk is one commit, and a re-run only touches
    rows where a requested feature is still null. Rows without an image (``path`` null:
    imported embeddings) are skipped. ``engine``, ``ray_address`` and
    ``workers`` as for :func:`ingest`.
    """
    started = time.perf_counter()
    if view is not None and view not in VIEWS:
        raise GeovecError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    extractor = FeatureExtractor(features, batch_size=batch_size)
    views = [view] if view else [v for v in VIEWS if store.has(v)]
    if not views:
        raise GeovecError(f"{store.path} has no images yet; run geovec ingest first")
    fields = [feature_field(s.name, s.dim, extractor.provenance(s.name)) for s in extractor.specs]
    total = skipped = failed = 0
    for v in views:
        store.ensure_features(v, fields)
        missing = " OR ".join(f"{name} IS NULL" for name in extractor.features)
        # rows without an image (imported embeddings) have no pixels to compute from
        rows = store.read(v, ["id", "path"], f"({missing}) AND path IS NOT NULL")
        skipped += store.count(v) - rows.num_rows
        records = [
            Record(id=i, path=Path(p), view=v, lon=0.0, lat=0.0)
            for i, p in zip(rows.column("id").to_pylist(), rows.column("path").to_pylist())
        ]

        def write(chunk: list[Record], values: dict, v=v) -> None:
            arrays = [pa.array([r.id for r in chunk], pa.string())]
            arrays += [vectors_to_arrow(values[name]) for name in extractor.features]
            store.update_columns(v, pa.Table.from_arrays(arrays, names=["id", *extractor.features]))

        done, bad = stream_into_store(
            store,
            f"extract {v}",
            extractor,
            records,
            write,
            workers,
            chunk_rows,
            progress,
            engine,
        )
        total += done
        failed += bad
    return IngestSummary(total, skipped, failed, extractor.features, time.perf_counter() - started)
