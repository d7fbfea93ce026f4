"""The dataset figures: Fig. 2 (mosaic beside the land-cover PCA image), Fig. 3 (coverage:
tile footprints and photos; PNG and georeferenced raster) and Fig. 4 (panoramas with their
cutouts, photos kept and dropped by the indoor filter)."""

import json

import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.exports.coverage import coverage_cog
from geovec.geo.cutouts import write_cutouts
from geovec.report.coverage import TILE_FACE, coverage_figure
from geovec.report.dataset_figures import examples_figure, panorama_groups, region_overview
from tests.stores import add_rows

runner = CliRunner()
RED, GREEN, BLUE, MAGENTA = (220, 20, 20), (20, 200, 20), (20, 20, 220), (230, 0, 230)
LON0, LAT0 = -122.42, 37.77  # a tile of 480 m and one of 240 m, 2 km apart
TILES = [("t0", LON0, LAT0, 480.0), ("t1", LON0 + 0.0227, LAT0 + 0.0, 240.0)]


def solid(path, colour, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return str(path)


def small_store(tmp_path, second_region=False):
    store = geovec.open(tmp_path / "db")
    tiles = [
        {
            "id": i,
            "region": "sf",
            "lon": lo,
            "lat": la,
            "size_m": s,
            "path": solid(tmp_path / f"{i}.png", RED),
        }
        for i, lo, la, s in TILES
    ]
    add_rows(store, "map", tiles, {})
    # one panorama cut by geovec cutouts (<stem>_h-090.jpg, <stem>_h+090.jpg beside it)
    pano = tmp_path / "street" / "p1.jpg"
    solid(pano, MAGENTA, (200, 100))
    cuts = write_cutouts([pano], tmp_path / "street", size=(80, 60))
    ground = [
        {
            "id": c.stem,
            "region": "sf",
            "source": "streetview",
            "lon": LON0 + 0.0005,
            "lat": LAT0,
            "path": str(c),
        }
        for c in cuts
    ]
    ground += [
        {
            "id": f"f{i}",
            "region": "sf",
            "source": "flickr",
            "lon": LON0 + 0.0227,
            "lat": LAT0 + 0.0004 * i,
            "path": solid(tmp_path / "photos" / f"f{i}.jpg", BLUE),
        }
        for i in range(3)
    ]
    ground.append({"id": "cvusa1", "region": "sf", "source": "cvusa", "lon": None, "lat": None})
    if second_region:
        ground.append({"id": "x", "region": "nyc", "source": "flickr", "lon": -74.0, "lat": 40.7})
    add_rows(store, "ground", ground, {})
    store.record_failures(
        [
            {
                "path": solid(tmp_path / "photos" / "kitchen.jpg", GREEN),
                "view": "ground",
                "stage": "indoor",
                "error": "Places205 top-1 scene kitchen is indoor (dropped by --outdoor-only)",
            }
        ]
    )
    return store


def pixels(path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def has_colour(image, colour, tol=30, at_least=20) -> bool:
    return int((np.abs(image - np.array(colour)).max(axis=2) < tol).sum()) >= at_least


def test_coverage_png_puts_each_footprint_where_it_is(tmp_path):
    store = small_store(tmp_path)
    result = geovec.coverage(store)
    (region,) = result.regions
    assert region.tiles == 2 and region.photos == {"streetview": 2, "flickr": 3}
    assert result.unlocated == 1
    assert region.origin == pytest.approx((LON0 + 0.0227 / 2, LAT0), abs=1e-4)  # the centre
    figure = coverage_figure(result, tmp_path / "cov.png")
    image = pixels(figure.path)
    (panel,) = figure.panels
    region = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={region.origin[1]} +lon_0={region.origin[0]} +datum=WGS84",
        always_xy=True,
    )
    left, top, right, bottom = panel.pixel_box
    (x0, x1), (y0, y1) = panel.xlim, panel.ylim

    def pixel(east, north):
        col = left + (east - x0) / (x1 - x0) * (right - left)
        row = top + (y1 - north) / (y1 - y0) * (bottom - top)
        return image[int(round(row)), int(round(col))]

    face = np.array([int(TILE_FACE[i : i + 2], 16) for i in (1, 3, 5)])
    for _, lon, lat, size in TILES:
        own = Transformer.from_crs(
            f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84", "EPSG:4326", always_xy=True
        )
        for fx, fy, inside in [
            (0.3, 0.3, True),
            (-0.4, -0.3, True),
            (0.4, -0.4, True),
            (0.62, 0.0, False),
            (0.0, -0.62, False),
            (-0.62, 0.3, False),
        ]:
            east, north = region.transform(*own.transform(fx * size, fy * size))
            colour = pixel(east, north)
            if inside:
                assert np.abs(colour - face).max() < 12, (lon, fx, fy, colour)
            else:
                assert (colour > 245).all(), (lon, fx, fy, colour)  # white: outside it


def test_coverage_raster_is_georeferenced(tmp_path):
    store = small_store(tmp_path)
    result = coverage_cog(geovec.coverage(store), tmp_path / "cov.tif", pixel_m=4)
    with rasterio.open(result.path) as ds:
        assert ds.count == 2 and ds.descriptions[0].startswith("tiles")
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG" and ds.overviews(1)
        tiles, photos = ds.read(1), ds.read(2)
        assert np.isnan(ds.nodata) and np.isnan(tiles).any()  # nodata outside the tiles
        tiles = np.nan_to_num(tiles)
        to_ds = Transformer.from_crs("EPSG:4326", ds.crs.to_wkt(), always_xy=True)
        for _, lon, lat, size in TILES:
            own = Transformer.from_crs(
                f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84", "EPSG:4326", always_xy=True
            )
            for fx, fy, value in [
                (0, 0, 1),
                (0.4, 0.4, 1),
                (-0.4, 0.3, 1),
                (0.47, -0.2, 1),
                (0.6, 0, 0),
                (0.53, 0.1, 0),
                (0, -0.6, 0),
            ]:
                row, col = ds.index(*to_ds.transform(*own.transform(fx * size, fy * size)))
                within = 0 <= row < ds.height and 0 <= col < ds.width
                assert (tiles[row, col] if within else 0) == value, (lon, fx, fy)
                assert within or value == 0  # the raster holds every footprint
        row, col = ds.index(*to_ds.transform(LON0 + 0.0227, LAT0 + 0.0004))
        assert photos[row, col] == 1 and photos.sum() == 5
    assert result.crs_proj.startswith("+proj=aeqd") and result.bands == ["tiles", "photos"]


def test_coverage_cli(tmp_path):
    small_store(tmp_path, second_region=True)
    db = str(tmp_path / "db")
    out = runner.invoke(app, ["coverage", db, "--out", str(tmp_path / "c.png")])
    assert out.exit_code == 0, out.output
    assert "sf: 2 tiles" in out.output and "without a position" in out.output
    assert (tmp_path / "c.png").stat().st_size > 1000
    tif = runner.invoke(app, ["coverage", db, "--out", str(tmp_path / "c.tif")])
    assert tif.exit_code == 1 and "several regions (nyc, sf)" in tif.output
    assert len(tif.output.strip().splitlines()) == 1
    one = runner.invoke(
        app, ["coverage", db, "--out", str(tmp_path / "c.tif"), "--region", "sf", "--json"]
    )
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)["width"] > 100 and (tmp_path / "c.tif").exists()
    png_pixels = runner.invoke(
        app, ["coverage", db, "--out", str(tmp_path / "d.png"), "--pixel-m", "5"]
    )
    assert png_pixels.exit_code == 1 and "--pixel-m" in png_pixels.output
    bad = runner.invoke(app, ["coverage", db, "--out", str(tmp_path / "c.jpg")])
    assert bad.exit_code == 1 and ".png" in bad.output


def test_region_overview_shows_mosaic_and_pca(tmp_path):
    store = small_store(tmp_path)
    alone = pixels(region_overview(store, "sf", tmp_path / "fig2.png"))
    assert has_colour(alone, RED, at_least=200)  # the tiles' own images, in the mosaic
    # with a land-cover result: its image in a second panel, same frame
    from geovec.analyses.landcover import LandcoverResult

    lc = LandcoverResult("sf", "gist", 2, [0.5, 0.2, 0.1], np.tile([[[0.1, 0.2, 0.9]]], (8, 20, 1)))
    lc.origin, lc.extent = (LON0 + 0.0227 / 2, LAT0), (-1200.0, 1200.0, -300.0, 300.0)
    both = pixels(region_overview(store, "sf", tmp_path / "fig2b.png", lc))
    assert both.shape[1] > alone.shape[1] and has_colour(both, (26, 51, 230), at_least=200)


def test_examples_show_panoramas_cutouts_and_indoor_drops(tmp_path):
    store = small_store(tmp_path)
    ((name, pano, cutouts),) = panorama_groups(store)
    assert name == "p1" and pano == str(tmp_path / "street" / "p1.jpg")
    assert [c["heading"] for c in cutouts] == [-90.0, 90.0]
    image = pixels(examples_figure(store, tmp_path / "fig4.png"))
    for colour in (MAGENTA, BLUE, GREEN):  # the panorama, a kept photo, the dropped one
        assert has_colour(image, colour, at_least=200), colour


def test_examples_without_drops_or_panoramas(tmp_path):
    store = geovec.open(tmp_path / "db")
    add_rows(
        store,
        "ground",
        [
            {
                "id": "a",
                "region": "r",
                "source": "flickr",
                "lon": 0.0,
                "lat": 0.0,
                "path": solid(tmp_path / "a.jpg", BLUE),
            }
        ],
        {},
    )
    assert panorama_groups(store) == []
    image = pixels(examples_figure(store, tmp_path / "fig4.png"))
    assert has_colour(image, BLUE, at_least=200) and not has_colour(image, GREEN)
