"""A localisation's per-tile scores as polygons: every map tile of the region as its
footprint (the square of ``size_m`` metres in the tile's own frame,
:func:`geovec.geodesy.footprint_rings`; lon/lat decimal degrees, OGC:CRS84) with ``id``,
``score`` (feature distance, lower is likelier), ``rank`` (1 for the best tile) and
``true`` (the tile that holds the photo's position), as GeoJSON (RFC 7946: exterior rings
counterclockwise) or as GeoParquet 1.1 (:mod:`geovec.exports.geoparquet`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import shapely

from geovec.defaults import __version__
from geovec.errors import ExportError
from geovec.exports.geoparquet import BBOX, BBOX_TYPE, GEOMETRY, GeoParquetWriter, extent
from geovec.exports.geoparquet import geometry_column as wkb_column
from geovec.exports.rasters import footprint_sizes, tile_ranks
from geovec.geodesy import footprint_rings

if TYPE_CHECKING:
    from geovec.analyses.localize import Localization

GEOJSON_MEDIA_TYPE = "application/geo+json"
TILE_SUFFIXES = (".geojson", ".json", ".parquet")


def tile_polygons(result: Localization) -> tuple[np.ndarray, dict]:
    """(counterclockwise (N, 5, 2) lon/lat rings of the tiles' footprints, their columns:
    id, score, rank, true)."""
    lonlat = np.asarray(result.tile_lonlat, float)
    if not len(lonlat):
        raise ExportError("the localisation scored no tiles: no heatmap to write")
    rings = footprint_rings(lonlat[:, 0], lonlat[:, 1], footprint_sizes(result.tile_size_m, lonlat))
    rings = rings[:, ::-1]  # NW, SW, SE, NE, NW: counterclockwise
    scores = np.asarray(result.scores, np.float64)
    ids = list(result.tile_ids) or [str(i) for i in range(len(lonlat))]
    columns = {
        "id": ids,
        "score": scores,
        "rank": tile_ranks(scores),
        "true": np.array([i == result.true_tile for i in ids]),
    }
    return rings, columns


def _about(result: Localization) -> dict:
    return {
        "geovec_version": __version__,
        "kind": "heatmap",
        "query": result.query,
        "feature": result.feature,
        "region": result.region,
        "candidates": result.candidates,
        "true_tile": result.true_tile,
        "true_rank": result.true_rank,
        "true_lonlat": list(result.true_lonlat) if result.true_lonlat else None,
    }


def write_tiles_geojson(result: Localization, path: str | Path) -> Path:
    """The tiles as a GeoJSON FeatureCollection (``geovec``: what was localised)."""
    path = Path(path)
    rings, columns = tile_polygons(result)
    features = [
        {
            "type": "Feature",
            "id": columns["id"][i],
            "geometry": {"type": "Polygon", "coordinates": [rings[i].round(8).tolist()]},
            "properties": {
                "id": columns["id"][i],
                "score": float(columns["score"][i]),
                "rank": int(columns["rank"][i]),
                "true": bool(columns["true"][i]),
            },
        }
        for i in range(len(rings))
    ]
    box = extent(np.column_stack([rings[..., 0].min(1), rings[..., 1].min(1),
                                  rings[..., 0].max(1), rings[..., 1].max(1)]))  # fmt: skip
    collection = {
        "type": "FeatureCollection",
        "bbox": box,
        "geovec": _about(result),
        "features": features,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(collection))
    return path


def write_tiles_geoparquet(result: Localization, path: str | Path) -> Path:
    """The tiles as a GeoParquet 1.1 file of polygons (the file's ``geovec`` metadata:
    what was localised), one row group."""
    rings, columns = tile_polygons(result)
    geometry, boxes = wkb_column(shapely.polygons(rings))
    schema = pa.schema(
        [
            pa.field("id", pa.string()),
            pa.field("score", pa.float64()),
            pa.field("rank", pa.int64()),
            pa.field("true", pa.bool_()),
            pa.field(GEOMETRY, pa.binary()),
            pa.field(BBOX, BBOX_TYPE),
        ]
    )
    table = pa.table({**columns, GEOMETRY: geometry, BBOX: boxes}, schema=schema)
    flat = boxes.flatten()
    box = extent(np.column_stack([flat[i].to_numpy(zero_copy_only=False) for i in range(4)]))
    with GeoParquetWriter(path, schema, ["Polygon"], box, {"geovec": _about(result)}) as writer:
        writer.write(table)
    return Path(path)
