"""Published embeddings in: a (Geo)Parquet file of vectors with positions becomes a feature
column of one view, as if geovec had computed it, with no image behind any row.

The file is read in batches (:meth:`pyarrow.parquet.ParquetFile.iter_batches`), only the
columns it needs, each batch one :meth:`~geovec.store.Store.append`: memory stays about one
batch whatever the file's size, and a run stopped at any moment resumes where it stopped
(ids already stored are skipped), as the image ingest does.

Which column means what, when not told (the first present wins):

- vector: ``embedding``, ``embeddings``, ``vector``, else the only column that is a list of
  floats. A list or fixed-size list of float16, float32 or float64 (stored as float32); a
  list holding one list (Major TOM's ``Array2D(1, D)``) is unwrapped.
- id: ``id``, ``unique_id``; without one, ``<file stem>:<row number>``.
- position: the GeoParquet primary geometry column (the ``geo`` metadata: WKB, or the
  GeoParquet 1.1 native ``point``/``polygon``/``multipoint``/``multipolygon`` encodings,
  in the column's CRS, transformed to WGS84); else ``lon``/``lat``, ``longitude``/
  ``latitude``, ``centre_lon``/``centre_lat``, ``center_lon``/``center_lat`` (WGS84
  decimal degrees); else a ``geometry`` or ``geom`` WKB column without metadata, taken as
  GeoParquet's default CRS (OGC:CRS84: lon, lat).
- a polygon's position is its centroid (computed in the file's CRS, then transformed), and
  its size (``size_m`` of a map row) the side of the square of equal geodesic area on the
  WGS84 ellipsoid; ``--size-m`` gives every map row one size instead; else a ``size_m``
  column.
- ``region``, ``pair``, ``split`` columns of those names.

A bad row becomes a ``failures`` row (path ``<file name>#<id>``) and the rest go on: stage
``embeddings`` for a missing vector, one of another length, or one holding NaN or infinity
(:func:`geovec.store.finite.nonfinite_rows`); stage ``manifest`` for a missing id or a
missing or impossible position where the view needs one (map rows always, ground and
overhead rows unless they name a ``pair``, as pair-only datasets do), or a map row without
a size. The feature column's metadata records each imported file: its name and sha256,
the columns used and the CRS. A second file under the same feature name adds its rows; one
whose vectors have another length is refused.

>>> import pyarrow as pa, pyarrow.parquet as pq
>>> table = pa.table({"id": ["a", "b"], "lon": [10.0, 10.01], "lat": [45.0, 45.0],
...                   "embedding": [[0.0, 1.0], [1.0, float("nan")]]})
>>> pq.write_table(table, demo_tmp / "vectors.parquet")
>>> summary = ingest_embeddings(geovec.open(demo_tmp / "db"), demo_tmp / "vectors.parquet",
...                             view="ground", feature="toy")
>>> summary.ingested, summary.failed
(1, 1)
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyproj import CRS

from geovec.defaults import __version__
from geovec.errors import ManifestError
from geovec.features.names import known_features
from geovec.ingestion.geoparquet import (
    CRS84,
    NATIVE_ENCODINGS,
    Positions,
    column_crs,
    crs_name,
    floats,
    geo_metadata,
    storage,
)
from geovec.ingestion.links import link_pairs
from geovec.ingestion.records import Failure
from geovec.ingestion.run import IngestSummary
from geovec.progress import ProgressReporter
from geovec.store import Store
from geovec.store.database import removes_new_store_on_failure
from geovec.store.finite import nonfinite_rows
from geovec.store.regions import stored_region
from geovec.store.schema import BASE_SCHEMAS, VIEWS, feature_field, point_wkb, vectors_to_arrow

BATCH_ROWS = 4096
"""Rows read, checked and committed at once."""
VECTOR_COLUMNS = ("embedding", "embeddings", "vector")
ID_COLUMNS = ("id", "unique_id")
LONLAT_COLUMNS = (
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("centre_lon", "centre_lat"),
    ("center_lon", "center_lat"),
)
GEOMETRY_COLUMNS = ("geometry", "geom")
"""WKB columns taken without ``geo`` metadata (then in OGC:CRS84)."""
EMBEDDINGS_STAGE = "embeddings"
"""The failure stage of a row whose vector is missing, of another length or not finite."""
MANIFEST_STAGE = "manifest"
"""The failure stage of a row without an id, or without a position or size it needs."""
IMPORTED = "published embeddings"
"""The ``imported`` value of an imported feature's provenance."""
_FEATURE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which columns of an embeddings file mean what, and the CRS of its geometry."""

    vector: str
    id: str | None = None
    geometry: str | None = None
    encoding: str | None = None  # WKB or a native encoding; None without a geometry column
    crs: CRS | None = None  # of the geometry column
    crs_source: str = ""  # where the CRS was read from
    polygons: bool = False  # the geometry may hold polygons (what the metadata declares)
    lon: str | None = None
    lat: str | None = None
    size: str | None = None  # a size_m column of the file
    region: str | None = None
    pair: str | None = None
    split: str | None = None

    def columns(self) -> list[str]:
        """The file's columns to read, each once."""
        names = [self.vector, self.id, self.geometry, self.lon, self.lat, self.size]
        names += [self.region, self.pair, self.split]
        return list(dict.fromkeys(n for n in names if n))

    def described(self) -> str:
        """e.g. ``vector=embedding, id=unique_id, geometry=geometry (WKB)``."""
        parts = [f"vector={self.vector}", f"id={self.id or '<file stem>:<row number>'}"]
        if self.geometry:
            parts.append(f"geometry={self.geometry} ({self.encoding})")
        else:
            parts.append(f"lon={self.lon}, lat={self.lat}")
        parts += [
            f"{k}={getattr(self, k)}"
            for k in ("size", "region", "pair", "split")
            if getattr(self, k)
        ]
        return ", ".join(parts)


def _is_list(t: pa.DataType) -> bool:
    t = storage(t)
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _innermost(t: pa.DataType) -> pa.DataType:
    t = storage(t)
    while _is_list(t):
        t = storage(t.value_type)
    return t


def _is_float_list(t: pa.DataType) -> bool:
    return _is_list(t) and pa.types.is_floating(_innermost(t))


def _declared_dim(t: pa.DataType) -> int | None:
    """The vector length a fixed-size list type declares (innermost level), else None."""
    t = storage(t)
    while _is_list(storage(t.value_type)):
        t = storage(t.value_type)
    return t.list_size if pa.types.is_fixed_size_list(t) else None


def _pick(schema: pa.Schema, given: str | None, defaults: Sequence[str], what: str, source):
    """The column ``given`` (which must exist), else the first of ``defaults`` present."""
    if given is not None:
        if given not in schema.names:
            raise ManifestError(
                f"{source} has no column {given!r} (--{what}-column); it has: "
                f"{', '.join(schema.names)}"
            )
        return given
    return next((c for c in defaults if c in schema.names), None)


def read_layout(
    schema: pa.Schema,
    source: Path,
    *,
    view: str,
    vector_column: str | None = None,
    id_column: str | None = None,
    geometry_column: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    region_column: str | None = None,
    pair_column: str | None = None,
    split_column: str | None = None,
) -> Layout:
    """The :class:`Layout` of a file's ``schema``: the columns given, else the defaults of
    the module. ManifestError in one line for a column that is missing or of a type that
    cannot be read."""
    if geometry_column is not None and (lon_column or lat_column):
        raise ManifestError("give --geometry-column or --lon-column/--lat-column, not both")
    if (lon_column is None) != (lat_column is None):
        raise ManifestError("give both --lon-column and --lat-column")
    vector = _pick(schema, vector_column, VECTOR_COLUMNS, "vector", source)
    if vector is None:
        lists = [f.name for f in schema if _is_float_list(f.type)]
        if len(lists) != 1:
            raise ManifestError(
                f"{source}: which column holds the vectors? name it with --vector-column "
                f"(no column is named {', '.join(VECTOR_COLUMNS)}; lists of floats: "
                f"{', '.join(lists) or 'none'})"
            )
        vector = lists[0]
    vector_type = schema.field(vector).type
    if not _is_float_list(vector_type):
        raise ManifestError(
            f"{source}: column {vector!r} holds {vector_type}, not a list of float16, float32 "
            "or float64 (dequantize integer embeddings first)"
        )
    columns: dict = {
        "vector": vector,
        "id": _pick(schema, id_column, ID_COLUMNS, "id", source),
        "region": _pick(schema, region_column, ("region",), "region", source),
        "pair": _pick(schema, pair_column, ("pair",), "pair", source),
        "split": _pick(schema, split_column, ("split",), "split", source),
        "size": "size_m" if "size_m" in schema.names else None,
    }
    if lon_column is not None:
        _pick(schema, lon_column, (), "lon", source)
        _pick(schema, lat_column, (), "lat", source)
        return _numeric(Layout(**columns, lon=lon_column, lat=lat_column), schema, source)
    geo = geo_metadata(schema, source) or {}
    geo_columns = geo.get("columns") if isinstance(geo.get("columns"), dict) else {}
    geometry = _pick(schema, geometry_column, (), "geometry", source)
    if geometry is None and geo.get("primary_column") in schema.names:
        geometry = geo["primary_column"]
    if geometry is None:
        pair = next((p for p in LONLAT_COLUMNS if set(p) <= set(schema.names)), None)
        if pair is not None:
            return _numeric(Layout(**columns, lon=pair[0], lat=pair[1]), schema, source)
        geometry = next((c for c in GEOMETRY_COLUMNS if c in schema.names), None)
    if geometry is None:
        if view == "map" or columns["pair"] is None:
            raise ManifestError(
                f"{source}: no positions (no GeoParquet geometry, no lon/lat columns); name "
                "them with --geometry-column or --lon-column and --lat-column"
            )
        return _numeric(Layout(**columns), schema, source)  # pair-only rows: no position
    meta = geo_columns.get(geometry)
    types: list = []
    if isinstance(meta, dict):
        encoding = str(meta.get("encoding", "WKB"))
        crs, crs_source = column_crs(meta, geometry, source)
        types = meta.get("geometry_types") if isinstance(meta.get("geometry_types"), list) else []
    else:
        encoding, crs, crs_source = "WKB", CRS84, "assumed OGC:CRS84 (no geo metadata)"
    if encoding.lower() in NATIVE_ENCODINGS:
        types = [encoding]
    polygons = not types or any("polygon" in str(t).lower() for t in types)
    field_type = storage(schema.field(geometry).type)
    if encoding.upper() == "WKB":
        encoding = "WKB"
        if not (pa.types.is_binary(field_type) or pa.types.is_large_binary(field_type)):
            raise ManifestError(
                f"{source}: geometry column {geometry!r} holds {field_type}, not WKB binary"
            )
    elif encoding.lower() not in NATIVE_ENCODINGS:
        raise ManifestError(
            f"{source}: geometry encoding {encoding!r} of {geometry!r} is not read here "
            f"(WKB, {', '.join(NATIVE_ENCODINGS)})"
        )
    layout = Layout(
        **columns,
        geometry=geometry,
        encoding=encoding,
        crs=crs,
        crs_source=crs_source,
        polygons=polygons,
    )
    return _numeric(layout, schema, source)


def _numeric(layout: Layout, schema: pa.Schema, source: Path) -> Layout:
    """``layout``, once its lon, lat and size_m columns are known to hold numbers."""
    for name in (layout.lon, layout.lat, layout.size):
        kind = storage(schema.field(name).type) if name else None
        if kind is not None and not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise ManifestError(f"{source}: column {name!r} holds {kind}, not numbers")
    return layout


# one batch ----------------------------------------------------------------------------


def _text_column(batch: pa.RecordBatch, name: str | None) -> list[str | None]:
    if name is None:
        return [None] * batch.num_rows
    values = pc.cast(storage(batch.column(name)), pa.string()).to_pylist()
    return [None if v is None or v == "" else v for v in values]


def _lengths(column: pa.Array) -> np.ndarray:
    """Each list's length, -1 for a null one."""
    return pc.fill_null(pc.list_value_length(column), -1).to_numpy(zero_copy_only=False)


def _unwrap(column: pa.Array, rows: np.ndarray, reasons: list) -> tuple[pa.Array, np.ndarray]:
    """Lists of one list (Major TOM's Array2D(1, D)) as that list, down to lists of floats;
    rows holding another number of lists get a reason."""
    column = storage(column)
    while _is_list(storage(column.type.value_type)):
        lengths = _lengths(column)
        for i in np.flatnonzero(lengths != 1):
            reasons[rows[i]] = (
                "no vector" if lengths[i] < 0 else f"a list of {lengths[i]} vectors, not one"
            )
        keep = lengths == 1
        column, rows = storage(column.filter(pa.array(keep)).flatten()), rows[keep]
    return column, rows


def vector_lengths(column: pa.Array) -> np.ndarray:
    """Each row's vector length (-1 where there is none), lists of one list unwrapped."""
    reasons: list = [None] * len(column)
    inner, rows = _unwrap(column, np.arange(len(column)), reasons)
    out = np.full(len(column), -1)
    out[rows] = _lengths(inner)
    return out


def vector_rows(column: pa.Array, dim: int) -> tuple[np.ndarray, list[str | None]]:
    """(N, ``dim``) float32 matrix of a column of vectors, and per row the reason it cannot
    be used (None where it can): no vector, another length, NaN or infinity (the row of
    the matrix is zeros then)."""
    n = len(column)
    reasons: list[str | None] = [None] * n
    matrix = np.zeros((n, dim), np.float32)
    inner, rows = _unwrap(column, np.arange(n), reasons)
    lengths = _lengths(inner)
    for i in np.flatnonzero(lengths != dim):
        reasons[rows[i]] = "no vector" if lengths[i] < 0 else f"{lengths[i]} values, not {dim}"
    keep = lengths == dim
    good = rows[keep]
    if len(good):
        values = inner.filter(pa.array(keep)).flatten().to_numpy(zero_copy_only=False)
        with np.errstate(over="ignore"):  # float64 beyond float32's range: infinity, refused
            matrix[good] = values.reshape(len(good), dim).astype(np.float32)
        for i in good[nonfinite_rows(matrix[good])]:
            reasons[i] = "NaN or infinity in the vector"
            matrix[i] = 0
    return matrix, reasons


# the import -----------------------------------------------------------------------------


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The sha256 of a file, read a MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _check_feature(store: Store, view: str, feature: str) -> int | None:
    """The length of ``feature`` in ``view`` when it exists and was imported; a one-line
    error when its name cannot be a feature or it was computed by geovec."""
    if not _FEATURE_NAME.fullmatch(feature):
        raise ManifestError(
            f"--feature {feature!r}: a feature name is letters, digits and _ (e.g. clay_v1)"
        )
    if feature in BASE_SCHEMAS[view].names:
        raise ManifestError(f"--feature {feature!r} is a column of every {view} row; pick another")
    if feature in known_features():
        raise ManifestError(
            f"--feature {feature!r} is a feature geovec computes from images; import the file "
            "under another name (compare them with --ground-feature/--overhead-feature)"
        )
    dim = store.features(view).get(feature)
    if dim is None:
        if store.has(view) and feature in store.table(view).schema.names:
            raise ManifestError(f"{view}.{feature} exists and is not a feature column")
        return None
    if store.provenance(view, feature).get("imported") != IMPORTED:
        raise ManifestError(
            f"{view}.{feature} is computed by geovec from images; import the file under "
            "another --feature name"
        )
    return dim


def _file_dim(pf: pq.ParquetFile, layout: Layout, source: Path) -> int | None:
    """The file's vector length: what its type declares, else the commonest length of the
    first rows that have one; None for a file without vectors."""
    declared = _declared_dim(pf.schema_arrow.field(layout.vector).type)
    if declared is not None:
        return declared
    for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=[layout.vector]):
        lengths = vector_lengths(batch.column(0))
        lengths = lengths[lengths > 0]
        if len(lengths):
            return int(collections.Counter(lengths.tolist()).most_common(1)[0][0])
    return None


def _provenance(source: Path, sha256: str, layout: Layout, vector_type, size_m) -> dict:
    if size_m is not None:
        size = f"--size-m {size_m:g}"
    elif layout.geometry:
        size = "polygons: the side of the square of equal WGS84 geodesic area"
        size += "; points: the size_m column" if layout.size else ""
    else:
        size = "the size_m column" if layout.size else "none"
    crs = (
        f"{crs_name(layout.crs)} ({layout.crs_source}), transformed to WGS84 lon/lat"
        if layout.crs is not None
        else "WGS84 lon/lat columns"
    )
    return {
        "file": source.name,
        "sha256": sha256,
        "columns": layout.described(),
        "crs": crs,
        "vector_type": str(vector_type),
        "size_m": size,
    }


def _record_provenance(store: Store, view: str, feature: str, entry: dict) -> None:
    """Add ``entry`` (one file) to the imported feature's provenance (once per sha256)."""
    meta = store.provenance(view, feature)
    files = json.loads(meta.get("files", "[]"))
    if any(f.get("sha256") == entry["sha256"] for f in files):
        return
    files.append(entry)
    meta.update(_summary_provenance(files))
    store.set_field_metadata(view, feature, {"geovec": json.dumps(meta)})


def _summary_provenance(files: list[dict]) -> dict[str, str]:
    return {
        "geovec_version": __version__,
        "imported": IMPORTED,
        "source_file": "; ".join(f["file"] for f in files),
        "source_sha256": "; ".join(f["sha256"] for f in files),
        "columns": files[-1]["columns"],
        "crs": files[-1]["crs"],
        "files": json.dumps(files),
    }


@removes_new_store_on_failure
def ingest_embeddings(
    store: Store,
    source: str | Path,
    *,
    view: str,
    feature: str,
    vector_column: str | None = None,
    id_column: str | None = None,
    geometry_column: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    size_m: float | None = None,
    region_column: str | None = None,
    pair_column: str | None = None,
    split_column: str | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: bool = False,
) -> IngestSummary:
    """Import a (Geo)Parquet file of published embeddings as feature ``feature`` of
    ``view`` (ground, overhead or map): rows without images (``path`` null) that every
    analysis needing only vectors and positions uses like computed ones. Columns are
    found as the module says unless named; ``size_m``: the side of every map row,
    metres (default: each polygon's equal-area side, else the file's ``size_m``).

    Raises:
      ManifestError: in one line, before anything is written: the file cannot be read,
        a column is missing or of a type that cannot be read, the view or feature name is
        not allowed, the feature exists with another length or was computed by geovec,
        or map rows would have no size.
    """
    started = time.perf_counter()
    source = Path(source)
    if view not in VIEWS:
        raise ManifestError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
    if size_m is not None and not (np.isfinite(size_m) and size_m > 0):
        raise ManifestError(f"--size-m must be a positive number of metres, got {size_m}")
    if batch_rows < 1:
        raise ManifestError(f"batch_rows must be at least 1, got {batch_rows}")
    if not source.is_file():
        raise ManifestError(f"{source}: no such file")
    try:
        pf = pq.ParquetFile(source, pre_buffer=False)  # pre-buffering reads the whole file
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"{source}: not a Parquet file ({str(exc).splitlines()[0]})") from None
    layout = read_layout(
        pf.schema_arrow,
        source,
        view=view,
        vector_column=vector_column,
        id_column=id_column,
        geometry_column=geometry_column,
        lon_column=lon_column,
        lat_column=lat_column,
        region_column=region_column,
        pair_column=pair_column,
        split_column=split_column,
    )
    if view == "map" and size_m is None and layout.size is None and not layout.polygons:
        raise ManifestError(
            f"{source}: map rows need a footprint: polygons, a size_m column, or --size-m M"
        )
    stored_dim = _check_feature(store, view, feature)
    dim = _file_dim(pf, layout, source)
    if dim is None:
        dim = stored_dim
    if stored_dim is not None and dim != stored_dim:
        raise ManifestError(
            f"{source}: its vectors have {dim} values; {view}.{feature} has {stored_dim} "
            "(import it under another --feature name)"
        )
    if dim is None:  # no vector at all, and nothing stored: nothing to do
        return IngestSummary(0, 0, 0, [feature], time.perf_counter() - started)
    entry = _provenance(
        source, file_sha256(source), layout, pf.schema_arrow.field(layout.vector).type, size_m
    )
    if stored_dim is None:
        field = feature_field(feature, dim, _summary_provenance([entry]))
        store.ensure_features(view, [field])
        if store.provenance(view, feature).get("imported") != IMPORTED:  # another writer's
            raise ManifestError(f"{view}.{feature} appeared meanwhile, computed by geovec")
    _record_provenance(store, view, feature, entry)
    positions = Positions(layout.geometry, layout.encoding, layout.crs, layout.lon, layout.lat)
    ingested = skipped = failed = 0
    claims: dict[str, str] = {}  # {ground id: overhead id} from overhead rows' pair
    offset = 0
    with ProgressReporter(
        f"import {view}.{feature}", pf.metadata.num_rows, enabled=progress, unit="rows"
    ) as bar:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=layout.columns()):
            rows, pairs, failures, repeated = _batch_rows(
                batch, offset, source, layout, positions, view, feature, dim, size_m
            )
            offset += batch.num_rows
            if view == "overhead":
                for ident, pair in zip(rows.column("id").to_pylist(), pairs):
                    if pair:
                        claims.setdefault(pair, ident)
            written = store.append(view, rows) if rows.num_rows else 0
            store.record_failures([f.row() for f in failures])
            ingested += written
            skipped += rows.num_rows - written + repeated
            failed += len(failures)
            bar.advance(batch.num_rows)
    linked = link_pairs(store, claims)
    return IngestSummary(
        ingested, skipped, failed, [feature], time.perf_counter() - started, linked=linked
    )


def _batch_rows(
    batch: pa.RecordBatch,
    offset: int,
    source: Path,
    layout: Layout,
    positions: Positions,
    view: str,
    feature: str,
    dim: int,
    size_m: float | None,
) -> tuple[pa.Table, list, list[Failure], int]:
    """The rows of one batch to append (a table of ``view``'s schema plus ``feature``),
    their pairs, the failures, and how many rows repeated an id seen earlier in the
    batch (skipped as stored: the first one is)."""
    n = batch.num_rows
    if layout.id:
        ids = _text_column(batch, layout.id)
    else:
        ids = [f"{source.stem}:{offset + i}" for i in range(n)]
    lon, lat, polygon_size, geometry_reasons = positions.read(batch, sizes=view == "map")
    size = np.full(n, np.nan)
    if view == "map":
        size = floats(batch, layout.size) if layout.size else size
        size = np.where(np.isfinite(polygon_size), polygon_size, size)
        if size_m is not None:
            size = np.full(n, float(size_m))
    pair = _text_column(batch, layout.pair)
    region = [stored_region(v) for v in _text_column(batch, layout.region)]
    matrix, vector_reasons = vector_rows(batch.column(layout.vector), dim)
    located = np.isfinite(lon) & np.isfinite(lat)
    in_range = located & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    failures: list[Failure] = []
    keep: list[int] = []
    seen: set[str] = set()
    repeated = 0
    for i in range(n):
        where = f"{source.resolve()}#{ids[i] if ids[i] else f'row {offset + i + 1}'}"
        stage, reason = MANIFEST_STAGE, None
        if ids[i] is None:
            reason = "empty id"
        elif geometry_reasons[i]:
            reason = geometry_reasons[i]
        elif located[i] and not in_range[i]:
            reason = f"position {lon[i]:g}, {lat[i]:g} is outside lon [-180, 180], lat [-90, 90]"
        elif not located[i] and (view == "map" or pair[i] is None):
            reason = "no position" + ("" if view == "map" else " and no pair")
        elif view == "map" and not (np.isfinite(size[i]) and size[i] > 0):
            reason = "no size_m (give --size-m M)"
        elif vector_reasons[i]:
            stage, reason = EMBEDDINGS_STAGE, vector_reasons[i]
        if reason is not None:
            failures.append(Failure(where, view, stage, reason))
        elif ids[i] in seen:
            repeated += 1
        else:
            seen.add(ids[i])
            keep.append(i)
    picked = np.array(keep, np.int64)
    lon_kept = [float(lon[i]) if located[i] else None for i in keep]
    lat_kept = [float(lat[i]) if located[i] else None for i in keep]
    columns: dict[str, list] = {
        "id": [ids[i] for i in keep],
        "region": [region[i] for i in keep],
        "lon": lon_kept,
        "lat": lat_kept,
        "geom": point_wkb(lon_kept, lat_kept),
    }
    if view == "ground":
        columns["pair"] = [pair[i] for i in keep]
    if view in ("ground", "overhead"):
        split = _text_column(batch, layout.split)
        columns["split"] = [split[i] for i in keep]
    if view == "map":
        columns["size_m"] = [float(size[i]) for i in keep]
    schema = BASE_SCHEMAS[view]
    arrays, names = [], []
    for f in schema:
        values = columns.get(f.name) or [None] * len(keep)
        arrays.append(pa.array(values, f.type))
        names.append(f.name)
    arrays.append(vectors_to_arrow(matrix[picked] if len(keep) else np.zeros((0, dim))))
    names.append(feature)
    table = pa.Table.from_arrays(arrays, names=names)
    return table, [pair[i] for i in keep], failures, repeated


def require_computable(store: Store, view: str, feature: str, instead: str) -> None:
    """Nothing unless ``feature`` of ``view`` was imported (published embeddings): then a
    one-line GeovecError, since geovec cannot compute it for an image file; ``instead``
    says what to query with."""
    if feature in store.features(view) and store.provenance(view, feature).get("imported"):
        raise ManifestError(
            f"{view}.{feature} was imported (published embeddings): geovec cannot compute it "
            f"for an image file; {instead}"
        )
