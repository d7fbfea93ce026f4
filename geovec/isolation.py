"""The isolation filter: ground images with no other ground image within a radius become
the test set (``isolated = true``, ``split = 'test'``); the rest are training images.

>>> result = isolate(geovec.open("geo"), radius_m=500)     # doctest: +SKIP
>>> result.isolated, result.total
(57, 838)
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa

from geovec.errors import GeovecError
from geovec.grid import local_proj
from geovec.sql import connect, run_query
from geovec.store import Store

DEFAULT_RADIUS_M = 250.0


@dataclasses.dataclass
class IsolationResult:
    """How many ground images are isolated, per region and in all."""

    radius_m: float
    total: int
    isolated: int
    regions: dict[str, dict[str, int]]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def region_frames(con) -> list[tuple[str | None, str]]:
    """(region, metric CRS proj string) for each region of ``ground``."""
    rows = run_query(con, "regions").to_pylist()
    return [(r["region"], local_proj(r["lon"], r["lat"])) for r in rows]


def isolation_table(con, radius_m: float) -> pa.Table:
    """id, isolated, neighbours, nearest_m for every ground image, region by region."""
    parts = [
        run_query(con, "isolated_images", radius_m=float(radius_m), crs=crs, region=region)
        for region, crs in region_frames(con)
    ]
    return pa.concat_tables(parts) if parts else None


def isolate(store: Store, radius_m: float = DEFAULT_RADIUS_M) -> IsolationResult:
    """Mark isolated ground images (no other ground image within ``radius_m`` metres) and
    set ``split`` to ``test`` for them and ``train`` for the others."""
    if not radius_m > 0:
        raise GeovecError(f"the isolation radius must be positive metres, got {radius_m}")
    if not store.count("ground"):
        raise GeovecError(f"{store.path} has no ground images; run geovec ingest first")
    with connect(store) as con:
        table = isolation_table(con, radius_m)
        regions = con.execute("SELECT id, region FROM ground").to_arrow_table()
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
