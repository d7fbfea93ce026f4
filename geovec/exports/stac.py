"""A STAC catalogue of a store's exports (``geovec export DB --stac DIR``).

:func:`export_stac` writes each view's features as GeoParquet into DIR
(``<view>-<feature>.parquet``, :func:`geovec.exports.tables.export`), then catalogues every
file geovec exported into DIR (those tables, and the land-cover and heatmap COGs and tile
polygons written there by ``geovec landcover --out`` and ``geovec localize --heatmap``):

- ``catalog.json``: the root, one child Collection per feature;
- ``<feature>/collection.json``: a Collection with the STAC embeddings extension's fields
  as the geo-embeddings community proposes them (``emb:type`` "chip": one vector per
  image; ``emb:dimensions``; ``data_type`` float32; the required links ``emb:model``, to
  the weights file or the descriptor's description, and ``emb:source-data``, to the
  store), its spatial extent the union of its items';
- ``<feature>/<item>/<item>.json``: one Item per exported file holding that feature, its
  asset with the file's media type and the projection extension's fields (``proj:code``,
  ``proj:wkt2``, ``proj:bbox``; for rasters also ``proj:shape`` and ``proj:transform``).
  Table items carry the embeddings extension (their asset is named ``embeddings``, as
  the extension requires) with the feature's provenance as ``emb:runtime_parameters``;
  raster and polygon items are derived products and name their asset ``data``.

The embeddings extension (v0.0.1) builds on STAC 1.0.0's schemas, so the catalogue is
written as STAC 1.0.0. Asset and link hrefs between the files are relative: the folder
can be moved or published as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from pathlib import Path

from geovec.counts import count
from geovec.defaults import __version__
from geovec.errors import ExportError
from geovec.exports.geoparquet import MEDIA_TYPE, read_geo_metadata
from geovec.exports.rasters import COG_MEDIA_TYPE, RASTER_SUFFIXES, read_tags
from geovec.exports.tables import export
from geovec.exports.tiles import GEOJSON_MEDIA_TYPE
from geovec.store import Store
from geovec.store.schema import VIEWS

EMBEDDINGS_SCHEMA = "https://stac-extensions.github.io/embeddings/v0.0.1/schema.json"
PROJECTION_SCHEMA = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
STAC_VERSION = "1.0.0"
"""The STAC version the embeddings extension v0.0.1 validates against."""
GIST_REFERENCE = "https://doi.org/10.1023/A:1011139631724"
"""Oliva & Torralba (2001), the GIST descriptor: the "model" of the gist feature."""
CRS84 = "OGC:CRS84"


@dataclasses.dataclass
class StacExport:
    """What :func:`export_stac` wrote: the root ``catalog`` file, per collection (feature)
    its items' ids, the tables it exported and the files of the folder it left out (not
    written by geovec)."""

    catalog: Path
    collections: dict[str, list[str]]
    exported: list[Path]
    skipped: list[Path]

    def as_dict(self) -> dict:
        return {
            "catalog": str(self.catalog),
            "collections": self.collections,
            "exported": [str(p) for p in self.exported],
            "skipped": [str(p) for p in self.skipped],
        }

    def summary(self) -> str:
        items = sum(len(v) for v in self.collections.values())
        return (
            f"wrote {self.catalog}: {count(len(self.collections), 'collection')}, "
            f"{count(items, 'item')} ({count(len(self.exported), 'table')} exported, "
            f"{count(len(self.skipped), 'other file')} left out)"
        )


@dataclasses.dataclass
class _Product:
    """One exported file to catalogue under ``feature``."""

    path: Path
    feature: str
    kind: str  # table, landcover, heatmap, tiles
    facts: dict


def export_stac(
    store: Store,
    folder: str | Path,
    *,
    views: list[str] | None = None,
    features: list[str] | None = None,
    license: str = "proprietary",  # noqa: A002 - STAC's own field name
) -> StacExport:
    """Export the store's tables into ``folder`` and write a STAC catalogue of every
    geovec product there (the module docstring).

    Args:
      views: the views to export (default: every view with rows).
      features: the features to export (default: every feature of each view).
      license: the collections' ``license`` (an SPDX identifier, or "proprietary").

    Raises:
      ExportError: ``folder`` is a file, or there is nothing to catalogue.
    """
    import pystac

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder}: is a file; --stac names a folder")
    folder.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(views or []) - set(VIEWS))
    if unknown:
        raise ExportError(f"unknown view {unknown[0]!r}; export one of {', '.join(VIEWS)}")
    exported = []
    for view in views or VIEWS:
        if not store.has(view) or store.count(view) == 0:
            continue
        held = store.features(view)
        for name in held if features is None else [f for f in features if f in held]:
            exported.append(export(store, folder / f"{view}-{name}.parquet", view=view,
                                   features=[name]).path)  # fmt: skip
    if features and not exported:
        raise ExportError(f"no view of {store.path} holds {', '.join(features)}")
    products, skipped = _products(folder)
    if not products:
        raise ExportError(f"{folder}: nothing to catalogue (the store has no rows to export)")

    dims = {f: d for view in VIEWS for f, d in store.features(view).items()}
    catalog = pystac.Catalog(
        id=f"geovec-{Path(store.path).resolve().name}",
        description=f"Embeddings of the geovec store {Path(store.path).resolve()} and the "
        "products computed from them (geovec export --stac).",
        title=f"geovec exports of {Path(store.path).resolve().name}",
    )
    listed: dict[str, list[str]] = {}
    for feature in sorted({p.feature for p in products}):
        mine = [p for p in products if p.feature == feature]
        collection = _collection(pystac, store, feature, dims.get(feature), mine, license)
        catalog.add_child(collection)
        listed[feature] = sorted(item.id for item in collection.get_items())
    catalog.normalize_hrefs(str(folder))
    catalog.make_all_asset_hrefs_relative()
    with _stac_version(pystac, STAC_VERSION):
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return StacExport(folder / "catalog.json", listed, exported, skipped)


@contextlib.contextmanager
def _stac_version(pystac, version: str):
    """Write ``version`` as the objects' stac_version while the block runs."""
    previous = pystac.version.STACVersion._override_version
    pystac.set_stac_version(version)
    try:
        yield
    finally:
        pystac.set_stac_version(previous)


def _products(folder: Path) -> tuple[list[_Product], list[Path]]:
    """geovec's exports in ``folder`` and the other files there (STAC JSON left out)."""
    found, skipped = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        product = None
        if suffix in (".parquet", ".geoparquet"):
            product = _parquet_product(path)
        elif suffix in RASTER_SUFFIXES:
            product = _raster_product(path)
        elif suffix in (".geojson", ".json"):
            product = _geojson_product(path)
            if product is None and _is_stac(path):
                continue
        if product is None:
            skipped.append(path)
        else:
            found.extend(product)
    return found, skipped


def _parquet_product(path: Path) -> list[_Product] | None:
    try:
        geo, extra = read_geo_metadata(path)
    except Exception:  # not Parquet after all: left out
        return None
    facts = extra.get("geovec")
    if not geo or not isinstance(facts, dict):
        return None
    facts = {**facts, "geo": geo}
    if "view" in facts:
        return [_Product(path, name, "table", facts) for name in facts.get("features", {})]
    if facts.get("kind") == "heatmap":
        return [_Product(path, str(facts.get("feature")), "tiles", facts)]
    return None


def _raster_product(path: Path) -> list[_Product] | None:
    try:
        facts = read_tags(path)
    except Exception:  # not a raster GDAL reads
        return None
    if facts.get("kind") not in ("landcover", "heatmap"):
        return None
    return [_Product(path, str(facts.get("feature")), str(facts["kind"]), facts)]


def _geojson_product(path: Path) -> list[_Product] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    facts = data.get("geovec") if isinstance(data, dict) else None
    if not isinstance(facts, dict) or facts.get("kind") != "heatmap":
        return None
    return [_Product(path, str(facts.get("feature")), "tiles", {**facts, "bbox": data.get("bbox")})]


def _is_stac(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "stac_version" in data


def _collection(pystac, store: Store, feature: str, dims, products, license):
    """The Collection of one feature: the embeddings extension's fields where ``feature``
    is a stored feature (``dims`` its length), and its items."""
    stems = [p.path.stem for p in products]
    items = [
        _item(pystac, p, dims is not None, p.path.stem if stems.count(p.path.stem) == 1
              else f"{p.path.stem}-{p.path.suffix.lstrip('.').lower()}")
        for p in products
    ]  # fmt: skip
    boxes = [item.bbox for item in items if item.bbox]
    box = (
        [min(b[0] for b in boxes), min(b[1] for b in boxes),
         max(b[2] for b in boxes), max(b[3] for b in boxes)]
        if boxes else [-180.0, -90.0, 180.0, 90.0]
    )  # fmt: skip
    times = sorted(item.datetime for item in items)
    extent = pystac.Extent(
        pystac.SpatialExtent([box]), pystac.TemporalExtent([[times[0], times[-1]]])
    )
    extra, extensions = {}, []
    if dims is not None:
        extensions = [EMBEDDINGS_SCHEMA]
        extra = {
            "emb:type": "chip",
            "emb:dimensions": int(dims),
            "data_type": "float32",
            "emb:fit_for_use": ["retrieval", "classification", "similarity_search"],
        }
    collection = pystac.Collection(
        id=feature,
        description=f"The {feature} feature of the geovec store's images"
        + (f" ({dims} float32 values per image)" if dims else "")
        + " and the products computed from it.",
        extent=extent,
        title=feature,
        license=license,
        stac_extensions=extensions,
        extra_fields=extra,
    )
    if dims is not None:
        collection.add_link(_model_link(pystac, store, feature))
        collection.add_link(
            pystac.Link(
                "emb:source-data",
                Path(store.path).resolve().as_uri(),
                media_type="application/x-directory",
                title="the geovec store (LanceDB tables ground, overhead, map) the "
                "features were read from",
            )
        )
    for item in items:
        collection.add_item(item)
    return collection


def _model_link(pystac, store: Store, feature: str):
    """The ``emb:model`` link: the weights or encoder file the feature was computed with,
    GIST's paper, or (published embeddings) the file they came from."""
    provenance = {}
    for view in VIEWS:
        if feature in store.features(view):
            provenance = store.provenance(view, feature)
            break
    title = f"{feature}: " + ", ".join(
        f"{k} {provenance[k]}" for k in ("network", "layer", "encoder") if provenance.get(k)
    )
    for key in ("weights", "source_file", "source", "model"):
        value = provenance.get(key)
        if value:
            href = value if "://" in str(value) else Path(value).resolve().as_uri()
            sha = provenance.get("source_sha256")
            title += f" (sha256 {sha})" if sha else ""
            return pystac.Link("emb:model", href, title=title.rstrip(": "))
    if feature == "gist" or "gist" in str(provenance.get("preprocessing", "")).lower():
        return pystac.Link(
            "emb:model", GIST_REFERENCE, media_type="text/html",
            title="GIST descriptor (Oliva & Torralba 2001), computed by geovec",
        )  # fmt: skip
    return pystac.Link(
        "emb:model", Path(store.path).resolve().as_uri(),
        title=f"{feature}: no model recorded; its provenance is in the store's field metadata",
    )  # fmt: skip


def _item(pystac, product: _Product, embeddings: bool, ident: str):
    """The Item ``ident`` of one exported file."""
    from pystac.extensions.projection import ProjectionExtension

    path = product.path.resolve()
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    properties = {"geovec:kind": product.kind, "geovec:version": __version__}
    proj: dict = {}
    if product.kind == "table":
        facts = product.facts
        box = facts["geo"].get("columns", {}).get("geometry", {}).get("bbox")
        feature = facts["features"][product.feature]
        properties.update(
            {
                "title": f"{facts['view']} {product.feature}",
                "geovec:view": facts["view"],
                "emb:runtime_parameters": {
                    "feature": product.feature,
                    "view": facts["view"],
                    "dimensions": feature.get("dimensions"),
                    **{str(k): v for k, v in (feature.get("provenance") or {}).items()},
                },
            }
        )
        key, media, roles = ("embeddings" if embeddings else "data"), MEDIA_TYPE, ["data"]
        proj = {"code": CRS84, "bbox": box}
    elif product.kind == "tiles":
        box = product.facts.get("bbox") or (
            product.facts.get("geo", {}).get("columns", {}).get("geometry", {}).get("bbox")
        )
        media = MEDIA_TYPE if path.suffix.lower() == ".parquet" else GEOJSON_MEDIA_TYPE
        key, roles = "data", ["data"]
        properties.update(_raster_properties(product.facts, "heatmap tiles"))
        proj = {"code": CRS84, "bbox": box}
    else:
        box, proj = _raster_footprint(path)
        key, media, roles = "data", COG_MEDIA_TYPE, ["data"]
        properties.update(_raster_properties(product.facts, product.kind))
    geometry = _box_polygon(box) if box else None
    item = pystac.Item(
        id=ident,
        geometry=geometry,
        bbox=[float(v) for v in box] if box else None,
        datetime=stamp,
        properties=properties,
        stac_extensions=[EMBEDDINGS_SCHEMA] if product.kind == "table" and embeddings else [],
    )
    asset = pystac.Asset(href=str(path), media_type=media, roles=roles, title=path.name)
    item.add_asset(key, asset)
    fields = ProjectionExtension.ext(item.assets[key], add_if_missing=True)
    fields.code = proj.get("code")
    if proj.get("wkt2"):
        fields.wkt2 = proj["wkt2"]
    if proj.get("bbox"):
        fields.bbox = [float(v) for v in proj["bbox"]]
    if proj.get("shape"):
        fields.shape = proj["shape"]
        fields.transform = proj["transform"]
    return item


def _raster_properties(facts: dict, kind: str) -> dict:
    keep = ("feature", "region", "query", "true_tile", "true_rank", "candidates", "tiles")
    out = {f"geovec:{k}": facts[k] for k in keep if facts.get(k) is not None}
    out["title"] = " ".join(str(v) for v in (kind, facts.get("region"), facts.get("query")) if v)
    if facts.get("proj"):
        out["geovec:proj"] = facts["proj"]  # the raster's frame as a PROJ string
    if facts.get("explained_variance"):
        out["geovec:explained_variance"] = facts["explained_variance"]
    return out


def _raster_footprint(path: Path) -> tuple[list[float], dict]:
    """(lon/lat bbox of a raster, its projection fields)."""
    import rasterio
    import rasterio.warp
    from pyproj import CRS

    with rasterio.open(path) as dataset:
        crs = CRS.from_wkt(dataset.crs.to_wkt())
        bounds = list(dataset.bounds)
        box = rasterio.warp.transform_bounds(dataset.crs, "EPSG:4326", *bounds, densify_pts=21)
        shape, transform = [dataset.height, dataset.width], list(dataset.transform)[:6]
    found = crs.to_authority(min_confidence=100)
    proj = {
        "code": f"{found[0]}:{found[1]}" if found else None,
        "wkt2": crs.to_wkt(),
        "bbox": bounds,
        "shape": shape,
        "transform": transform,
    }
    return [float(v) for v in box], proj


def _box_polygon(box) -> dict:
    west, south, east, north = (float(v) for v in box)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}
