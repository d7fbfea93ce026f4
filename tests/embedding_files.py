"""Embedding files in the layouts their publishers use, written by geopandas and pyarrow
(never by geovec), with the true position of every row.

- Major TOM (Core-S2L2A-SSL4EO, Core-S2RGB-SigLIP, ... dataset cards): ``unique_id``,
  ``embedding``, ``timestamp``, ``product_id``, ``grid_cell``, ``grid_row_u``,
  ``grid_col_r``, ``geometry`` (the fragment's polygon footprint, WKB), ``centre_lat``,
  ``centre_lon`` (float32), ``utm_footprint`` (WKT), ``utm_crs``, ``pixel_bbox``; SigLIP's
  ``embedding`` is an ``Array2D(1, D)``: a list holding one list.
- Clay (its GeoParquet embeddings): ``source_url``, ``date``, ``embeddings``, ``geometry``;
  no id column.
- Earth Index (Source Cooperative, the geo-embeddings survey): ``id``, ``embedding``,
  ``geometry`` in EPSG:4326.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

CHARLESTON = (-79.94, 32.78)
"""lon, lat (decimal degrees) the grids start from; UTM zone 17N."""
UTM_17N = "EPSG:32617"


def utm_squares(n_x: int, n_y: int, side_m: float, origin=CHARLESTON, crs=UTM_17N):
    """A grid of squares ``side_m`` UTM metres on a side: (polygons in ``crs``, their
    centres' lon and lat in WGS84 decimal degrees)."""
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0 = to_utm.transform(*origin)
    cx = x0 + side_m * np.repeat(np.arange(n_x), n_y)
    cy = y0 + side_m * np.tile(np.arange(n_y), n_x)
    half = side_m / 2
    polygons = shapely.box(cx - half, cy - half, cx + half, cy + half)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(cx, cy)
    return polygons, np.asarray(lon), np.asarray(lat)


def write_major_tom(
    path: Path,
    vectors: np.ndarray,
    polygons,
    *,
    crs: str = "EPSG:4326",
    nested: bool = False,
    source_crs: str = UTM_17N,
    encoding: str = "WKB",
    extra: dict | None = None,
) -> list[str]:
    """A Major TOM embeddings file (geopandas), the footprints (given in ``source_crs``)
    written in ``crs`` as WKB or, ``encoding="geoarrow"``, GeoParquet 1.1's native polygons;
    ``nested``: embeddings as SigLIP's Array2D(1, D). Returns the unique ids."""
    import geopandas as gpd

    n = len(vectors)
    ids = [hashlib.sha256(f"{path.stem}-{i}".encode()).hexdigest() for i in range(n)]
    centres = shapely.centroid(polygons)
    lon, lat = Transformer.from_crs(source_crs, "EPSG:4326", always_xy=True).transform(
        shapely.get_x(centres), shapely.get_y(centres)
    )
    frame = gpd.GeoDataFrame(
        {
            "unique_id": ids,
            "embedding": [[v] if nested else v for v in np.asarray(vectors, np.float32)],
            "timestamp": ["20230612T155819"] * n,
            "product_id": ["S2B_MSIL2A_20230612T155819_N0509_R097_T17SNS_20230612T203522"] * n,
            "grid_cell": [f"{327 + i // 10}U_{1040 + i % 10}L" for i in range(n)],
            "grid_row_u": np.arange(n, dtype=np.int16) // 10,
            "grid_col_r": np.arange(n, dtype=np.int16) % 10,
            "centre_lat": np.asarray(lat, np.float32),
            "centre_lon": np.asarray(lon, np.float32),
            "utm_footprint": shapely.to_wkt(polygons),
            "utm_crs": [source_crs] * n,
            "pixel_bbox": [np.array([0, 0, 224, 224], np.int64)] * n,
            **(extra or {}),
        },
        geometry=list(polygons),
        crs=source_crs,
    ).to_crs(crs)
    frame.to_parquet(path, geometry_encoding="geoarrow" if encoding == "geoarrow" else "WKB")
    return ids


def write_clay(path: Path, vectors: np.ndarray, lon, lat, *, encoding: str = "WKB") -> None:
    """A Clay embeddings file (geopandas): source_url, date, embeddings, point geometry in
    EPSG:4326, no id column; ``encoding`` "WKB" or "geoarrow" (GeoParquet 1.1 native)."""
    import geopandas as gpd

    n = len(vectors)
    frame = gpd.GeoDataFrame(
        {
            "source_url": [f"s3://clay/17SNS/claytile_17SNS_2023_{i:04d}.tif" for i in range(n)],
            "date": ["2023-06-12"] * n,
            "embeddings": [np.asarray(v, np.float32) for v in vectors],
        },
        geometry=list(shapely.points(np.column_stack([lon, lat]))),
        crs="EPSG:4326",
    )
    frame.to_parquet(path, geometry_encoding="geoarrow" if encoding == "geoarrow" else "WKB")


def write_earth_index(path: Path, ids, vectors: np.ndarray, geometries, **columns) -> None:
    """An Earth Index file (geopandas): id, embedding, geometry (EPSG:4326, WKB), and any
    further ``columns``."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"id": list(ids), "embedding": [np.asarray(v, np.float32) for v in vectors], **columns},
        geometry=list(geometries),
        crs="EPSG:4326",
    )
    frame.to_parquet(path)


def write_plain(path: Path, columns: dict, *, row_group_size: int | None = None) -> None:
    """A plain Parquet file (pyarrow, no geo metadata) of ``columns`` (arrays or lists)."""
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)


def fixed_size_vectors(vectors: np.ndarray, dtype=np.float16) -> pa.FixedSizeListArray:
    """(N, D) → a fixed-size list array of ``dtype``."""
    values = np.ascontiguousarray(vectors, dtype=dtype)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def imported_world(folder, n_x: int = 4, n_y: int = 4, dim: int = 16):
    """Map tiles (Major TOM, UTM polygons), overhead images (Earth Index points) and ground
    photos (plain Parquet, lon/lat, pair) whose vectors are their tile's plus noise: two
    training photos 10 m apart near each tile's centre, and one photo 150 m west of it,
    isolated at 50 m. Returns the three files."""
    rng = np.random.default_rng(5)
    polygons, lon, lat = utm_squares(n_x, n_y, 480.0)
    tiles = rng.normal(size=(len(lon), dim))

    def near(i, east_m):
        return lon[i] + east_m / (111_320 * np.cos(np.radians(lat[i]))), lat[i]

    train = [(t, k, *near(t, 100 + 10 * k)) for t in range(len(lon)) for k in range(2)]
    noise = 0.05
    overhead = folder / "overhead.parquet"
    write_earth_index(
        overhead,
        [f"o{t}_{k}" for t, k, _, _ in train],
        [tiles[t] + noise * rng.normal(size=dim) for t, _, _, _ in train],
        shapely.points([(x, y) for _, _, x, y in train]),
        region=["charleston"] * len(train),
    )
    queries = [(t, *near(t, -150)) for t in range(len(lon))]
    ground = folder / "ground.parquet"
    write_plain(
        ground,
        {
            "id": [f"g{t}_{k}" for t, k, _, _ in train] + [f"q{t}" for t, _, _ in queries],
            "lon": [x for *_, x, _ in train] + [x for _, x, _ in queries],
            "lat": [y for *_, y in train] + [y for *_, y in queries],
            "embedding": fixed_size_vectors(
                np.array([tiles[t] + noise * rng.normal(size=dim) for t, *_ in train + queries]),
                np.float32,
            ),
            "pair": [f"o{t}_{k}" for t, k, _, _ in train] + [None] * len(queries),
            "region": ["charleston"] * (len(train) + len(queries)),
        },
    )
    tile_file = folder / "map.parquet"
    write_major_tom(
        tile_file, tiles, polygons, crs=UTM_17N, extra={"region": ["charleston"] * len(lon)}
    )
    return ground, overhead, tile_file
