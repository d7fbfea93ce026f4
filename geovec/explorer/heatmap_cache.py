"""Heatmaps for a bounded cost: a click reads its photo's row, not every vector of the
store. Each region's inputs (its training pairs and map tiles by one feature,
:func:`~geovec.analyses.region_data.load_region_data` for that region alone) are loaded
once per store version and reused by every click there; each answer is kept per (photo,
feature, neighbours, store version). The store version is the versions of the ground,
overhead and map tables: any write to them starts afresh. Both caches are bounded in
bytes, least recently used first out; a region whose inputs alone are larger than
``DATA_BYTES`` is read for each click (its own rows only) and not kept."""

from __future__ import annotations

from collections.abc import Callable

from geovec.analyses.localize import Localization, localize
from geovec.analyses.region_data import RegionData, load_region_data
from geovec.geo.pyramid import BytesLRU, KeyLocks
from geovec.store import Store
from geovec.store.filters import id_filter

DATA_BYTES = 1024 * 2**20
"""Bytes of region inputs (vectors) kept: a few regions' training pairs and tiles."""
ANSWER_BYTES = 64 * 2**20
"""Bytes of heatmap answers kept (estimated from their tile count)."""
VIEWS = ("ground", "overhead", "map")


def _data_bytes(data: RegionData) -> int:
    return 1024 + sum(
        a.nbytes for a in (data.queries, data.train_ground, data.train_aerial, data.tiles)
    )


def _answer_bytes(answer: dict) -> int:
    tiles = answer.get("tiles", {}).get("features", [])
    return 4096 + 400 * len(tiles)


class HeatmapCache:
    """Region inputs and heatmap answers of ``store``, per store version."""

    def __init__(
        self, store: Store, *, data_bytes: int = DATA_BYTES, answer_bytes: int = ANSWER_BYTES
    ):
        self.store = store
        self._data = BytesLRU(data_bytes, _data_bytes)
        self._answers = BytesLRU(answer_bytes, _answer_bytes)
        self._locks = KeyLocks()
        self.loads = 0  # region inputs read from the store (not from memory)

    def version(self) -> tuple:
        """The versions of the ground, overhead and map tables
        (:meth:`~geovec.store.Store.version_tokens`: None where one is missing)."""
        return self.store.version_tokens(*VIEWS)

    def region_data(self, feature: str, region: str, version: tuple | None = None) -> RegionData:
        """``region``'s inputs by ``feature`` at the store's ``version`` (now, if None)."""
        key = (feature, region, version or self.version())
        found = self._data.get(key)
        if found is None:
            with self._locks.hold(("data", *key)):
                found = self._data.get(key)
                if found is None:
                    (found,) = load_region_data(self.store, feature, region)
                    self.loads += 1
                    self._data.put(key, found)
        return found

    def localize(
        self, ident: str, feature: str, neighbors: int, version: tuple | None = None
    ) -> Localization:
        """:func:`localize` of stored photo ``ident``, its region's inputs from the cache
        (those of the store's ``version``: now, if None)."""
        version = version or self.version()
        rows = self.store.read("ground", ["region"], id_filter([ident])).column("region")
        region = rows[0].as_py() if len(rows) else None
        data = self.region_data(feature, region, version) if region is not None else None
        return localize(self.store, feature, id=ident, neighbors=neighbors, data=data)

    def answer(self, key: tuple, compute: Callable[[tuple], dict]) -> dict:
        """The answer under ``key`` (photo, feature, neighbours) at the store's version now,
        computed by ``compute(version)`` once (concurrent asks wait for it). Not to be
        changed: the same dict is handed to every asker."""
        version = self.version()
        full = (*key, version)
        found = self._answers.get(full)
        if found is None:
            with self._locks.hold(("answer", *full)):
                found = self._answers.get(full)
                if found is None:
                    found = compute(version)
                    self._answers.put(full, found)
        return found
