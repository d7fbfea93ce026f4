"""The isolation filter: ground images with no other ground image within a radius become
the test set (``isolated = true``, ``split = 'test'``); the rest are training images.

>>> result = isolate(demo_store, radius_m=250)
>>> result.total == demo_store.count("ground"), 0 < result.isolated < result.total
(True, True)
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa

from geovec.defaults import DEFAULT_RADIUS_M
from geovec.errors import GeovecError
from geovec.geodesy import isolation_cells
from geovec.ingestion.links import link_pairs
from geovec.store import Store
from geovec.store.queries import run_query
from geovec.store.regions import region_label

SPLIT_FROM_ISOLATION = {"geovec_split": "isolation"}
"""Field metadata on ``ground.split`` saying that isolation wrote it (and may again)."""
RADIUS_KEY = "geovec_isolation_radius_m"
"""Field metadata on ``ground.isolated``: the radius (metres, as text) that marked it, which
results record (:mod:`geovec.analyses.provenance`)."""


@dataclasses.dataclass
class IsolationResult:
    """How many ground images are isolated, per region and in all; ``unlocated`` ground
    images (pair-only datasets) have no position and were left out."""

    radius_m: float
    total: int
    isolated: int
    regions: dict[str, dict[str, int]]
    unlocated: int = 0
    split_written: bool = True  # False: the store's split came from its dataset, kept

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def isolation_table(con, radius_m: float) -> pa.Table:
    """id, isolated, nearest_m (geodesic metres) for every located ground image, each
    compared with every other whatever their regions (sql/isolated_images.sql)."""
    cells = isolation_cells(float(radius_m))
    return run_query(con, "isolated_images", radius_m=float(radius_m), **cells)


def _one_row_per_id(table: pa.Table) -> pa.Table:
    """One row per id: rows that share an id (a store written by an older geovec, whose
    concurrent ingests could store an image twice) are one image, isolated only if every
    copy is (copies at one position never are)."""
    if len(set(table.column("id").to_pylist())) == table.num_rows:
        return table
    grouped = table.group_by("id", use_threads=False).aggregate(
        [("isolated", "all"), ("nearest_m", "min")]
    )
    columns = {"id": "id", "isolated": "isolated_all", "nearest_m": "nearest_m_min"}
    return pa.table({k: grouped.column(v) for k, v in columns.items()}).sort_by("id")


def _writes_split(store: Store, ground: pa.Table) -> bool:
    """Isolation sets ``split`` unless the images came with a dataset's own split."""
    written_before = store.field_metadata("ground", "split") == SPLIT_FROM_ISOLATION
    return written_before or ground.column("split").null_count == ground.num_rows


def isolate(store: Store, *, radius_m: float = DEFAULT_RADIUS_M) -> IsolationResult:
    """Mark isolated ground images (no other ground image within ``radius_m`` metres, by
    the WGS84 geodesic, in any region):
    ``isolated`` true, and ``split`` ``test`` for them and ``train`` for the others unless
    the images came with a dataset split (kept). Images without a position are left out."""
    if not 0 < radius_m < float("inf"):  # NaN and inf too
        raise GeovecError(f"the isolation radius must be positive metres, got {radius_m}")
    if not store.count("ground"):
        raise GeovecError(f"{store.path} has no ground images; ingest some first")
    ground = store.read("ground", ["id", "region", "lon", "split"])
    unlocated = ground.column("lon").null_count
    if unlocated == ground.num_rows:
        raise GeovecError(
            "no ground image has a position: isolation needs them (pair-only datasets are "
            "evaluated with the pairs protocol)"
        )
    link_pairs(store)  # a store of an older geovec, linked by equal ids, gets ground.pair
    with store.cursor() as con:
        table = _one_row_per_id(isolation_table(con, radius_m))
    flags = table.column("isolated").to_pylist()
    updates = {"id": table.column("id"), "isolated": pa.array(flags, pa.bool_())}
    write_split = _writes_split(store, ground)
    if write_split:
        updates["split"] = pa.array(["test" if f else "train" for f in flags], pa.string())
    store.update_columns("ground", pa.table(updates))
    store.set_field_metadata("ground", "isolated", {RADIUS_KEY: repr(float(radius_m))})
    if write_split:
        store.set_field_metadata("ground", "split", SPLIT_FROM_ISOLATION)
    region_of = dict(zip(ground.column("id").to_pylist(), ground.column("region").to_pylist()))
    per_region: dict[str, dict[str, int]] = {}
    for ident, flag in zip(table.column("id").to_pylist(), flags):
        label = region_label(region_of.get(ident))
        entry = per_region.setdefault(label, {"total": 0, "isolated": 0})
        entry["total"] += 1
        entry["isolated"] += int(flag)
    return IsolationResult(radius_m, len(flags), sum(flags), per_region, unlocated, write_split)


def isolation_radius(store: Store) -> float | None:
    """The radius (metres) that last marked the store's isolated images (None: not marked by
    this geovec, or never)."""
    if not store.has("ground"):
        return None
    text = store.field_metadata("ground", "isolated").get(RADIUS_KEY)
    return None if text is None else float(text)
