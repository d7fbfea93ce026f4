"""Small stores for the export tests, built from arrays (no images)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import geovec
from geovec.geodesy import frame_lonlat
from geovec.store.schema import feature_field
from tests.stores import add_rows

CLIP_PROVENANCE = {
    "network": "onnx",
    "encoder": "clip_b32",
    "weights": "/models/clip_b32.onnx",
    "source_sha256": "ab" * 32,
    "preprocessing": "resize 224, scale 1/255, mean/std",
}
TILE_M = 480.0
GRID_CENTRE = (24.94, 60.17)  # lon, lat: high enough that degrees and metres differ a lot


@pytest.fixture(scope="session")
def point_store(tmp_path_factory):
    """1,500 located ground photos over 0.2 x 0.2 degrees, 5 pair-only ones without a
    position, two features (gist: 16 values, no provenance; clip: 8, with provenance), and
    a few map tiles."""
    rng = np.random.default_rng(7)
    store = geovec.open(tmp_path_factory.mktemp("points") / "db")
    store.ensure_features("ground", [feature_field("clip", 8, CLIP_PROVENANCE)])
    n = 1500
    lon = rng.uniform(-80.0, -79.8, n)
    lat = rng.uniform(32.7, 32.9, n)
    rows = [
        {"id": f"g{i:04d}", "region": "charleston", "source": "photo", "lon": lo, "lat": la,
         "split": "train", "isolated": False}
        for i, (lo, la) in enumerate(zip(lon, lat))
    ]  # fmt: skip
    rows += [{"id": f"p{i}", "region": None, "lon": None, "lat": None, "pair": f"a{i}"}
             for i in range(5)]  # fmt: skip
    features = {
        "gist": rng.normal(size=(len(rows), 16)).astype(np.float32),
        "clip": rng.normal(size=(len(rows), 8)).astype(np.float32),
    }
    add_rows(store, "ground", rows, features)
    tiles = [{"id": f"t{i}", "region": "charleston", "lon": -79.9 + i * 0.005, "lat": 32.8,
              "size_m": TILE_M} for i in range(4)]  # fmt: skip
    add_rows(store, "map", tiles, {"gist": rng.normal(size=(4, 16)).astype(np.float32)})
    return store


def grid_tiles(columns: int = 7, rows: int = 6, skip=((5, 6),)):
    """Tile centres (lon, lat) every 480 m on a grid in the azimuthal equidistant frame of
    GRID_CENTRE, as a tile cutter lays them; the (row, column) pairs of ``skip`` left out
    (a hole inside the extent, for nodata)."""
    out = []
    for r in range(rows):
        for c in range(columns):
            if (r, c) in skip:
                continue
            east = (c - (columns - 1) / 2) * TILE_M
            north = ((rows - 1) / 2 - r) * TILE_M
            lon, lat = frame_lonlat(*GRID_CENTRE, east, north)
            out.append((f"t{r}_{c}", float(lon), float(lat)))
    return out


@pytest.fixture(scope="session")
def grid_store(tmp_path_factory):
    """41 map tiles of 480 m near Helsinki (one missing at a corner), six training pairs,
    and an isolated query photo inside tile t2_3; random 6-value gist features."""
    rng = np.random.default_rng(3)
    store = geovec.open(tmp_path_factory.mktemp("grid") / "db")
    tiles = grid_tiles()
    add_rows(
        store,
        "map",
        [
            {"id": i, "region": "helsinki", "lon": lo, "lat": la, "size_m": TILE_M}
            for i, lo, la in tiles
        ],  # fmt: skip
        {"gist": rng.normal(size=(len(tiles), 6)).astype(np.float32)},
    )
    far = [(f"g{i}", 25.2 + 0.01 * i, 60.3) for i in range(6)]  # far from the query
    add_rows(
        store,
        "ground",
        [
            {"id": i, "region": "helsinki", "lon": lo, "lat": la, "isolated": False, "pair": i}
            for i, lo, la in far
        ]  # fmt: skip
        + [
            {
                "id": "q",
                "region": "helsinki",
                "lon": tiles[17][1] + 0.0005,
                "lat": tiles[17][2] - 0.0003,
                "isolated": True,
            }
        ],  # fmt: skip
        {"gist": rng.normal(size=(7, 6)).astype(np.float32)},
    )
    add_rows(
        store,
        "overhead",
        [{"id": i, "region": "helsinki", "lon": lo, "lat": la} for i, lo, la in far],
        {"gist": rng.normal(size=(6, 6)).astype(np.float32)},
    )
    return store


def cog_validator():
    """The command that runs GDAL's COG validator (validate_cloud_optimized_geotiff.py of
    osgeo_utils, shipped with Debian's gdal-bin / python3-gdal), or None without it."""
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if not python:
            continue
        probe = subprocess.run(
            [python, "-c", "import osgeo_utils.samples.validate_cloud_optimized_geotiff"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return [python, "-m", "osgeo_utils.samples.validate_cloud_optimized_geotiff"]
    return None
