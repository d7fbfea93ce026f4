"""Per-region facts that several analyses share: each region's metric frame (for figures
drawn in metres), and which map tile's footprint contains a point (the one geodesy of
:mod:`geovec.geodesy`, exact anywhere: no region frame is involved)."""

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
    points: list[tuple[str, float, float]],
    *,
    region: str | None = None,
    all_regions: bool = False,
) -> dict[str, str]:
    """{point id: id of the map tile whose footprint contains it} for (id, lon, lat) points
    in decimal degrees, among the tiles of ``region`` (None: tiles without a region) or of
    every region (``all_regions``); points without a position or outside every footprint
    are left out."""
    points = [p for p in points if p[1] is not None and p[2] is not None]  # located only
    if not points:
        return {}
    ids, lons, lats = (list(column) for column in zip(*points))
    rows = run_query(
        con,
        "containing_tiles",
        region=region,
        all_regions=all_regions,
        ids=[str(i) for i in ids],
        lons=[float(v) for v in lons],
        lats=[float(v) for v in lats],
    )
    return dict(zip(rows.column("id").to_pylist(), rows.column("tile_id").to_pylist()))
