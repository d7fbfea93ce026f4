"""landcover --out X.tif and localize --heatmap X.tif|X.geojson|X.parquet: Cloud
Optimized GeoTIFFs in the region's frame (or EPSG:3857) and per-tile polygons.

COG layout: checked with GDAL's own validator (osgeo_utils'
validate_cloud_optimized_geotiff.py, from Debian's gdal-bin / python3-gdal, which `make
gdal-tools` installs) where it is installed, and always with rasterio (tiled, overviews,
the COG driver's LAYOUT=COG mark)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import rasterio
from pyproj import CRS, Geod, Transformer
from shapely.geometry import Point, shape
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import ExportError
from geovec.exports.products import write_heatmap_product
from geovec.exports.rasters import heatmap_cog, landcover_cog, read_tags
from tests.exports.conftest import GRID_CENTRE, TILE_M, cog_validator, grid_tiles

runner = CliRunner()
HOLE = next((lon, lat) for i, lon, lat in grid_tiles(skip=()) if i == "t5_6")
"""Where the grid's missing tile would be: no tile covers it, so the rasters hold nodata."""


@pytest.fixture(scope="module")
def localization(grid_store):
    return geovec.localize(grid_store, "gist", id="q", neighbors=2)


def assert_cog(path) -> str:
    """The file is a COG; returns which check said so."""
    with rasterio.open(path) as dataset:
        assert dataset.profile["tiled"] and dataset.overviews(1), dataset.profile
        assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    command = cog_validator()
    if command is None:
        return "rasterio"
    result = subprocess.run([*command, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "is a valid cloud optimized GeoTIFF" in result.stdout, (
        result.stdout + result.stderr
    )
    return "gdal"


def sample(path, lon: float, lat: float) -> np.ndarray:
    """The band values at lon/lat (decimal degrees), located through the file's own CRS."""
    with rasterio.open(path) as dataset:
        to_file = Transformer.from_crs("EPSG:4326", CRS.from_wkt(dataset.crs.to_wkt()),
                                       always_xy=True)  # fmt: skip
        x, y = to_file.transform(lon, lat)
        row, col = dataset.index(x, y)
        return dataset.read(window=((row, row + 1), (col, col + 1)))[:, 0, 0]


def tile_lonlat(result, tile: str) -> tuple[float, float]:
    i = result.tile_ids.index(tile)
    return float(result.tile_lonlat[i, 0]), float(result.tile_lonlat[i, 1])


@pytest.mark.filterwarnings("ignore:You will likely lose important projection")
def test_heatmap_cog_in_the_region_frame(localization, tmp_path):
    path = tmp_path / "heat.tif"
    written = heatmap_cog(localization, path)
    assert assert_cog(path) in ("gdal", "rasterio")
    with rasterio.open(path) as dataset:
        assert dataset.descriptions == ("score", "rank") and dataset.count == 2
        assert np.isnan(dataset.nodata) and dataset.dtypes == ("float32", "float32")
        crs = CRS.from_wkt(dataset.crs.to_wkt())
        params = crs.to_dict()
        assert params["proj"] == "aeqd"
        assert params["lat_0"] == pytest.approx(GRID_CENTRE[1], abs=1e-3)
        assert params["lon_0"] == pytest.approx(GRID_CENTRE[0], abs=1e-3)
        assert dataset.res[0] == pytest.approx(TILE_M / 16, rel=0.01)  # 16 px per tile
        nodata = np.isnan(dataset.read(1)).mean()
    assert written.crs_proj.startswith("+proj=aeqd") and written.crs_code is None
    assert 0.01 < nodata < 0.2  # the missing tile t5_6 and the rim
    tags = read_tags(path)
    assert tags["kind"] == "heatmap" and tags["query"] == "q" and tags["true_tile"] == "t2_3"
    assert tags["proj"] == written.crs_proj


@pytest.mark.parametrize("crs", [None, "EPSG:3857"])
def test_a_known_tile_pixel_lands_at_its_lon_lat(localization, tmp_path, crs):
    path = tmp_path / "heat.tif"
    heatmap_cog(localization, path, crs=crs)
    ranks = [1 + int((localization.scores < v).sum()) for v in localization.scores]
    for tile in ("t2_3", "t0_0", "t5_5", localization.best.column("id")[0].as_py()):
        i = localization.tile_ids.index(tile)
        score, rank = sample(path, *tile_lonlat(localization, tile))
        assert score == pytest.approx(float(localization.scores[i]), rel=1e-6)
        assert rank == ranks[i]
    assert np.isnan(sample(path, *HOLE)).all()
    if crs:
        with rasterio.open(path) as dataset:
            assert dataset.crs.to_epsg() == 3857


@pytest.mark.filterwarnings("ignore:You will likely lose important projection")
def test_landcover_cog_bands_and_pixels(grid_store, tmp_path):
    result = geovec.landcover(grid_store, "gist")
    path = tmp_path / "lc.tif"
    landcover_cog(result, path)
    which = assert_cog(path)
    with rasterio.open(path) as dataset:
        assert dataset.descriptions == ("PC1", "PC2", "PC3")
        assert dataset.tags(1)["explained_variance"] == f"{result.explained_variance[0]:.6g}"
        crs = CRS.from_wkt(dataset.crs.to_wkt())
        assert crs.to_dict()["proj"] == "aeqd"
        west, east, south, north = result.extent
        assert tuple(dataset.bounds) == pytest.approx((west, south, east, north))
        image = dataset.read()
    assert image.shape == (3, *result.image.shape[:2])
    inside = ~np.isnan(image[0])
    assert np.allclose(np.moveaxis(image, 0, 2)[inside], result.image[inside], atol=1e-6)
    assert 0.01 < (~inside).mean() < 0.2  # the missing tile and the rim
    centre = sample(path, float(result.tile_lonlat[0, 0]), float(result.tile_lonlat[0, 1]))
    assert np.isfinite(centre).all()
    assert np.isnan(sample(path, *HOLE)).all()
    assert read_tags(path)["explained_variance"] == pytest.approx(result.explained_variance)
    web = tmp_path / "lc3857.tif"
    landcover_cog(result, web, crs="EPSG:3857")
    assert assert_cog(web) == which
    with rasterio.open(web) as dataset:  # nearest neighbour: each pixel holds the value
        to_lonlat = Transformer.from_crs(dataset.crs.to_wkt(), "EPSG:4326", always_xy=True)
        warped = dataset.read()  # of the frame's pixel under its centre
        h, w = warped.shape[1:]
        for row, col in ((h // 4, w // 4), (h // 2, w // 2), (3 * h // 4, 2 * w // 3)):
            lon, lat = to_lonlat.transform(*dataset.xy(row, col))
            expected = sample(path, lon, lat)
            assert warped[:, row, col] == pytest.approx(expected, abs=1e-6, nan_ok=True)


def test_heatmap_tiles_as_geojson_and_geoparquet(localization, tmp_path):
    geopandas = pytest.importorskip("geopandas")
    for name in ("tiles.geojson", "tiles.parquet"):
        path = write_heatmap_product(localization, tmp_path / name)
        frame = geopandas.read_file(path) if name.endswith("json") else geopandas.read_parquet(path)
        assert len(frame) == localization.candidates
        assert frame.crs.equals("EPSG:4326") or frame.crs.equals("OGC:CRS84")
        true = frame[frame["true"]]
        assert list(true.id) == ["t2_3"]
        photo = Point(*localization.true_lonlat)
        assert frame[frame.contains(photo)].id.tolist() == ["t2_3"]
        best = frame.sort_values("rank").iloc[0]
        assert best.id == localization.best.column("id")[0].as_py() and best["rank"] == 1
        area, _ = Geod(ellps="WGS84").geometry_area_perimeter(frame.geometry.iloc[0])
        assert area == pytest.approx(TILE_M**2, rel=0.005)  # counterclockwise: positive
    data = json.loads((tmp_path / "tiles.geojson").read_text())
    assert data["geovec"]["query"] == "q" and data["features"][0]["properties"]["score"] >= 0
    assert shape(data["features"][0]["geometry"]).exterior.is_ccw


def test_cli_writes_by_extension(grid_store, tmp_path):
    db = str(grid_store.path)
    base = ["localize", db, "--id", "q", "--feature", "gist", "--neighbors", "2"]
    for name, extra in (("h.tif", []), ("h3857.tif", ["--crs", "EPSG:3857"]),
                        ("h.geojson", []), ("h.parquet", []), ("h.png", [])):  # fmt: skip
        result = runner.invoke(app, [*base, "--heatmap", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
        assert f"wrote {tmp_path / name}" in result.output
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    with rasterio.open(tmp_path / "h3857.tif") as dataset:
        assert dataset.crs.to_epsg() == 3857
    lc = runner.invoke(app, ["landcover", db, "--feature", "gist", "--out",
                             str(tmp_path / "lc.tif"), "--json"])  # fmt: skip
    assert lc.exit_code == 0 and json.loads(lc.output)["out"] == str(tmp_path / "lc.tif")
    assert_cog(tmp_path / "lc.tif")
    for args, message in (
        ([*base, "--heatmap", str(tmp_path / "h.svg")], "named with one of"),
        ([*base, "--heatmap", str(tmp_path / "h.geojson"), "--crs", "EPSG:3857"], "--crs"),
        ([*base, "--heatmap", str(tmp_path / "x.tif"), "--crs", "EPSG:99999"], "not a CRS"),
        (["landcover", db, "--feature", "gist", "--out", str(tmp_path / "l.geojson")], ".tif"),
    ):
        bad = runner.invoke(app, args)
        assert bad.exit_code == 1 and message in bad.output, bad.output
        assert "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.tif").exists()


def test_user_errors(localization, tmp_path):
    with pytest.raises(ExportError, match=".tif"):
        heatmap_cog(localization, tmp_path / "heat.png")
    with pytest.raises(ExportError, match="pixels per tile"):
        heatmap_cog(localization, tmp_path / "heat.tif", pixels_per_tile=0)
