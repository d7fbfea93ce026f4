"""A store's table as a GeoParquet 1.1 file (``geovec export DB --view V --out F.parquet``).

Each row is one image of the view: its columns (id, region, path, lon, lat, ...), its
position as a WKB point in ``geometry`` (OGC:CRS84, lon/lat decimal degrees), the ``bbox``
covering column, and the chosen feature columns as fixed-size float32 lists, each field
keeping its provenance (the ``geovec`` field metadata of the store). The file's ``geovec``
metadata key holds the view, geovec's version and, per feature, its length, data type and
provenance.

Rows are written in the order of a Hilbert curve over the view's extent (DuckDB spatial's
``ST_Hilbert``, sql/hilbert_order.sql), rows without a position last, one row group per
:func:`row_group_rows` rows: row groups then cover small, mostly disjoint areas, so a
bounding-box filter on ``bbox`` skips most of them. The file is streamed: only the row ids
with their positions (24 bytes a row) are read at once; the rows themselves are taken
from the Lance table one row group at a time, from the table version the export began on.

>>> summary = export(demo_store, demo_tmp / "map.parquet", view="map", features=["gist"])
>>> summary.rows == demo_store.count("map"), summary.features
(True, {'gist': 512})
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa

from geovec.counts import count
from geovec.defaults import __version__
from geovec.errors import ExportError
from geovec.exports.geoparquet import (
    BBOX,
    BBOX_TYPE,
    GEOMETRY,
    GeoParquetWriter,
    extent,
    point_columns,
)
from geovec.store import Store
from geovec.store.queries import run_query
from geovec.store.schema import BASE_SCHEMAS, VIEWS

ROW_GROUP_BYTES = 128 * 2**20
"""Uncompressed bytes a row group aims at (GeoParquet's guidance: 100-200 MB or so)."""
MAX_ROW_GROUP_ROWS = 65_536
MIN_ROW_GROUP_ROWS = 1_024


@dataclasses.dataclass
class TableExport:
    """What :func:`export` wrote: ``rows`` (``located`` of them with a position) in
    ``row_groups`` row groups; ``bbox`` west, south, east, north (decimal degrees) of the
    located rows (None when none is); ``features`` name -> length."""

    path: Path
    view: str
    rows: int
    located: int
    row_groups: int
    features: dict[str, int]
    bbox: list[float] | None

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["path"] = str(self.path)
        return out

    def summary(self) -> str:
        features = ", ".join(f"{n} ({d})" for n, d in self.features.items()) or "no features"
        return (
            f"wrote {self.path}: {count(self.rows, f'{self.view} row')} ({self.located} "
            f"located), {count(self.row_groups, 'row group')}, {features}"
        )


def row_group_rows(dimensions: list[int]) -> int:
    """Rows per row group for rows holding features of these lengths: about
    :data:`ROW_GROUP_BYTES` uncompressed, between 1,024 and 65,536 rows."""
    row_bytes = 128 + 4 * sum(dimensions)
    return int(min(MAX_ROW_GROUP_ROWS, max(MIN_ROW_GROUP_ROWS, ROW_GROUP_BYTES // row_bytes)))


def export(
    store: Store,
    out: str | Path,
    *,
    view: str = "ground",
    features: list[str] | None = None,
    rows_per_group: int | None = None,
) -> TableExport:
    """Write table ``view`` of the store to ``out`` as GeoParquet 1.1 (the module docstring).

    Args:
      features: feature columns to include (default: every feature the view holds; ``[]``:
        none).
      rows_per_group: rows per row group (default: :func:`row_group_rows`).

    Raises:
      ExportError: an unknown view, an empty one, a path that does not end in .parquet.
      FeatureMissingError: the view lacks one of ``features``.
    """
    out = Path(out)
    if out.suffix.lower() not in (".parquet", ".geoparquet"):
        raise ExportError(f"{out}: a GeoParquet export is named .parquet")
    if view not in VIEWS:
        raise ExportError(f"unknown view {view!r}; export one of {', '.join(VIEWS)}")
    if not store.has(view) or store.count(view) == 0:
        raise ExportError(f"{store.path} has no {view} rows to export")
    dims = store.features(view)
    names = list(dims) if features is None else list(dict.fromkeys(features))
    for name in names:
        store.require_feature(view, name)
    if rows_per_group is not None and rows_per_group < 1:
        raise ExportError(f"rows per row group must be at least 1, got {rows_per_group}")
    group = rows_per_group or row_group_rows([dims[n] for n in names])

    table = store.table(view)
    table.checkout(table.version)  # one version throughout, whatever is appended meanwhile
    order, bbox = _hilbert_order(store, table)
    base = [f for f in BASE_SCHEMAS[view] if f.name != "geom"]
    stored = table.schema
    schema = pa.schema(
        [
            *base,
            pa.field(GEOMETRY, pa.binary()),
            pa.field(BBOX, BBOX_TYPE),
            *(stored.field(n).with_nullable(True) for n in names),
        ]
    )
    metadata = {"geovec": _metadata(store, view, names, dims)}
    columns = [f.name for f in base] + names
    located = 0
    with GeoParquetWriter(out, schema, ["Point"], bbox, metadata) as writer:
        for start in range(0, len(order), group):
            ids = order[start : start + group]
            rows = table.take_row_ids(ids.tolist()).select(columns).with_row_id().to_arrow()
            at = np.argsort(rows.column("_rowid").to_numpy())
            rows = rows.take(at[np.searchsorted(rows.column("_rowid").to_numpy()[at], ids)])
            geometry, boxes = point_columns(
                rows.column("lon").to_pylist(), rows.column("lat").to_pylist()
            )
            located += len(geometry) - geometry.null_count
            arrays = {name: rows.column(name) for name in columns}
            arrays.update({GEOMETRY: geometry, BBOX: boxes})
            writer.write(pa.table([arrays[n] for n in schema.names], schema=schema))
    return TableExport(
        out, view, writer.rows, located, writer.row_groups, {n: dims[n] for n in names}, bbox
    )


def _hilbert_order(store: Store, table) -> tuple[np.ndarray, list[float] | None]:
    """(the table's row ids in Hilbert order over its extent, rows without a position
    last; that extent: west, south, east, north, None when no row has a position)."""
    points = table.search().select(["lon", "lat"]).with_row_id(True).limit(None).to_arrow()
    points = points.rename_columns(["lon", "lat", "row_id"]).select(["row_id", "lon", "lat"])
    lon = points.column("lon").to_numpy(zero_copy_only=False).astype(float)
    lat = points.column("lat").to_numpy(zero_copy_only=False).astype(float)
    box = _curve_box(lon, lat)
    with store.cursor() as con:
        con.register("points", points)
        try:
            ordered = run_query(con, "hilbert_order", **box)
        finally:
            con.unregister("points")
    return ordered.column("row_id").to_numpy().astype(np.uint64), extent(
        np.column_stack([lon, lat, lon, lat])
    )


def _curve_box(lon: np.ndarray, lat: np.ndarray) -> dict[str, float]:
    """The box the curve fills: the points' extent, widened so that it is never empty."""
    known = np.isfinite(lon) & np.isfinite(lat)
    if not known.any():
        return {"west": -180.0, "south": -90.0, "east": 180.0, "north": 90.0}
    west, east = float(lon[known].min()), float(lon[known].max())
    south, north = float(lat[known].min()), float(lat[known].max())
    pad = max(east - west, north - south, 1e-6) * 1e-6
    return {"west": west - pad, "south": south - pad, "east": east + pad, "north": north + pad}


def _metadata(store: Store, view: str, names: list[str], dims: dict[str, int]) -> dict:
    return {
        "geovec_version": __version__,
        "store": str(Path(store.path).resolve()),
        "view": view,
        "order": "hilbert",
        "features": {
            name: {
                "dimensions": dims[name],
                "data_type": "float32",
                "provenance": store.provenance(view, name),
            }
            for name in names
        },
    }
