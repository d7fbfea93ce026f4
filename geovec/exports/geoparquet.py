"""GeoParquet 1.1 files written one row group at a time.

What a reader finds (https://geoparquet.org/releases/v1.1.0/):

- ``geometry``: WKB (the ``geo`` metadata's ``encoding``), in OGC:CRS84 (lon, lat decimal
  degrees; ``crs`` is left out, which the specification reads as OGC:CRS84), planar edges;
- ``bbox``: the bbox covering column, a struct of float64 ``xmin``, ``ymin``, ``xmax``,
  ``ymax`` per row, named in the geometry column's ``covering``: Parquet keeps min/max
  statistics of each of its fields per row group, so DuckDB, GDAL and geopandas skip the
  row groups a bounding-box filter cannot match (rows should come in spatial order for
  that to prune: :mod:`geovec.exports.tables` sorts them on a Hilbert curve);
- the ``geo`` key in the file's key-value metadata: version ``1.1.0``, ``primary_column``,
  and per geometry column its encoding, geometry types, bbox of the whole file and
  covering. It is written when the file is closed, once every row's box is known.

Rows without a position keep a null geometry and a null bbox (allowed by the
specification).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

GEOPARQUET_VERSION = "1.1.0"
GEOMETRY = "geometry"
BBOX = "bbox"
BBOX_TYPE = pa.struct([(name, pa.float64()) for name in ("xmin", "ymin", "xmax", "ymax")])
MEDIA_TYPE = "application/vnd.apache.parquet"
"""The media type GeoParquet 1.1 recommends (and STAC uses) for a GeoParquet file."""


def bbox_column(xmin, ymin, xmax, ymax) -> pa.StructArray:
    """The covering column for per-row boxes (decimal degrees; NaN where a row has no
    geometry, which becomes a null box)."""
    parts = [np.asarray(v, np.float64) for v in (xmin, ymin, xmax, ymax)]
    missing = ~np.isfinite(np.column_stack(parts)).all(axis=1)
    fields = [pa.array(np.where(missing, 0.0, p)) for p in parts]
    return pa.StructArray.from_arrays(
        fields, fields=list(BBOX_TYPE), mask=pa.array(missing) if missing.any() else None
    )


def geometry_column(geometries) -> tuple[pa.Array, pa.StructArray]:
    """(WKB column, bbox covering column) of shapely geometries (None or empty: null)."""
    geometries = np.asarray(geometries, dtype=object)
    missing = np.array([g is None or g.is_empty for g in geometries], bool)
    wkb = np.full(len(geometries), None, dtype=object)
    boxes = np.full((len(geometries), 4), np.nan)
    if (~missing).any():
        present = geometries[~missing]
        wkb[~missing] = shapely.to_wkb(present)
        boxes[~missing] = shapely.bounds(present)
    return pa.array(wkb.tolist(), pa.binary()), bbox_column(*boxes.T)


def point_columns(lon, lat) -> tuple[pa.Array, pa.StructArray]:
    """(WKB points, bbox covering) of lon/lat arrays (decimal degrees; NaN or None: null)."""
    lon = np.asarray([np.nan if v is None else v for v in lon], np.float64)
    lat = np.asarray([np.nan if v is None else v for v in lat], np.float64)
    known = np.isfinite(lon) & np.isfinite(lat)
    wkb = np.full(len(lon), None, dtype=object)
    if known.any():
        wkb[known] = shapely.to_wkb(shapely.points(lon[known], lat[known]))
    lon, lat = np.where(known, lon, np.nan), np.where(known, lat, np.nan)
    return pa.array(wkb.tolist(), pa.binary()), bbox_column(lon, lat, lon, lat)


def geo_metadata(geometry_types: list[str], bbox: list[float] | None) -> dict:
    """The ``geo`` file metadata of a file whose ``geometry`` column holds these types
    (e.g. ``["Point"]``) within ``bbox`` (west, south, east, north; None when no row has a
    geometry)."""
    column = {
        "encoding": "WKB",
        "geometry_types": sorted(geometry_types),
        "covering": {"bbox": {name: [BBOX, name] for name in ("xmin", "ymin", "xmax", "ymax")}},
    }
    if bbox is not None:
        column["bbox"] = [float(v) for v in bbox]
    return {
        "version": GEOPARQUET_VERSION,
        "primary_column": GEOMETRY,
        "columns": {GEOMETRY: column},
    }


class GeoParquetWriter:
    """A GeoParquet 1.1 file written one row group per :meth:`write` (a table whose
    ``geometry`` column is WKB and whose ``bbox`` column is the covering struct, as
    :func:`point_columns` and :func:`geometry_column` make them). The ``geo`` metadata
    (the file's ``geometry_types`` and ``bbox``, known before the rows are) and
    ``metadata`` (text keys, JSON values) go into the schema's metadata, so both the
    Parquet footer and the Arrow schema stored in it carry them. Use as a context
    manager; a file left unfinished by an error is removed."""

    def __init__(
        self,
        path: str | Path,
        schema: pa.Schema,
        geometry_types: list[str],
        bbox: list[float] | None,
        metadata: dict | None = None,
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.bbox = bbox
        extra = {key: json.dumps(value) for key, value in (metadata or {}).items()}
        geo = json.dumps(geo_metadata(geometry_types, bbox))
        self.schema = schema.with_metadata({**extra, "geo": geo})
        self.rows = 0
        self.row_groups = 0
        self._writer = pq.ParquetWriter(
            self.path, self.schema, compression="zstd", write_statistics=True
        )

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (the writer's columns) as one row group."""
        if table.num_rows == 0:
            return
        table = table.select(self.schema.names).cast(self.schema)
        self._writer.write_table(table, row_group_size=table.num_rows)
        self.rows += table.num_rows
        self.row_groups += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> GeoParquetWriter:
        return self

    def __exit__(self, kind, exc, trace) -> None:
        self._writer.close()
        if kind is not None:
            self.path.unlink(missing_ok=True)


def extent(boxes: np.ndarray) -> list[float] | None:
    """west, south, east, north of (N, 4) boxes (xmin, ymin, xmax, ymax; NaN rows left
    out); None when no box is finite."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if not len(boxes):
        return None
    return [
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    ]


def read_geo_metadata(path: str | Path) -> tuple[dict, dict]:
    """(the ``geo`` metadata, the other JSON metadata keys) of a Parquet file's footer;
    ({}, {}) for plain Parquet."""
    metadata = pq.ParquetFile(path).metadata.metadata or {}
    out = {}
    for key, value in metadata.items():
        name = key.decode()
        if name.startswith("ARROW:") or name == "pandas":
            continue
        try:
            out[name] = json.loads(value)
        except ValueError:
            continue
    return out.pop("geo", {}), out
