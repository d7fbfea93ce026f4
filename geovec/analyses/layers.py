"""Polygon layers for per-place breakdowns (``geovec evaluate --by LAYER``) and regions
(``--regions LAYER`` of ingest, grid and aerial, ``geovec regions --from LAYER``:
:mod:`geovec.analyses.region_rules`): a GeoJSON file or a GeoParquet layer of polygons
(states, land-cover classes, districts), each named by one of its fields, and which of
them hold given points.

Reading: GeoJSON is a FeatureCollection (or one Feature) in WGS84 lon/lat (RFC 7946), or
in the CRS its old-style ``crs`` member names; GeoParquet's geometry is its primary
column, WKB or a native encoding, in the CRS its ``geo`` metadata gives (OGC:CRS84 when
absent), read by :mod:`geovec.ingestion.geoparquet`. Any CRS is moved to WGS84 lon/lat
vertex by vertex (pyproj). Invalid polygons are repaired (``shapely.make_valid``).

The field that names the polygons: ``name`` when the layer has one, else its first text
property (column); or the one asked for. Polygons sharing a value are one place (all the
polygons of a land-cover class). A polygon whose value is null is named ``(none)``.

Antimeridian: a polygon spanning more than 180 degrees of longitude, with no vertex on the
antimeridian itself (+-180), whose span shrinks below 180 degrees when its western
longitudes are moved 360 degrees east is read as crossing the antimeridian, drawn the
short way round (Fiji from 178 to -178 is read as 178..182); other polygons are kept as
drawn: one split at the antimeridian, the whole world from -180 to 180, a polar cap.
Membership (sql/polygon_membership.sql) tries each point at its longitude and 360 degrees
either side, so polygons split at the antimeridian (as RFC 7946 asks), drawn past 180 or
past -180 all hold the points they mean.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geovec.errors import LayerError, ManifestError
from geovec.ingestion.geoparquet import CRS84, column_crs, crs_name, geo_metadata, shapes
from geovec.store.queries import run_query

NO_VALUE = "(none)"
GEOJSON = (".geojson", ".json")
GEOPARQUET = (".parquet", ".geoparquet")
_POLYGON, _MULTIPOLYGON = 3, 6  # shapely type ids


@dataclasses.dataclass
class PolygonLayer:
    """A layer's polygons in WGS84 lon/lat and the value naming each.

    ``field_rule`` says how the field was chosen: ``"asked"``, ``"name"`` (the layer has a
    ``name`` field) or ``"first text field"``."""

    path: Path
    field: str
    field_rule: str
    values: list[str]
    polygons: np.ndarray  # shapely (multi)polygons, lon/lat, see the module on 180 degrees
    crs: str  # the layer's own CRS, as read
    sha256: str  # of the file

    def describe(self) -> dict:
        """What a results file records about the layer."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "field": self.field,
            "field_rule": self.field_rule,
            "polygons": len(self.values),
            "crs": self.crs,
        }

    def members(self, con, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """(point, polygon) index pairs: the polygons holding each point (decimal degrees;
        NaN: no position, in none), by sql/polygon_membership.sql on DuckDB cursor
        ``con``."""
        points = pa.table(
            {
                "point": pa.array(np.arange(len(lon)), pa.int64()),
                "lon": pa.array(np.asarray(lon, np.float64)),
                "lat": pa.array(np.asarray(lat, np.float64)),
            }
        )
        polygons = pa.table(
            {
                "polygon": pa.array(np.arange(len(self.values)), pa.int64()),
                "wkb": pa.array(shapely.to_wkb(self.polygons).tolist(), pa.binary()),
            }
        )
        con.register("points", points)
        con.register("polygons", polygons)
        try:
            found = run_query(con, "polygon_membership")
        finally:
            con.unregister("points")
            con.unregister("polygons")
        return (
            found.column("point").to_numpy().astype(np.int64),
            found.column("polygon").to_numpy().astype(np.int64),
        )


def read_layer(path: str | Path, field: str | None = None) -> PolygonLayer:
    """The polygons of a GeoJSON (.geojson, .json) or GeoParquet (.parquet, .geoparquet)
    file, named by ``field`` (default: ``name``, else the first text field).

    Raises:
      LayerError: no such file, another type, not polygons, no such field.
    """
    path = Path(path)
    if not path.is_file():
        raise LayerError(f"{path}: no such polygon layer (a .geojson or GeoParquet file)")
    suffix = path.suffix.lower()
    if suffix in GEOJSON:
        geometries, properties, text, crs = _geojson(path)
    elif suffix in GEOPARQUET:
        geometries, properties, text, crs = _geoparquet(path)
    else:
        raise LayerError(
            f"{path}: a polygon layer is a .geojson (or .json) or GeoParquet (.parquet) file"
        )
    if not len(geometries):
        raise LayerError(f"{path}: the layer has no polygons")
    name, rule = _field(path, properties, text, field)
    values = [NO_VALUE if v is None else str(v) for v in properties[name]]
    polygons = _lonlat(_polygons(path, geometries), crs)
    return PolygonLayer(
        path=path.resolve(),
        field=name,
        field_rule=rule,
        values=values,
        polygons=_across_antimeridian(polygons),
        crs=crs_name(crs),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def _geojson(path: Path):
    """(geometries, {field: values}, text fields in order, CRS) of a GeoJSON file."""
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayerError(f"{path}: not JSON ({exc})") from None
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection" and isinstance(data.get("features"), list):
        features = data["features"]
    elif kind == "Feature":
        features = [data]
    else:
        raise LayerError(f"{path}: not a GeoJSON FeatureCollection or Feature")
    geometries, rows = [], []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        try:
            geometries.append(shapely.geometry.shape(geometry) if geometry else None)
        except (shapely.errors.GEOSException, ValueError, TypeError, KeyError, AttributeError):
            raise LayerError(f"{path}: feature {i} has a malformed geometry") from None
        rows.append((feature.get("properties") if isinstance(feature, dict) else None) or {})
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    properties = {k: [row.get(k) for row in rows] for k in names}
    text = [k for k in names if _is_text(properties[k])]
    return np.array(geometries, object), properties, text, _geojson_crs(path, data)


def _is_text(values: list) -> bool:
    known = [v for v in values if v is not None]
    return bool(known) and all(isinstance(v, str) for v in known)


def _geojson_crs(path: Path, data: dict) -> CRS:
    """RFC 7946: WGS84 lon/lat; an old-style ``crs`` member (GeoJSON 2008) may name another."""
    member = data.get("crs")
    if member is None:
        return CRS84
    name = (member.get("properties") or {}).get("name") if isinstance(member, dict) else None
    try:
        return CRS.from_user_input(name)
    except (CRSError, TypeError):
        raise LayerError(f"{path}: cannot read its crs member ({member!r})") from None


def _geoparquet(path: Path):
    """(geometries, {field: values}, text fields in order, CRS) of a GeoParquet file."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LayerError(f"{path}: not a readable Parquet file ({exc})") from None
    try:
        geo = geo_metadata(table.schema, path)
    except ManifestError as exc:
        raise LayerError(str(exc)) from None
    primary = (geo or {}).get("primary_column")
    meta = ((geo or {}).get("columns") or {}).get(primary)
    if primary not in table.column_names or not isinstance(meta, dict):
        raise LayerError(f"{path}: not GeoParquet (no 'geo' metadata naming a geometry column)")
    try:
        crs, _ = column_crs(meta, primary, path)
    except ManifestError as exc:
        raise LayerError(str(exc).split("; give")[0]) from None
    encoding = meta.get("encoding", "WKB")
    try:
        geometries = shapes(table.column(primary).combine_chunks(), encoding)
    except KeyError:
        raise LayerError(f"{path}: geometry encoding {encoding!r} is not read here") from None
    others = [n for n in table.column_names if n != primary]
    properties = {n: table.column(n).to_pylist() for n in others}
    text = [n for n in others if _text_type(table.schema.field(n).type)]
    return geometries, properties, text, crs


def _text_type(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _field(path: Path, properties: dict, text: list[str], field: str | None):
    """(the field naming the polygons, how it was chosen)."""
    if field is not None:
        if field not in properties:
            known = ", ".join(properties) or "none"
            raise LayerError(f"{path}: no field {field!r} (its fields: {known})")
        return field, "asked"
    if "name" in properties:
        return "name", "name"
    if text:
        return text[0], "first text field"
    raise LayerError(
        f"{path}: no 'name' nor any text field names its polygons; give --by-field "
        "(--region-field for regions) "
        f"(its fields: {', '.join(properties) or 'none'})"
    )


def _polygons(path: Path, geometries: np.ndarray) -> np.ndarray:
    """The geometries, each a polygon or multipolygon (repaired when invalid)."""
    for i, g in enumerate(geometries):
        if g is None or g.is_empty:
            raise LayerError(f"{path}: feature {i} has no geometry; the layer must hold polygons")
        if shapely.get_type_id(g) not in (_POLYGON, _MULTIPOLYGON):
            raise LayerError(
                f"{path}: feature {i} is a {g.geom_type}; the layer must hold polygons"
            )
    geometries = np.asarray(geometries, object)
    invalid = ~shapely.is_valid(geometries)
    if invalid.any():
        geometries = geometries.copy()
        geometries[invalid] = shapely.make_valid(geometries[invalid])
    return geometries


def _lonlat(polygons: np.ndarray, crs: CRS) -> np.ndarray:
    """The polygons with their vertices in WGS84 lon/lat (decimal degrees)."""
    if crs.equals(CRS84, ignore_axis_order=True):
        return polygons
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([lon, lat])

    return shapely.transform(polygons, move)


def _across_antimeridian(polygons: np.ndarray) -> np.ndarray:
    """Polygons drawn across the antimeridian the long way (see the module) moved east."""
    bounds = shapely.bounds(polygons)
    wide = np.flatnonzero((bounds[:, 2] - bounds[:, 0]) > 180)
    if not len(wide):
        return polygons

    def east(coords: np.ndarray) -> np.ndarray:
        coords = coords.copy()
        coords[:, 0] = np.where(coords[:, 0] < 0, coords[:, 0] + 360, coords[:, 0])
        return coords

    out = polygons.copy()
    for i in wide:
        lon = shapely.get_coordinates(polygons[i])[:, 0]
        if (np.abs(lon) == 180).any():  # drawn to the antimeridian: split, or the world
            continue
        moved = shapely.transform(polygons[i], east)
        west, _, far_east, _ = moved.bounds
        if far_east - west < 180:
            out[i] = moved
    return out


def region_outlines(store) -> dict:
    """A GeoJSON FeatureCollection of the store's regions (property ``name``), each the
    convex hull of its map tiles' footprints in lon/lat (:func:`geovec.geodesy.footprint_rings`):
    a layer for a per-region breakdown (the demo's). Regions across the antimeridian get
    their hull the short way round (longitudes past 180), which :func:`read_layer` reads."""
    from geovec.geodesy import footprint_rings

    tiles = store.read("map", ["region", "lon", "lat", "size_m"]).to_pylist()
    features = []
    for region in sorted({t["region"] for t in tiles if t["region"] is not None}):
        mine = [t for t in tiles if t["region"] == region and t["lon"] is not None]
        sizes = [t["size_m"] if t["size_m"] else 0.0 for t in mine]
        rings = footprint_rings(
            [t["lon"] for t in mine], [t["lat"] for t in mine], sizes, continuous=True
        )
        corners = rings.reshape(-1, 2)
        corners[:, 0] = np.degrees(np.unwrap(np.radians(corners[:, 0])))  # one side of 180
        hull = shapely.convex_hull(shapely.multipoints(corners))
        features.append(
            {
                "type": "Feature",
                "properties": {"name": region},
                "geometry": shapely.geometry.mapping(hull),
            }
        )
    return {"type": "FeatureCollection", "features": features}
