"""GeoParquet positions: which column holds a file's geometry and in which CRS (its ``geo``
metadata, GeoParquet 1.0/1.1), the geometries of a batch (WKB, or the 1.1 native GeoArrow
encodings), and their WGS84 lon/lat: a point as it is, a polygon by its centroid (computed
in the file's CRS, then transformed) with the side of the square of equal geodesic area on
the WGS84 ellipsoid as its size. Coordinates leave here as lon, lat in decimal degrees.

>>> import shapely
>>> crs = CRS.from_epsg(3857)
>>> square = shapely.box(0.0, 0.0, 1000.0, 1000.0)  # 1 km of Web Mercator at the equator
>>> lon, lat, size, _ = Positions(crs=crs).of_shapes(np.array([square], object))
>>> round(float(lon[0]), 6), round(float(lat[0]), 6), round(float(size[0]))  # not ground metres
(0.004492, 0.004492, 997)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geovec.errors import ManifestError
from geovec.geodesy import WGS84

CRS84 = CRS.from_user_input("OGC:CRS84")
NATIVE_ENCODINGS = {
    "point": shapely.GeometryType.POINT,
    "multipoint": shapely.GeometryType.MULTIPOINT,
    "polygon": shapely.GeometryType.POLYGON,
    "multipolygon": shapely.GeometryType.MULTIPOLYGON,
}
"""GeoParquet 1.1 native (GeoArrow) encodings read here, besides WKB."""
NESTING = {"point": 0, "multipoint": 1, "polygon": 2, "multipolygon": 3}
"""List levels above the coordinates in each native encoding."""
_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6  # shapely type ids


def storage(value):
    """An extension array or type (geoarrow.wkb, ...) as its storage."""
    if isinstance(value, pa.ExtensionType):
        return value.storage_type
    if isinstance(value, pa.ExtensionArray):
        return value.storage
    return value


def crs_name(crs: CRS) -> str:
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.name


def geo_metadata(schema: pa.Schema, source: Path) -> dict | None:
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        return None
    try:
        geo = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ManifestError(f"{source}: its 'geo' metadata is not JSON") from None
    return geo if isinstance(geo, dict) else None


def column_crs(meta: dict, column: str, source: Path) -> tuple[CRS, str]:
    """A GeoParquet column's CRS: its ``crs`` (PROJJSON, or a string pyproj reads), or
    OGC:CRS84 when the key is absent, as the specification says."""
    if "crs" not in meta:
        return CRS84, "GeoParquet default (no crs)"
    if meta["crs"] is None:
        raise ManifestError(
            f"{source}: the 'geo' metadata says the CRS of {column!r} is unknown (crs: null); "
            "give --lon-column and --lat-column in WGS84 instead"
        )
    try:
        return CRS.from_user_input(meta["crs"]), "geo metadata"
    except CRSError as exc:
        first = str(exc).splitlines()[0]
        raise ManifestError(f"{source}: cannot read the CRS of {column!r} ({first})") from None


def floats(batch: pa.RecordBatch, name: str | None) -> np.ndarray:
    """A numeric column as float64, NaN where null; all NaN without the column."""
    if name is None:
        return np.full(batch.num_rows, np.nan)
    try:
        column = pc.cast(storage(batch.column(name)), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise ManifestError(f"column {name!r} is not numeric") from None
    return column.to_numpy(zero_copy_only=False)


def _native_shapes(column: pa.Array, encoding: str) -> np.ndarray:
    """Shapely geometries (None where null) of a GeoArrow native column (separated x/y
    structs, as GeoParquet 1.1 writes them, or interleaved fixed-size lists)."""
    column = storage(column)
    kind = NATIVE_ENCODINGS[encoding.lower()]
    offsets, level = [], column
    for _ in range(NESTING[encoding.lower()]):
        offsets.insert(0, level.offsets.to_numpy())
        level = storage(level.values)
    if pa.types.is_struct(level.type):
        children = level.flatten()  # each coordinate's array, the struct's offset applied
        xy = np.column_stack(
            [children[level.type.get_field_index(k)].to_numpy(zero_copy_only=False) for k in "xy"]
        ).astype(float)
    else:  # interleaved: fixed-size lists [x, y, ...], read one by one
        xy = np.array([p[:2] if p else (np.nan, np.nan) for p in level.to_pylist()], float)
    if kind == shapely.GeometryType.POINT:
        shapes = shapely.points(xy)
    else:
        shapes = shapely.from_ragged_array(kind, xy, tuple(offsets))
    shapes = np.asarray(shapes, object)
    shapes[column.is_null().to_numpy(zero_copy_only=False)] = None
    return shapes


def shapes(column: pa.Array, encoding: str) -> np.ndarray:
    if encoding == "WKB":
        wkb = np.asarray(storage(column).to_pylist(), object)
        return np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), object)
    return _native_shapes(column, encoding)


class Positions:
    """Positions of a file's rows in WGS84 lon/lat, one transformer per file: from its
    ``geometry`` column (``encoding`` WKB or native, in ``crs``), else from its ``lon`` and
    ``lat`` columns (WGS84 decimal degrees)."""

    def __init__(
        self,
        geometry: str | None = None,
        encoding: str = "WKB",
        crs: CRS | None = None,
        lon: str | None = None,
        lat: str | None = None,
    ):
        self.geometry, self.encoding, self.lon, self.lat = geometry, encoding, lon, lat
        self.geographic = crs is None or crs.is_geographic
        same = crs is None or crs.equals(CRS84, ignore_axis_order=True)
        self.transformer = None if same else Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def _to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.transformer is None or not len(x):
            return x, y
        lon, lat = self.transformer.transform(x, y, errcheck=False)
        return np.asarray(lon, float), np.asarray(lat, float)

    def _to_lonlat_shapes(self, geometries: np.ndarray) -> np.ndarray:
        if self.transformer is None:
            return geometries

        def move(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(self._to_lonlat(coords[:, 0], coords[:, 1]))

        return shapely.transform(geometries, move)

    def read(self, batch: pa.RecordBatch, sizes: bool = True):
        """(lon, lat, size, reasons) of a batch's rows: see :meth:`of_shapes`; from the
        lon/lat columns (no size) when there is no geometry column."""
        if self.geometry is None:
            n = batch.num_rows
            return floats(batch, self.lon), floats(batch, self.lat), np.full(n, np.nan), [None] * n
        return self.of_shapes(shapes(batch.column(self.geometry), self.encoding), sizes)

    def of_shapes(self, geometries: np.ndarray, sizes: bool = True):
        """lon, lat (decimal degrees, NaN where unknown), size (metres: the side of the
        square of a polygon's geodesic area, NaN for a point or when not ``sizes``), and
        per geometry the reason it cannot be used (None where it can)."""
        n = len(geometries)
        reasons: list[str | None] = [None] * n
        size = np.full(n, np.nan)
        known = np.array([g is not None for g in geometries], bool)
        known[known] = ~shapely.is_empty(geometries[known])
        types = np.full(n, -1)
        types[known] = shapely.get_type_id(geometries[known])
        x, y = np.full(n, np.nan), np.full(n, np.nan)
        points = types == _POINT
        x[points], y[points] = shapely.get_x(geometries[points]), shapely.get_y(geometries[points])
        areas = (types == _POLYGON) | (types == _MULTIPOLYGON)
        for i in np.flatnonzero(known & ~points & ~areas):
            reasons[i] = f"geometry is a {geometries[i].geom_type}, not a point or a polygon"
        if areas.any():
            polygons = geometries[areas]
            if self.geographic:
                polygons = _unwrapped(polygons)
            centre = shapely.centroid(polygons)
            x[areas], y[areas] = shapely.get_x(centre), shapely.get_y(centre)
            if sizes:
                lonlat = self._to_lonlat_shapes(polygons)
                size[areas] = [np.sqrt(abs(WGS84.geometry_area_perimeter(p)[0])) for p in lonlat]
        lon, lat = self._to_lonlat(x, y)
        lon = np.where(np.abs(lon) > 180.0, (lon + 180.0) % 360.0 - 180.0, lon)  # unwrapped
        return lon, lat, size, reasons


def _unwrapped(polygons: np.ndarray) -> np.ndarray:
    """Lon/lat polygons spanning more than 180 degrees of longitude (across the
    antimeridian) moved to 0-360, so their centroid is where they are."""
    bounds = shapely.bounds(polygons)
    wide = (bounds[:, 2] - bounds[:, 0]) > 180
    if not wide.any():
        return polygons
    out = polygons.copy()

    def east(coords: np.ndarray) -> np.ndarray:
        coords = coords.copy()
        coords[:, 0] = np.where(coords[:, 0] < 0, coords[:, 0] + 360, coords[:, 0])
        return coords

    out[wide] = shapely.transform(polygons[wide], east)
    return out
