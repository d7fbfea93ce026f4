"""Where images and their locations come from: manifests (CSV, Parquet, GeoJSON) and
folders of images located by their EXIF GPS tags.

A manifest row names an image (``id``, ``path``, ``view``, ``lon``, ``lat``, ``region``;
optional ``source``, ``pair``, ``split``, ``size_m``, ``semi_pairs``); paths are relative
to the manifest's folder. Ground and overhead rows of pair-only datasets (a ``pair`` and no
lon/lat) keep null positions. Each row is validated on its own: a bad one becomes a
failure and the rest go on.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from geovec.errors import ManifestError
from geovec.ingestion.exif import read_folder
from geovec.ingestion.records import Failure, Record
from geovec.store.regions import stored_region
from geovec.store.schema import VIEWS

REQUIRED = ("id", "path", "lon", "lat")


def read_source(source: str | Path, view: str | None = None) -> tuple[list[Record], list[Failure]]:
    """Records and failures from a manifest file or an image folder.

    Args:
      source: a .csv, .parquet or .geojson manifest, or a folder of images with EXIF GPS.
      view: keep only this view (manifests); the view of every image (folders, default
        ground).
    """
    source = Path(source)
    if view is not None and view not in VIEWS:
        raise ManifestError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
    if source.is_dir():
        return read_folder(source, view or "ground")
    if not source.is_file():
        raise ManifestError(f"{source}: no such manifest or folder")
    rows = read_rows(source)
    records, failures = validate_rows(rows, source.parent)
    if view is not None:
        records = [r for r in records if r.view == view]
        failures = [f for f in failures if f.view in (view, "?")]
    return records, failures


def read_rows(path: Path) -> list[dict]:
    """The rows of a table file: CSV (text columns kept as text), Parquet or GeoJSON
    (a FeatureCollection of points: properties plus lon, lat)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={
                        c: pa.string()
                        for c in ("id", "path", "region", "source", "pair", "split", "view")
                    }
                ),
            )
            return table.to_pylist()
        if suffix == ".parquet":
            return pq.read_table(path).to_pylist()
        if suffix in (".geojson", ".json"):
            return _geojson_rows(path)
    except (pa.ArrowInvalid, OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read the manifest ({exc})") from exc
    raise ManifestError(f"{path}: a manifest must be .csv, .parquet or .geojson")


def _geojson_rows(path: Path) -> list[dict]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("type") != "FeatureCollection":
        raise ManifestError(f"{path}: GeoJSON manifests are FeatureCollections of points")
    rows = []
    for feature in doc.get("features", []):
        props = dict(feature.get("properties") or {})
        geometry = feature.get("geometry") or {}
        coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        props["lon"], props["lat"] = (
            (coords[0], coords[1]) if coords and len(coords) >= 2 else (None, None)
        )
        rows.append(props)
    return rows


def coordinate(value, low: float, high: float, name: str) -> float:
    """A finite number within [low, high], or ValueError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{name} {value!r} is outside [{low:g}, {high:g}]")
    return number


def _where(path, base: Path, number: int) -> str:
    """The ``path`` of a manifest row's failure: absolute, as the tables' paths are (the
    row's number when it has no path)."""
    if not path:
        return f"row {number}"
    try:
        return str((base / str(path)).resolve())
    except (OSError, ValueError):  # a path the system cannot resolve: as written
        return str(path)


def validate_rows(rows: list[dict], base: Path) -> tuple[list[Record], list[Failure]]:
    """Check manifest rows one by one; paths resolved against ``base``."""
    if rows:
        missing = [c for c in REQUIRED if c not in rows[0]]
        if missing:
            raise ManifestError(f"manifest lacks the column(s) {', '.join(missing)}")
    records, failures, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        view = str(row.get("view") or "ground")
        where = _where(row.get("path"), base, number)
        try:
            if view not in VIEWS:
                raise ValueError(f"unknown view {view!r}")
            ident = str(row.get("id") or "").strip()
            if not ident:
                raise ValueError("empty id")
            if (view, ident) in seen:
                raise ValueError(f"id {ident!r} repeated in view {view}")
            if not row.get("path"):
                raise ValueError("empty path")
            if _unlocated(row) and view != "map" and row.get("pair") not in (None, ""):
                lon = lat = None  # a pair-only dataset: the pair says where the image is
            else:
                lon = coordinate(row.get("lon"), -180, 180, "lon")
                lat = coordinate(row.get("lat"), -90, 90, "lat")
            path = (base / str(row["path"])).resolve()
            if not path.is_file():
                raise ValueError("file not found" if not path.exists() else "not a file")
            size_m = optional_number(row.get("size_m"), "size_m")
        except ValueError as exc:
            failures.append(Failure(where, view, "manifest", str(exc)))
            continue
        seen.add((view, ident))
        records.append(
            Record(
                id=ident,
                path=path,
                view=view,
                lon=lon,
                lat=lat,
                region=stored_region(row.get("region")),
                source=_text(row.get("source")),
                pair=_text(row.get("pair")),
                split=_text(row.get("split")),
                size_m=size_m,
                semi_pairs=_texts(row.get("semi_pairs")),
            )
        )
    return records, failures


def _unlocated(row: dict) -> bool:
    """Neither lon nor lat given (empty or NaN)."""
    return all(
        v is None or v == "" or (isinstance(v, float) and math.isnan(v))
        for v in (row.get("lon"), row.get("lat"))
    )


def _texts(value) -> tuple[str, ...] | None:
    """A list of ids from a Parquet list or a CSV cell ("a;b;c")."""
    if value is None or value == "":
        return None
    items = value.split(";") if isinstance(value, str) else list(value)
    return tuple(str(v) for v in items if v not in (None, "")) or None


def optional_number(value, name: str) -> float | None:
    """A positive number from a table cell, None for an empty one; ValueError naming
    ``name`` otherwise."""
    if value in (None, "") or (isinstance(value, float) and math.isnan(value)):
        return None
    number = coordinate(value, 0, math.inf, name)
    if number == 0:
        raise ValueError(f"{name} {value!r} is not positive")
    return number


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
