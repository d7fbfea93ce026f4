"""Per-region facts that several analyses share: each region's metric frame, and which map
tile's footprint contains a point."""

from __future__ import annotations

import duckdb

from geovec.geo.grid import local_proj
from geovec.store.queries import run_query


def region_frames(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str]]:
    """(region, PROJ string of its metric CRS, an azimuthal equidistant projection centred
    on its ground images) for each region of ``ground``."""
    rows = run_query(con, "regions").to_pylist()
    return [(r["region"], local_proj(r["lon"], r["lat"])) for r in rows]


def containing_tiles(
    con: duckdb.DuckDBPyConnection,
    region: str | None,
    crs: str,
    points: list[tuple[str, float, float]],
) -> dict[str, str]:
    """{point id: id of the region's map tile whose footprint contains it} for (id, lon,
    lat) points in decimal degrees; points outside every footprint are left out."""
    if not points:
        return {}
    ids, lons, lats = (list(column) for column in zip(*points))
    rows = run_query(con, "containing_tiles", region=region, crs=crs, ids=ids, lons=lons, lats=lats)
    return dict(zip(rows.column("id").to_pylist(), rows.column("tile_id").to_pylist()))
