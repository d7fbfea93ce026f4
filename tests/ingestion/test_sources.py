import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from geovec.errors import ManifestError
from geovec.ingestion.exif import exif_position
from geovec.ingestion.sources import read_source
from tests.images import write_gps_jpeg, write_images, write_manifest


@pytest.mark.parametrize(
    "lon,lat",
    [(151.2093, -33.8688), (-79.9311, 32.7765), (-58.38, -34.60), (139.69, 35.68), (0.0, 0.5)],
)
def test_exif_gps_all_hemispheres(tmp_path, lon, lat):
    path = write_gps_jpeg(tmp_path / "gps.jpg", lon, lat)
    got_lon, got_lat = exif_position(path)
    assert got_lon == pytest.approx(lon, abs=1e-6) and got_lat == pytest.approx(lat, abs=1e-6)


def test_folder_without_gps_is_a_failure(tmp_path):
    write_gps_jpeg(tmp_path / "a.jpg", 10.0, 20.0)
    write_images(tmp_path, 1)  # a PNG without EXIF
    records, failures = read_source(tmp_path)
    assert [r.id for r in records] == ["a.jpg"]
    assert [(f.stage, f.error) for f in failures] == [("location", "no GPS position")]
    assert records[0].lon == pytest.approx(10.0) and records[0].view == "ground"


def gps_jpeg_without(path, *missing: int, refs=None):
    """A JPEG whose EXIF GPS IFD holds lat 33.87 (S by its ref), lon 151.21 (E), less the
    tags in ``missing``; ``refs`` overrides the reference tags' values."""
    from PIL import Image

    from tests.images import noise_image, rational

    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (rational(33), rational(52), rational(7.68))
    gps[3], gps[4] = "E", (rational(151), rational(12), rational(33.48))
    gps.update(refs or {})
    for tag in missing:
        del gps[tag]
    noise_image(0).save(path, exif=exif)
    return path


@pytest.mark.parametrize(
    "missing,refs,reason",
    [
        ((1,), None, "GPSLatitudeRef is missing"),
        ((3,), None, "GPSLongitudeRef is missing"),
        ((1, 3), None, "GPSLatitudeRef is missing"),
        ((), {1: "X"}, "GPSLatitudeRef 'X' is not N or S"),
    ],
)
def test_exif_gps_without_its_hemisphere_is_a_failure(tmp_path, missing, refs, reason):
    """Never taken as north-east: a failure row (stage location) with the reason."""
    path = gps_jpeg_without(tmp_path / "photo.jpg", *missing, refs=refs)
    with pytest.raises(ValueError, match=reason):
        exif_position(path)
    records, failures = read_source(tmp_path)
    assert records == []
    assert [(f.stage, f.path, f.view) for f in failures] == [("location", str(path), "ground")]
    assert reason in failures[0].error


def test_exif_gps_with_its_references_reads_both_signs(tmp_path):
    path = gps_jpeg_without(tmp_path / "photo.jpg")
    lon, lat = exif_position(path)
    assert lon == pytest.approx(151.2093) and lat == pytest.approx(-33.8688)


def test_unreadable_image_in_a_folder_is_a_decode_failure(tmp_path):
    (tmp_path / "notes.jpg").write_text("no GPS here: not an image")
    _, failures = read_source(tmp_path)
    assert [(f.stage, f.error) for f in failures] == [
        ("decode", "cannot read the image (UnidentifiedImageError)")
    ]


def rows(tmp_path):
    write_images(tmp_path / "sub", 3)
    return [
        {
            "id": "a",
            "path": "sub/img0000.png",
            "view": "ground",
            "lon": 1.5,
            "lat": 2.5,
            "region": "x",
        },
        {
            "id": "b",
            "path": "sub/img0001.png",
            "view": "overhead",
            "lon": -1.5,
            "lat": -2.5,
            "region": "y",
        },
        {"id": "a", "path": "sub/img0002.png", "view": "ground", "lon": 0, "lat": 0, "region": "x"},
        {"id": "c", "path": "sub/missing.png", "view": "ground", "lon": 0, "lat": 0, "region": "x"},
        {
            "id": "d",
            "path": "sub/img0002.png",
            "view": "ground",
            "lon": 181,
            "lat": 0,
            "region": "x",
        },
        {
            "id": "e",
            "path": "sub/img0002.png",
            "view": "ground",
            "lon": 5,
            "lat": float("nan"),
            "region": "x",
        },
        {"id": "f", "path": "sub/img0002.png", "view": "street", "lon": 5, "lat": 5, "region": "x"},
    ]


def write_format(tmp_path, fmt, data):
    if fmt == "csv":
        return write_manifest(tmp_path / "m.csv", data)
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(data), tmp_path / "m.parquet")
        return tmp_path / "m.parquet"
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
        }
        for r in data
    ]
    path = tmp_path / "m.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}).replace("NaN", "null")
    )
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet", "geojson"])
def test_manifest_formats_validate_rows(tmp_path, fmt):
    path = write_format(tmp_path, fmt, rows(tmp_path))
    records, failures = read_source(path)
    assert [(r.id, r.view) for r in records] == [("a", "ground"), ("b", "overhead")]
    assert records[0].path == (tmp_path / "sub" / "img0000.png").resolve()
    assert records[1].lon == -1.5 and records[1].lat == -2.5
    errors = sorted(f.error.split(" ")[0] for f in failures)
    assert len(failures) == 5, failures
    assert any("repeated" in f.error for f in failures)
    assert any("file not found" in f.error for f in failures)
    assert any("outside" in f.error for f in failures)
    assert any("unknown view" in f.error for f in failures)
    assert errors


def test_view_filter(tmp_path):
    path = write_format(tmp_path, "csv", rows(tmp_path))
    records, _ = read_source(path, view="overhead")
    assert [r.id for r in records] == ["b"]


def test_unreadable_manifest(tmp_path):
    with pytest.raises(ManifestError, match="no such manifest"):
        read_source(tmp_path / "nope.csv")
    bad = tmp_path / "m.txt"
    bad.write_text("x")
    with pytest.raises(ManifestError, match=".csv, .parquet or .geojson"):
        read_source(bad)
    missing_cols = write_manifest(tmp_path / "cols.csv", [])
    missing_cols.write_text("id,path\na,b\n")
    with pytest.raises(ManifestError, match="lon, lat"):
        read_source(missing_cols)


def test_bad_size_and_pair_only_rows(tmp_path):
    """A bad size_m is a failure row, not a crash; a ground or overhead row with a pair and
    no position is kept without one; a map tile must have a position."""
    write_images(tmp_path, 4)
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "id,path,view,lon,lat,pair,size_m\n"
        "t1,img0000.png,map,1,2,,abc\n"
        "g1,img0001.png,ground,,,o1,\n"
        "o1,img0002.png,overhead,,,o1,\n"
        "t2,img0003.png,map,,,x,\n"
    )
    records, failures = read_source(manifest)
    assert sorted((f.path, f.error) for f in failures) == [
        (str(tmp_path / "img0000.png"), "size_m 'abc' is not a number"),
        (str(tmp_path / "img0003.png"), "lon None is not a number"),
    ]
    kept = {r.id: (r.view, r.lon, r.lat, r.pair) for r in records}
    assert kept == {"g1": ("ground", None, None, "o1"), "o1": ("overhead", None, None, "o1")}
