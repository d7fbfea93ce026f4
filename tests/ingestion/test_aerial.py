"""Cutting aerial images for points, through the API and the CLI: the paper's two steps
(grid -> map tiles; ground positions -> centred overhead images), then ingest."""

import csv

import pytest
from PIL import Image
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.ingestion.aerial import cut_aerial, file_name
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
    assert [(r["id"], r["path"], r["pair"]) for r in manifest] == [  # a hash: ids differ
        ("photo/1", file_name("photo/1"), "photo/1"),
        ("photo 2", file_name("photo 2"), "photo 2"),
    ]
    assert file_name("photo/1").startswith("photo_1-")
    failures = {f["id"]: f for f in rows(summary.failures)}
    assert failures["far"]["error"] == "outside the source's coverage"
    assert failures["bad"]["stage"] == "points" and "lon" in failures["bad"]["error"]


def _photos(folder):
    """Two geotagged photos (EXIF GPS) inside the orthophoto: ids p0.jpg and p1.jpg."""
    from tests.images import write_gps_jpeg

    lon, lat = aerial_files.CENTRE
    folder.mkdir(parents=True)
    for i in range(2):
        write_gps_jpeg(folder / f"p{i}.jpg", lon + i * 1e-3, lat - i * 1e-3, seed=i)
    return folder


def _pairs(db):
    rows = geovec.open(db).read("ground", ["id", "pair"]).to_pylist()
    return {r["id"]: r["pair"] for r in rows}


def test_own_imagery_pipeline_links_each_photo_to_its_aerial(ortho, tmp_path):
    """The README's pipeline (photos by EXIF, their positions out with geovec sql, geovec
    aerial --view overhead, ingest) sets ground.pair of every photo, which search follows:
    before, pair stayed null and only equal ids linked them."""
    photos, db = _photos(tmp_path / "photos"), str(tmp_path / "db")
    assert runner.invoke(app, ["ingest", db, str(photos), "--features", "gist"]).exit_code == 0
    sql = ["sql", db, "select id, lon, lat, region from ground", "--format", "csv"]
    points = tmp_path / "points.csv"
    points.write_text(runner.invoke(app, sql).output)
    out = tmp_path / "aerial"
    cut = ["aerial", str(ortho), str(points), "--view", "overhead", "--out", str(out)]
    assert runner.invoke(app, [*cut, "--size-m", "100", "--px", "32"]).exit_code == 0
    ingest = runner.invoke(app, ["ingest", db, str(out / "manifest.csv"), "--features", "gist"])
    assert ingest.exit_code == 0, ingest.output
    assert _pairs(db) == {"p0.jpg": "p0.jpg", "p1.jpg": "p1.jpg"}
    assert "linked 2 pairs" in ingest.output
    hit = geovec.search(geovec.open(db), "gist", image=out / "p1.jpg.png", k=1)[0]
    assert (hit.id, hit.ground_id) == ("p1.jpg", "p1.jpg")
    assert hit.ground_path.endswith("p1.jpg")


def test_aerials_ingested_before_their_photos_are_linked_too(ortho, tmp_path):
    lon, lat = aerial_files.CENTRE
    points = tmp_path / "points.csv"
    points.write_text(f"id,lon,lat\np0.jpg,{lon},{lat}\np1.jpg,{lon + 1e-3},{lat - 1e-3}\n")
    summary = cut_aerial(ortho, points, tmp_path / "aerial", size_m=100, px=32, view="overhead")
    store = geovec.open(tmp_path / "db")
    geovec.ingest(store, summary.manifest, features="gist")
    assert geovec.ingest(store, _photos(tmp_path / "photos"), features="gist").linked == 2
    assert _pairs(tmp_path / "db") == {"p0.jpg": "p0.jpg", "p1.jpg": "p1.jpg"}


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


def test_file_names_of_different_ids_differ():
    """geovec aerial names each image after its id; ids that differ only in characters a
    file name cannot hold still get files of their own (one photo, one aerial)."""
    from geovec.ingestion.aerial import file_name

    ids = ["東京1.jpg", "大阪1.jpg", "IMG 0001.jpg", "IMG_0001.jpg", "a/b", "a_b", "..", "."]
    names = [file_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert file_name("IMG_0001.jpg") == "IMG_0001.jpg.png"  # plain ids keep their name
    assert all("/" not in n and n not in (".png", "..png") for n in names)
