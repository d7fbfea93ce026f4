"""The pairs a head trains on, and their features streamed from the Lance tables.

Which pairs: sql/training_pairs.sql (never a test image, nor a pair within the isolation
radius of one), less the pairs whose ground or overhead image lacks the feature; each with
its position (its ground image's, else its overhead image's), for the batches of
:mod:`.batches`. Their
features are never loaded whole: each batch is taken from the tables by row id (the
tables pinned at the version training started from), so memory grows with the batch,
not with the table; a thread reads the next batch while the current one trains.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np

from geovec.errors import GeovecError
from geovec.store import Store

STATS_ROWS = 4096
"""Pairs read per step of the standardisation pass."""


@dataclasses.dataclass
class TrainingPairs:
    """Ground/overhead id pairs a head may train on, and how many were left out, by why."""

    ground_ids: list[str]
    overhead_ids: list[str]
    excluded: dict[str, int]
    lonlat: np.ndarray | None = None  # (n, 2) each pair's position, decimal degrees; NaN: none

    def __len__(self) -> int:
        return len(self.ground_ids)


def training_pairs(
    store: Store, ground_feature: str, overhead_feature: str, split: str | None, radius_m: float
) -> TrainingPairs:
    """The pairs of ``split`` (None: every non-test row) that a head may train on."""
    if not radius_m > 0:
        raise GeovecError(f"the exclusion radius must be positive metres, got {radius_m}")
    for view in ("ground", "overhead"):
        if not store.count(view):
            raise GeovecError(f"{store.path} has no {view} images; a head trains on pairs")
    store.require_feature("ground", ground_feature)
    store.require_feature("overhead", overhead_feature)
    rows = store.query("training_pairs", split=split, radius_m=float(radius_m))
    has_ground = _with_feature(store, "ground", ground_feature)
    has_overhead = _with_feature(store, "overhead", overhead_feature)
    excluded: Counter[str] = Counter()
    ground_ids, overhead_ids, lonlat = [], [], []
    columns = ("ground_id", "overhead_id", "excluded", "lon", "lat")
    for g, o, why, lon, lat in zip(*(rows.column(c).to_pylist() for c in columns)):
        if why is None and g not in has_ground:
            why = f"no {ground_feature}"
        elif why is None and o not in has_overhead:
            why = f"no {overhead_feature} on its overhead image"
        if why is None:
            ground_ids.append(g)
            overhead_ids.append(o)
            lonlat.append((np.nan if lon is None else lon, np.nan if lat is None else lat))
        else:
            excluded[why] += 1
    positions = np.array(lonlat, np.float64).reshape(-1, 2)
    return TrainingPairs(ground_ids, overhead_ids, dict(sorted(excluded.items())), positions)


def _with_feature(store: Store, view: str, feature: str) -> set[str]:
    return set(store.read(view, ["id"], f"{feature} IS NOT NULL").column("id").to_pylist())


class _FeatureColumn:
    """One feature of one view, read by row id from the table as it was when opened."""

    def __init__(self, store: Store, view: str, feature: str, ids: list[str]):
        table = store.db.open_table(view)
        table.checkout(table.version)  # pinned: later writes do not move its rows
        self.table, self.feature = table, feature
        self.dim = store.features(view)[feature]
        found = table.search().select(["id"]).with_row_id(True).limit(None).to_arrow()
        row_of = dict(
            zip(found.column("id").to_pylist(), found.column("_rowid").to_numpy().tolist())
        )
        self.row_ids = np.array([row_of[i] for i in ids], np.uint64)

    def take(self, positions: np.ndarray) -> np.ndarray:
        """(len(positions), dim) float32: the feature of the pairs at ``positions``."""
        wanted = self.row_ids[positions]
        unique = np.unique(wanted)
        rows = self.table.take_row_ids(unique.tolist()).select([self.feature]).with_row_id()
        rows = rows.to_arrow()
        got = rows.column("_rowid").to_numpy()
        order = np.argsort(got)
        values = rows.column(self.feature).combine_chunks().values.to_numpy(zero_copy_only=False)
        values = values.reshape(-1, self.dim)[order]
        return values[np.searchsorted(got[order], wanted)]


class PairReader:
    """Batches of (ground, overhead) features of training pairs, by position in the list."""

    def __init__(
        self, store: Store, pairs: TrainingPairs, ground_feature: str, overhead_feature: str
    ):
        self.ground = _FeatureColumn(store, "ground", ground_feature, pairs.ground_ids)
        self.overhead = _FeatureColumn(store, "overhead", overhead_feature, pairs.overhead_ids)

    def take(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        positions = np.asarray(positions, np.int64)
        return self.ground.take(positions), self.overhead.take(positions)

    def batches(
        self, batches: Iterable[np.ndarray], prefetch: int = 2
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The features of each batch of positions, in order; the next ``prefetch`` batches
        are read by a thread while the caller works."""
        ready: queue.Queue = queue.Queue(maxsize=prefetch)
        stop = threading.Event()

        def read() -> None:
            try:
                for positions in batches:
                    if stop.is_set():
                        return
                    ready.put(self.take(positions))
                ready.put(None)
            except BaseException as exc:  # handed to the caller's thread
                ready.put(exc)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # unblock a reader waiting on a full queue
                try:
                    ready.get(timeout=0.05)
                except queue.Empty:
                    pass

    def standardisation(self, positions: np.ndarray) -> tuple[dict, dict]:
        """Per-view mean and scale (standard deviation, at least 1e-6 of the largest) of
        the features of the pairs at ``positions``, in one streamed pass (float64 sums)."""
        positions = np.sort(np.asarray(positions, np.int64))
        sums = {"ground": 0.0, "overhead": 0.0}
        squares = {"ground": 0.0, "overhead": 0.0}
        chunks = [positions[i : i + STATS_ROWS] for i in range(0, len(positions), STATS_ROWS)]
        for g, o in self.batches(chunks):
            for side, x in (("ground", g), ("overhead", o)):
                x = x.astype(np.float64)
                sums[side] = sums[side] + x.sum(0)
                squares[side] = squares[side] + (x * x).sum(0)
        mean, scale = {}, {}
        for side in sums:
            m = sums[side] / len(positions)
            sd = np.sqrt(np.maximum(squares[side] / len(positions) - m * m, 0))
            mean[side] = m.astype(np.float32)
            scale[side] = np.maximum(sd, max(sd.max(), 1e-12) * 1e-6).astype(np.float32)
        return mean, scale
