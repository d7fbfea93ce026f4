"""The isolation filter: ground images with no other ground image within a radius become
the test set (``isolated = true``, ``split = 'test'``); the rest are training images.

>>> result = isolate(demo_store, radius_m=250)
>>> result.total == demo_store.count("ground"), 0 < result.isolated < result.total
(True, True)
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa

from geovec.analyses.defaults import DEFAULT_RADIUS_M
from geovec.analyses.regions import region_frames
from geovec.errors import GeovecError
from geovec.store import Store
from geovec.store.queries import run_query


@dataclasses.dataclass
class IsolationResult:
    """How many ground images are isolated, per region and in all."""

    radius_m: float
    total: int
    isolated: int
    regions: dict[str, dict[str, int]]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def isolation_table(con, radius_m: float) -> pa.Table:
    """id, isolated, neighbours, nearest_m for every ground image, region by region."""
    parts = [
        run_query(con, "isolated_images", radius_m=float(radius_m), crs=crs, region=region)
        for region, crs in region_frames(con)
    ]
    return pa.concat_tables(parts) if parts else None


def isolate(store: Store, *, radius_m: float = DEFAULT_RADIUS_M) -> IsolationResult:
    """Mark isolated ground images (no other ground image within ``radius_m`` metres) and
    set ``split`` to ``test`` for them and ``train`` for the others."""
    if not radius_m > 0:
        raise GeovecError(f"the isolation radius must be positive metres, got {radius_m}")
    if not store.count("ground"):
        raise GeovecError(f"{store.path} has no ground images; ingest some first")
    with store.cursor() as con:
        table = isolation_table(con, radius_m)
    regions = store.read("ground", ["id", "region"])
    flags = table.column("isolated").to_pylist()
    updates = pa.table(
        {
            "id": table.column("id"),
            "isolated": pa.array(flags, pa.bool_()),
            "split": pa.array(["test" if f else "train" for f in flags], pa.string()),
        }
    )
    store.update_columns("ground", updates)
    region_of = dict(zip(regions.column("id").to_pylist(), regions.column("region").to_pylist()))
    per_region: dict[str, dict[str, int]] = {}
    for ident, flag in zip(table.column("id").to_pylist(), flags):
        entry = per_region.setdefault(str(region_of.get(ident)), {"total": 0, "isolated": 0})
        entry["total"] += 1
        entry["isolated"] += int(flag)
    return IsolationResult(radius_m, len(flags), sum(flags), per_region)
