"""Cutting aerial images for points, through the API and the CLI: the paper's two steps
(grid -> map tiles; ground positions -> centred overhead images), then ingest."""

import csv

import pytest
from PIL import Image
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.ingestion.aerial import cut_aerial
from tests import aerial_files

runner = CliRunner()


@pytest.fixture(scope="module")
def ortho(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ortho")
    pixels, transform = aerial_files.orthophoto()
    return aerial_files.write_geotiff(folder / "utm.tif", pixels, transform, aerial_files.UTM)


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_grid_to_map_tiles_to_ingest(ortho, tmp_path):
    """geovec grid over the orthophoto, geovec aerial, geovec ingest: every tile inside
    the raster is written and ingested, the ones past its edge are failures."""
    lon, lat = aerial_files.CENTRE
    bbox = f"{lon - 0.012},{lat - 0.01},{lon + 0.012},{lat + 0.01}"  # wider than the raster
    grid_csv = tmp_path / "grid.csv"
    assert (
        runner.invoke(
            app, ["grid", "--bbox", bbox, "--tile-m", "240", "--out", str(grid_csv)]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        app,
        [
            "aerial",
            str(ortho),
            str(grid_csv),
            "--out",
            str(tmp_path / "tiles"),
            "--size-m",
            "240",
            "--px",
            "64",
        ],
    )
    assert result.exit_code == 0, result.output
    grid, manifest = rows(grid_csv), rows(tmp_path / "tiles" / "manifest.csv")
    failures = rows(tmp_path / "tiles" / "failures.csv")
    assert len(manifest) + len(failures) == len(grid) and manifest and failures
    assert {f["stage"] for f in failures} == {"aerial"}
    assert all("coverage" in f["error"] or "no data" in f["error"] for f in failures)
    assert f"wrote {len(manifest)} images" in result.output
    first = manifest[0]
    assert first["view"] == "map" and float(first["size_m"]) == 240.0 and not first["pair"]
    assert Image.open(tmp_path / "tiles" / first["path"]).size == (64, 64)
    store = geovec.open(tmp_path / "db")
    summary = geovec.ingest(store, tmp_path / "tiles" / "manifest.csv", features="gist")
    assert summary.ingested == len(manifest) and store.count("map") == len(manifest)


def test_overhead_images_for_ground_positions(ortho, tmp_path):
    """Points from geovec sql --format csv (ground positions) become overhead images paired
    with their ground image; a bad row and a point far away are failures, the rest go on."""
    lon, lat = aerial_files.CENTRE
    points = tmp_path / "points.csv"
    points.write_text(
        '"id","lon","lat","region"\n'
        f'"photo/1",{lon},{lat},"chs"\n'
        f'"photo 2",{lon + 0.001},{lat - 0.001},"chs"\n'
        '"far",10.0,10.0,"chs"\n'
        '"bad",999,0,"chs"\n'
    )
    summary = cut_aerial(ortho, points, tmp_path / "aerial", size_m=100, px=32, view="overhead")
    assert (summary.written, summary.failed) == (2, 2)
    manifest = rows(summary.manifest)
    assert [(r["id"], r["path"], r["pair"]) for r in manifest] == [
        ("photo/1", "photo_1.png", "photo/1"),
        ("photo 2", "photo_2.png", "photo 2"),
    ]
    failures = {f["id"]: f for f in rows(summary.failures)}
    assert failures["far"]["error"] == "outside the source's coverage"
    assert failures["bad"]["stage"] == "points" and "lon" in failures["bad"]["error"]


def test_bad_arguments(ortho, tmp_path):
    with pytest.raises(GeovecError, match="view must be map or overhead"):
        cut_aerial(ortho, tmp_path / "p.csv", tmp_path / "o", view="ground")
    (tmp_path / "p.csv").write_text("name,x,y\na,1,2\n")
    with pytest.raises(GeovecError, match="needs id, lon and lat"):
        cut_aerial(ortho, tmp_path / "p.csv", tmp_path / "o")
    result = runner.invoke(app, ["aerial", str(ortho), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "POINTS" in result.output
    result = runner.invoke(
        app,
        [
            "aerial",
            str(tmp_path / "nope.tif"),
            str(tmp_path / "p.csv"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1 and "no such file" in result.output
