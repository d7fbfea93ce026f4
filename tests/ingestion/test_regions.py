"""Regions for data of one's own: --region NAME and --regions LAYER [--region-field F] on
ingest, grid and aerial, and geovec regions DB --set | --from to (re)assign them; a point in
no polygon gets no region and is counted. And geovec aerial's warning where a square is
more than 2x finer than its source."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

import geovec
from geovec.analyses.region_rules import RegionRule
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.ingestion.aerial import cut_aerial, read_points
from geovec.ingestion.sources import read_source
from tests import aerial_files
from tests.images import write_gps_jpeg, write_images, write_manifest
from tests.stores import store_from_arrays

runner = CliRunner()


def polygon(west, south, east, north):
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}  # fmt: skip


def write_layer(path, features):
    """A GeoJSON FeatureCollection of (properties, geometry)."""
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def layer(tmp_path):
    """west and east halves of Charleston; 'fiji' drawn across the antimeridian (178 to
    -178, the long way round as drawn); one more field, 'district'."""
    return write_layer(
        tmp_path / "districts.geojson",
        [
            ({"name": "west", "district": "d1"}, polygon(-80.0, 32.7, -79.94, 32.9)),
            ({"name": "east", "district": "d2"}, polygon(-79.94, 32.7, -79.9, 32.9)),
            ({"name": "fiji", "district": "d3"}, polygon(178.0, -19.0, -178.0, -16.0)),
        ],
    )


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_polygon_without_a_name_is_not_called_no_polygon(tmp_path):
    unnamed = write_layer(
        tmp_path / "unnamed.geojson",
        [({"name": None}, polygon(-80.0, 32.7, -79.9, 32.9)), ({"name": "b"}, polygon(0, 0, 1, 1))],
    )
    found = RegionRule.of(layer=unnamed).assign([-79.95, 0.5, 50.0], [32.8, 0.5, 50.0])
    assert found.regions == [None, "b", None]
    assert (found.outside, found.unnamed) == (1, 1)
    assert found.line("point") == (
        "1 point in 1 region, 1 in no polygon (no region), "
        "1 in a polygon without a name (no region)"
    )


def test_rule_joins_points_to_polygons(layer):
    rule = RegionRule.of(layer=layer)
    found = rule.assign(
        [-79.95, -79.92, -79.5, -179.5, 179.5, None], [32.8] * 3 + [-17.5] * 2 + [None]
    )
    assert found.regions == ["west", "east", None, "fiji", "fiji", None]
    assert (found.outside, found.unlocated) == (1, 1)
    assert found.line("point") == (
        "4 points in 3 regions, 1 in no polygon (no region), 1 without a position (no region)"
    )
    by_field = RegionRule.of(layer=layer, field="district").assign([-79.92], [32.8])
    assert by_field.regions == ["d2"]
    assert RegionRule.of(name="charleston").assign([1.0, None], [2.0, None]).regions == [
        "charleston",
        "charleston",
    ]
    for bad in (
        {"name": "a", "layer": layer},
        {"field": "name"},
        {"name": ""},
        {"name": "no region"},
    ):
        with pytest.raises(GeovecError):
            RegionRule.of(**bad)


def test_grid_with_regions(layer, tmp_path):
    out = tmp_path / "grid.csv"
    bbox = "-79.96,32.79,-79.92,32.80"  # across the two halves
    result = runner.invoke(
        app, ["grid", "--bbox", bbox, "--regions", str(layer), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    tiles = rows(out)
    assert {t["region"] for t in tiles} == {"west", "east"}
    assert all((t["region"] == "west") == (float(t["lon"]) < -79.94) for t in tiles)
    assert f"regions: {len(tiles)} tiles in 2 regions" in result.output
    result = runner.invoke(app, ["grid", "--bbox", bbox, "--region", "home", "--out", str(out)])
    assert {t["region"] for t in rows(out)} == {"home"}
    result = runner.invoke(
        app, ["grid", "--bbox", "-79.5,32.79,-79.49,32.80", "--regions", str(layer)]
    )
    assert result.exit_code == 0 and "in no polygon (no region)" in result.output
    assert runner.invoke(app, ["grid", "--bbox", bbox, "--region-field", "name"]).exit_code == 1


@pytest.fixture(scope="module")
def ortho(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ortho")
    pixels, transform = aerial_files.orthophoto()
    return aerial_files.write_geotiff(folder / "utm.tif", pixels, transform, aerial_files.UTM)


def test_aerial_with_a_region(ortho, tmp_path):
    (lon, lat), (lon2, lat2), _ = aerial_files.marks_lonlat()
    points = tmp_path / "points.csv"
    points.write_text(f"id,lon,lat,region\na,{lon},{lat},\nb,{lon2},{lat2},kept\n")
    result = runner.invoke(
        app, ["aerial", str(ortho), str(points), "--out", str(tmp_path / "a"), "--size-m", "240",
              "--region", "charleston"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [r["region"] for r in rows(tmp_path / "a" / "manifest.csv")] == ["charleston", "kept"]
    assert "regions: 1 point in 1 region" in result.output and "warning" not in result.output


def test_ingest_a_folder_and_a_manifest_with_regions(layer, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, lon in enumerate((-79.95, -79.92, -79.5)):
        write_gps_jpeg(photos / f"p{i}.jpg", lon, 32.8, seed=i)
    db = tmp_path / "db"
    result = runner.invoke(app, ["ingest", str(db), str(photos), "--regions", str(layer)])
    assert result.exit_code == 0, result.output
    assert "regions: 2 new rows in 2 regions, 1 in no polygon (no region)" in result.output
    with geovec.open(db) as store:
        got = dict(store.sql("select id, region from ground").fetchall())
    assert got == {"p0.jpg": "west", "p1.jpg": "east", "p2.jpg": None}
    images = write_images(tmp_path / "m", 2)
    manifest = write_manifest(
        tmp_path / "m.csv",
        [
            {"id": f"m{i}", "path": f"m/{p.name}", "lon": -79.9, "lat": 32.8}
            for i, p in enumerate(images)
        ],
    )
    assert runner.invoke(app, ["ingest", str(db), str(manifest), "--region", "home"]).exit_code == 0
    with geovec.open(db) as store:
        assert (
            store.sql("select region from ground where id like 'm%'").fetchall() == [("home",)] * 2
        )
    both = runner.invoke(
        app, ["ingest", str(db), str(manifest), "--region", "a", "--regions", str(layer)]
    )
    assert both.exit_code == 1 and "not both" in both.output


def test_regions_command(layer, tmp_path):
    rows_ = [
        ({"id": "w", "region": None, "lon": -79.95, "lat": 32.8}, [1.0]),
        ({"id": "e", "region": "old", "lon": -79.92, "lat": 32.8}, [2.0]),
        ({"id": "out", "region": "old", "lon": 0.0, "lat": 0.0}, [3.0]),
    ]
    tiles = [({"id": "t", "region": None, "lon": -79.92, "lat": 32.8, "size_m": 480.0}, [1.0])]
    store = store_from_arrays(tmp_path / "db", rows_, [], tiles)
    db = str(store.path)

    def regions(view):
        return dict(store.sql(f"select id, region from {view} order by id").fetchall())

    result = runner.invoke(app, ["regions", db, "--from", str(layer), "--table", "ground"])
    assert result.exit_code == 0, result.output
    assert regions("ground") == {"w": "west", "e": "east", "out": None}
    assert regions("map") == {"t": None}
    assert "ground: 2 ground images in 2 regions, 1 in no polygon (no region)" in result.output
    result = runner.invoke(app, ["regions", db, "--set", "all", "--json"])
    assert json.loads(result.stdout)["tables"]["map"] == {
        "rows": 1, "regions": {"all": 1}, "outside": 0, "unlocated": 0
    }  # fmt: skip
    assert set(regions("ground").values()) == set(regions("map").values()) == {"all"}
    for bad in ([], ["--set", "a", "--from", str(layer)], ["--set", "x", "--table", "sky"]):
        result = runner.invoke(app, ["regions", db, *bad])
        assert result.exit_code == 1 and result.output.startswith("error: "), result.output


def test_aerial_warns_where_finer_than_the_source(tmp_path):
    """480 m squares at 256 px from 300 m pixels: 1.6 source pixels a side (160x finer)."""
    from rasterio.transform import from_origin

    cx, cy = aerial_files.utm_frame()
    coarse = aerial_files.write_geotiff(
        tmp_path / "coarse.tif",
        aerial_files.texture(20),
        from_origin(cx - 3000, cy + 3000, 300.0, 300.0),
        aerial_files.UTM,
    )
    lon, lat = aerial_files.CENTRE
    points = tmp_path / "points.csv"
    points.write_text(f"id,lon,lat\na,{lon},{lat}\nb,{lon + 0.001},{lat}\n")
    summary = cut_aerial(coarse, points, tmp_path / "a")
    assert summary.written == summary.upsampled == 2
    assert summary.fewest_source_px == pytest.approx(1.6, abs=0.01)
    assert "2 more than 2x finer than the source" in summary.line()
    result = runner.invoke(app, ["aerial", str(coarse), str(points), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "as few as 1.6 source pixels" in warnings[0]
    assert "about 300 m each" in warnings[0]
    # the limit: 3 px across 1.6 source pixels is 1.9x finer, 4 px 2.5x
    assert cut_aerial(coarse, points, tmp_path / "c", px=3).upsampled == 0
    assert cut_aerial(coarse, points, tmp_path / "d", px=4).upsampled == 2


def test_no_stored_region_reads_as_no_region(tmp_path):
    """A layer's polygon or a manifest's cell named '', blank or 'no region' stores null
    (its address and how null is shown), never a region that reads as none; names are
    trimmed as --region trims them."""
    layer = write_layer(
        tmp_path / "odd.geojson",
        [
            ({"name": ""}, polygon(0.0, 0.0, 1.0, 1.0)),
            ({"name": "no region"}, polygon(1.0, 0.0, 2.0, 1.0)),
            ({"name": "  "}, polygon(2.0, 0.0, 3.0, 1.0)),
            ({"name": " west "}, polygon(3.0, 0.0, 4.0, 1.0)),
        ],
    )
    found = RegionRule.of(layer=layer).assign([0.5, 1.5, 2.5, 3.5], [0.5] * 4)
    assert found.regions == [None, None, None, "west"]
    images = write_images(tmp_path / "m", 1)
    manifest = tmp_path / "m.csv"
    cells = ("no region", " ", " a ")
    manifest.write_text(
        "id,path,lon,lat,region\n"
        + "".join(f"{i},m/{images[0].name},1,2,{r}\n" for i, r in enumerate(cells))
    )
    records, _ = read_source(manifest)
    assert [r.region for r in records] == [None, None, "a"]
    points, _ = read_points(manifest)  # geovec aerial's points: --region names the first two
    assert [p["region"] for p in points] == [None, None, "a"]


def test_regions_region_field_names_from(layer, tmp_path):
    one = [({"id": "w", "lon": 0.0, "lat": 0.0}, [1.0])]
    store = store_from_arrays(tmp_path / "db", one, [], [])
    result = runner.invoke(app, ["regions", str(store.path), "--set", "a", "--region-field", "x"])
    assert result.exit_code == 1 and "--from LAYER" in result.output, result.output
