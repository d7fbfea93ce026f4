"""geovec dataset places: trees in the VPR benchmark's layout, made here with its real
file-name format (tests/dataset_trees.py), read through the API and the CLI."""

import pyarrow.parquet as pq
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from geovec.cli import app
from geovec.errors import DatasetError
from geovec.ingestion.datasets import import_dataset
from geovec.ingestion.datasets.places import parse_name, parse_zone
from tests import dataset_trees
from tests.dataset_trees import SF_UTM, places_name

runner = CliRunner()
DATABASE = [(10.0 * k, 0.0, k) for k in range(6)]
QUERIES = [(3.0, 4.0, 1), (400.0, 0.0, 2), (-20.0, -7.5, 50)]
TO_LONLAT = Transformer.from_crs("EPSG:32610", "EPSG:4326", always_xy=True)


def expected_lonlat(de, dn):
    return TO_LONLAT.transform(SF_UTM[0] + de, SF_UTM[1] + dn)


def rows_of(manifest):
    return pq.read_table(manifest).to_pylist()


@pytest.mark.parametrize("fields", ["full", "no_lonlat"])
def test_plain_layout_positions_from_the_names(tmp_path, fields):
    root = dataset_trees.places(tmp_path / "sf", DATABASE, QUERIES, fields=fields)
    summary = import_dataset("places", root, tmp_path / "places.parquet")
    assert (summary.ground, summary.overhead) == (9, 0)
    assert summary.splits == {"database": 6, "queries": 3} and summary.left_out == 0
    rows = rows_of(summary.manifest)
    assert [r["split"] for r in rows] == ["database"] * 6 + ["queries"] * 3
    assert {r["source"] for r in rows} == {"places"} and {r["view"] for r in rows} == {"ground"}
    assert {r["region"] for r in rows} == {"sf"}
    by_id = {r["id"]: r for r in rows}
    for split, items in (("database", DATABASE), ("queries", QUERIES)):
        for k, (de, dn, _) in enumerate(items):
            name = places_name(SF_UTM[0] + de, SF_UTM[1] + dn, fields, note=f"{split[0]}{k}")
            row = by_id[name.removesuffix(".jpg")]  # the id is the file's stem
            sub = f"part{k % 2}/" if split == "database" else ""
            assert row["path"] == f"sf/{split}/{sub}{name}"  # relative to the manifest
            assert (tmp_path / row["path"]).is_file()
            # UTM (centimetres) wins over the names' 5-decimal degrees, which agree within 1 m
            assert (row["lon"], row["lat"]) == pytest.approx(expected_lonlat(de, dn), abs=1e-9)


def test_images_test_layout_lists_and_msls_names_need_a_zone(tmp_path):
    root = dataset_trees.places(
        tmp_path / "msls", DATABASE, QUERIES, layout="images/test", fields="msls", lists=True
    )
    out = tmp_path / "m.parquet"
    result = runner.invoke(app, ["dataset", "places", str(root), "--out", str(out)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "images/test/database/part0/@" in result.output and "--utm-zone" in result.output
    assert not out.exists()
    (root / "images/test/queries/" / QUERY_NAME(2)).unlink()  # a listed image is not there
    result = runner.invoke(
        app, ["dataset", "places", str(root), "--out", str(out), "--utm-zone", "10S"]
    )
    assert result.exit_code == 0, result.output
    assert "places: 8 ground and 0 overhead images (database 6, queries 2)" in result.output
    rows = rows_of(out)
    assert not any("decoy" in r["id"] for r in rows)  # the lists, not a glob
    ids = [r["id"] for r in rows if r["split"] == "queries"]
    assert ids == [QUERY_NAME(0).removesuffix(".jpg"), QUERY_NAME(1).removesuffix(".jpg")]
    for r, (de, dn, _) in zip([r for r in rows if r["split"] == "database"], DATABASE):
        assert (r["lon"], r["lat"]) == pytest.approx(expected_lonlat(de, dn), abs=1e-9)
    missing = (tmp_path / "m_missing.csv").read_text().splitlines()
    listing = "images/test/queries_images_paths.txt"
    assert missing[1] == f"images/test/queries/{QUERY_NAME(2)},{listing}:3"


def QUERY_NAME(k):  # noqa: N802 - the msls tree's k-th query file
    de, dn, _ = QUERIES[k]
    return places_name(SF_UTM[0] + de, SF_UTM[1] + dn, "msls", note=f"q{k}")


def test_equal_stems_fall_back_to_paths(tmp_path):
    root = dataset_trees.places(tmp_path / "sf", DATABASE[:2], QUERIES[:1])
    name = places_name(*SF_UTM, note="d0")  # the first database image's name, in queries
    dataset_trees._image(root / "queries" / "again" / name, 7, (48, 32))
    rows = rows_of(import_dataset("places", root, tmp_path / "m.parquet").manifest)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids) == 4
    assert f"database/part0/{name.removesuffix('.jpg')}" in ids
    assert f"queries/again/{name.removesuffix('.jpg')}" in ids


@pytest.mark.parametrize(
    "bad, message",
    [
        ("holiday_photo.jpg", "not @utm_east@utm_north@"),
        ("@543256.96@north@10@S@@@.jpg", "no UTM easting and northing"),
        # UTM and latitude/longitude of two places 4.4 km apart
        ("@0543256.96@4178906.93@10@S@37.75676@-122.45883@@@@@@@@.jpg", "4415 m apart"),
        ("@0543256.96@4178906.93@10@M@37.75645@-122.50893@@@@@@@@.jpg", "m apart"),  # south
    ],
)
def test_malformed_names_stop_the_import_and_write_nothing(tmp_path, bad, message):
    root = dataset_trees.places(tmp_path / "sf", DATABASE, QUERIES)
    dataset_trees._image(root / "queries" / "late" / bad, 3)
    out = tmp_path / "m.parquet"
    result = runner.invoke(app, ["dataset", "places", str(root), "--out", str(out)])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert f"queries/late/{bad}" in result.output and message in result.output
    assert not out.exists() and not list(tmp_path.glob("*.parquet*"))


def test_layout_zone_and_argument_errors(tmp_path):
    (tmp_path / "empty" / "database").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no database/ and queries/ folders"):
        import_dataset("places", tmp_path / "empty", tmp_path / "m.parquet")
    (tmp_path / "empty" / "queries").mkdir()
    with pytest.raises(DatasetError, match=r"database: no JPEG images"):
        import_dataset("places", tmp_path / "empty", tmp_path / "m.parquet")
    for zone in ("61S", "10I", "S10", "10", ""):
        with pytest.raises(DatasetError, match="UTM zone"):
            parse_zone(zone)
    assert parse_zone("10s") == (10, "S") and parse_zone("55H") == (55, "H")
    with pytest.raises(DatasetError, match="utm_zone is for places"):
        import_dataset("cvusa", tmp_path, tmp_path / "m.parquet", utm_zone="10S")


def test_name_fields():
    full = parse_name("@0549766.43@4178826.10@10@S@037.75632@-122.43521@x@00@090@@@@@@.jpg", "f")
    assert full == {
        "east": 549766.43, "north": 4178826.1, "zone": (10, "S"),
        "lonlat": (-122.43521, 37.75632),
    }  # fmt: skip
    msls = parse_name("@0549766.43@4178826.10@seq1@0001@pano@sf@20190101@.jpg", "m")
    assert msls["zone"] is None and msls["lonlat"] is None
    short = parse_name("@0549766.43@4178826.10@.jpg", "s")  # the benchmark's minimum
    assert (short["east"], short["zone"], short["lonlat"]) == (549766.43, None, None)


def test_zone_gives_the_hemisphere(tmp_path):
    """Band letters C-M are south of the equator: a Canberra easting/northing in 55H."""
    root = tmp_path / "act"
    for split in ("database", "queries"):
        dataset_trees._image(root / split / "@0692000.00@6090000.00@x@.jpg", 1)
    rows = rows_of(import_dataset("places", root, tmp_path / "m.parquet", utm_zone="55H").manifest)
    lon, lat = Transformer.from_crs("EPSG:32755", "EPSG:4326", always_xy=True).transform(
        692000.0, 6090000.0
    )
    assert {(r["lon"], r["lat"]) for r in rows} == {(lon, lat)} and lat < -35
