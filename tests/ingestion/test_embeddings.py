"""Published embeddings in (geovec.ingestion.embeddings): files in the Major TOM, Clay and
Earth Index layouts written by geopandas, and plain Parquet written by pyarrow, imported
through the API and ``geovec ingest --embeddings``; then the analyses on such a store."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from PIL import Image
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import ManifestError
from geovec.explorer.images import image_file
from geovec.explorer.requests import NotFound
from geovec.geodesy import distance_m
from geovec.ingestion.embeddings import ingest_embeddings
from geovec.store import Store
from geovec.store.schema import feature_field
from tests.embedding_files import (
    CHARLESTON,
    UTM_17N,
    fixed_size_vectors,
    imported_world,
    utm_squares,
    write_clay,
    write_earth_index,
    write_major_tom,
    write_plain,
)

runner = CliRunner()
RNG = np.random.default_rng(21)


def by_id(store, view):
    return {r["id"]: r for r in store.read(view).to_pylist()}


def failures(store):
    if not store.has("failures"):
        return {}
    return {r["path"].rsplit("/", 1)[-1]: r for r in store.read("failures").to_pylist()}


@pytest.mark.parametrize(
    "crs, encoding, nested",
    [("EPSG:3857", "WKB", False), (UTM_17N, "geoarrow", False), ("EPSG:4326", "WKB", True)],
)
def test_major_tom_footprints_become_map_tiles(tmp_path, crs, encoding, nested):
    """Polygons in Web Mercator, UTM (GeoParquet 1.1 native polygons) and WGS84 (SigLIP's
    Array2D(1, D) vectors): each tile at its footprint's centre, sized by its area."""
    polygons, lon, lat = utm_squares(3, 2, 480.0)
    vectors = RNG.normal(size=(6, 8))
    path = tmp_path / "part_00001-00050.parquet"
    ids = write_major_tom(path, vectors, polygons, crs=crs, encoding=encoding, nested=nested)
    store = geovec.open(tmp_path / "db")
    summary = ingest_embeddings(store, path, view="map", feature="ssl4eo")
    assert (summary.ingested, summary.failed, summary.skipped) == (6, 0, 0)
    rows = by_id(store, "map")
    assert set(rows) == set(ids)
    for i, ident in enumerate(ids):
        row = rows[ident]
        assert distance_m(row["lon"], row["lat"], lon[i], lat[i]) < 0.05
        # 480 UTM metres are 480 / k on the ground (k ~ 0.9997 here)
        assert row["size_m"] == pytest.approx(480.13, abs=0.05)
        assert row["path"] is None and row["geom"] is not None
        np.testing.assert_allclose(row["ssl4eo"], vectors[i].astype(np.float32))
    prov = store.provenance("map", "ssl4eo")
    assert prov["source_file"] == path.name
    assert prov["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert crs in prov["crs"] and "id=unique_id" in prov["columns"]
    assert "geometry=geometry" in prov["columns"]


def test_polygon_across_the_antimeridian_is_placed_where_it_is(tmp_path):
    box = shapely.Polygon([(179.998, 0.0), (-179.998, 0.0), (-179.998, 0.004), (179.998, 0.004)])
    path = tmp_path / "dateline.parquet"
    write_earth_index(path, ["t"], np.ones((1, 3)), [box])
    store = geovec.open(tmp_path / "db")
    ingest_embeddings(store, path, view="map", feature="earth")
    row = by_id(store, "map")["t"]
    assert abs(row["lon"]) == pytest.approx(180.0, abs=1e-9)
    assert row["lat"] == pytest.approx(0.002, abs=1e-9)
    assert row["size_m"] == pytest.approx(np.sqrt(445.2 * 442.3), rel=2e-3)


@pytest.mark.parametrize("encoding", ["WKB", "geoarrow"])
def test_clay_points_without_ids(tmp_path, encoding):
    lon = CHARLESTON[0] + np.arange(5) * 0.01
    lat = np.full(5, CHARLESTON[1])
    vectors = RNG.normal(size=(5, 12))
    path = tmp_path / "17SNS_v01.gpq"
    write_clay(path, vectors, lon, lat, encoding=encoding)
    store = geovec.open(tmp_path / "db")
    summary = ingest_embeddings(store, path, view="ground", feature="clay")
    assert summary.ingested == 5
    rows = by_id(store, "ground")
    assert sorted(rows) == [f"17SNS_v01:{i}" for i in range(5)]
    for i in range(5):
        row = rows[f"17SNS_v01:{i}"]
        assert (row["lon"], row["lat"]) == (pytest.approx(lon[i]), pytest.approx(lat[i]))
        assert row["path"] is None and row["isolated"] is None
    assert "embeddings" in store.provenance("ground", "clay")["columns"]


def test_plain_parquet_lonlat_fixed_size_float16(tmp_path):
    vectors = RNG.normal(size=(4, 6)).astype(np.float16)
    path = tmp_path / "plain.parquet"
    write_plain(
        path,
        {
            "id": pa.array([10, 11, 12, 13], pa.int64()),
            "longitude": [-79.9, -79.91, -79.92, -79.93],
            "latitude": [32.7, 32.71, 32.72, 32.73],
            "vector": fixed_size_vectors(vectors, np.float16),
            "region": ["charleston"] * 4,
            "split": ["train", "train", "test", None],
        },
    )
    store = geovec.open(tmp_path / "db")
    ingest_embeddings(store, path, view="overhead", feature="f16")
    rows = by_id(store, "overhead")
    assert sorted(rows) == ["10", "11", "12", "13"]
    assert rows["12"]["lon"] == -79.92 and rows["12"]["split"] == "test"
    assert rows["13"]["region"] == "charleston" and rows["13"]["split"] is None
    np.testing.assert_array_equal(rows["11"]["f16"], vectors[1].astype(np.float32))
    assert store.features("overhead") == {"f16": 6}
    assert "CRS" not in store.provenance("overhead", "f16")["crs"]  # lon/lat columns


def test_a_region_cell_that_reads_as_none_is_stored_as_null(tmp_path):
    """'no region' (how null is shown) and blank cells are null; names are trimmed."""
    path = tmp_path / "plain.parquet"
    write_plain(
        path,
        {
            "id": ["a", "b", "c"],
            "lon": [-79.9, -79.91, -79.92],
            "lat": [32.7, 32.71, 32.72],
            "vector": fixed_size_vectors(RNG.normal(size=(3, 4)), np.float32),
            "region": ["no region", "  ", " west "],
        },
    )
    store = geovec.open(tmp_path / "db")
    ingest_embeddings(store, path, view="overhead", feature="f")
    assert {k: r["region"] for k, r in by_id(store, "overhead").items()} == {
        "a": None, "b": None, "c": "west"
    }  # fmt: skip


def test_bad_rows_go_to_failures_and_lose_nothing_else(tmp_path):
    nan, inf = float("nan"), float("inf")
    rows = [  # id, vector, lon, lat
        ("good1", [1, 2, 3, 4], -79.9, 32.7),
        ("nan", [1, nan, 3, 4], -79.9, 32.7),
        ("short", [1, 2, 3], -79.9, 32.7),
        ("novec", None, -79.9, 32.7),
        ("nowhere", [1, 2, 3, 4], None, None),
        ("faraway", [1, 2, 3, 4], 200.0, 0.0),
        ("", [1, 2, 3, 4], -79.9, 32.7),
        ("good1", [9, 9, 9, 9], -79.8, 32.8),  # repeated: the first one is kept
        ("inf", [inf, 2, 3, 4], -79.9, 32.7),
        ("good2", [5, 6, 7, 8], -79.95, 32.75),
    ]
    path = tmp_path / "bad.parquet"
    write_plain(
        path,
        {
            "id": [r[0] for r in rows],
            "embedding": pa.array([r[1] for r in rows], pa.list_(pa.float64())),
            "lon": [r[2] for r in rows],
            "lat": [r[3] for r in rows],
        },
    )
    store = geovec.open(tmp_path / "db")
    summary = ingest_embeddings(store, path, view="map", feature="mine", size_m=480.0)
    assert (summary.ingested, summary.failed, summary.skipped) == (2, 7, 1)
    stored = by_id(store, "map")
    assert sorted(stored) == ["good1", "good2"]
    assert stored["good1"]["mine"] == [1, 2, 3, 4] and stored["good1"]["lon"] == -79.9
    assert stored["good2"]["size_m"] == 480.0
    got = {p: (r["stage"], r["error"]) for p, r in failures(store).items()}
    assert got["bad.parquet#nan"] == ("embeddings", "NaN or infinity in the vector")
    assert got["bad.parquet#inf"] == ("embeddings", "NaN or infinity in the vector")
    assert got["bad.parquet#short"] == ("embeddings", "3 values, not 4")
    assert got["bad.parquet#novec"] == ("embeddings", "no vector")
    assert got["bad.parquet#nowhere"] == ("manifest", "no position")
    stage, error = got["bad.parquet#faraway"]
    assert stage == "manifest" and "outside" in error
    assert got["bad.parquet#row 7"] == ("manifest", "empty id")
    assert set(got) == {
        f"bad.parquet#{n}" for n in ("nan", "inf", "short", "novec", "nowhere", "faraway", "row 7")
    }
    assert all(r["view"] == "map" for r in failures(store).values())
    again = ingest_embeddings(store, path, view="map", feature="mine", size_m=480.0)
    assert (again.ingested, again.skipped, store.count("map")) == (0, 3, 2)
    assert store.count("failures") == 7  # recorded once


def test_ground_rows_need_a_position_or_a_pair(tmp_path):
    path = tmp_path / "ground.parquet"
    write_plain(
        path,
        {
            "id": ["located", "paired", "lost"],
            "embedding": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
            "lon": [-79.9, None, None],
            "lat": [32.7, None, None],
            "pair": [None, "o1", None],
        },
    )
    store = geovec.open(tmp_path / "db")
    summary = ingest_embeddings(store, path, view="ground", feature="mine")
    assert (summary.ingested, summary.failed) == (2, 1)
    rows = by_id(store, "ground")
    assert rows["paired"]["lon"] is None and rows["paired"]["pair"] == "o1"
    assert failures(store)["ground.parquet#lost"]["error"] == "no position and no pair"


def _points_file(path, ids, dim, lon0=-79.9):
    write_plain(
        path,
        {
            "id": ids,
            "embedding": fixed_size_vectors(RNG.normal(size=(len(ids), dim)), np.float32),
            "lon": [lon0 + i * 1e-3 for i in range(len(ids))],
            "lat": [32.7] * len(ids),
        },
    )
    return path


def test_a_second_file_adds_rows_and_one_of_another_length_is_refused(tmp_path):
    first = _points_file(tmp_path / "a.parquet", [f"a{i}" for i in range(5)], 4)
    second = _points_file(tmp_path / "b.parquet", [f"a{i}" for i in range(3, 8)], 4)
    store = geovec.open(tmp_path / "db")
    ingest_embeddings(store, first, view="ground", feature="mine")
    summary = ingest_embeddings(store, second, view="ground", feature="mine")
    assert (summary.ingested, summary.skipped, store.count("ground")) == (3, 2, 8)
    prov = store.provenance("ground", "mine")
    assert prov["source_file"] == "a.parquet; b.parquet"
    files = json.loads(prov["files"])
    assert [f["sha256"] for f in files] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)
    ]
    longer = _points_file(tmp_path / "c.parquet", ["c0", "c1"], 5)
    with pytest.raises(ManifestError, match=r"5 values; ground.mine has 4"):
        ingest_embeddings(store, longer, view="ground", feature="mine")
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "db"), str(longer), "--embeddings", "--view", "ground",
              "--feature", "mine"]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "5 values" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert store.count("ground") == 8


def test_names_geovec_computes_are_refused(tmp_path):
    path = _points_file(tmp_path / "a.parquet", ["a"], 4)
    store = geovec.open(tmp_path / "db")
    with pytest.raises(ManifestError, match="computes from images"):
        ingest_embeddings(store, path, view="ground", feature="gist")
    store.ensure_features("ground", [feature_field("made", 4, {"geovec_version": "0.1.0"})])
    with pytest.raises(ManifestError, match="computed by geovec from images"):
        ingest_embeddings(store, path, view="ground", feature="made")
    with pytest.raises(ManifestError, match="letters, digits"):
        ingest_embeddings(store, path, view="ground", feature="my feature")


def test_map_points_need_a_size(tmp_path):
    path = tmp_path / "points.parquet"
    write_clay(path, RNG.normal(size=(3, 4)), [-79.9, -79.8, -79.7], [32.7] * 3)
    store = geovec.open(tmp_path / "db")
    with pytest.raises(ManifestError, match="--size-m"):
        ingest_embeddings(store, path, view="map", feature="clay")
    ingest_embeddings(store, path, view="map", feature="clay", size_m=256.0)
    assert {r["size_m"] for r in by_id(store, "map").values()} == {256.0}


def test_unreadable_layouts_are_one_line_errors(tmp_path):
    store = geovec.open(tmp_path / "db")
    ints = tmp_path / "ints.parquet"
    write_plain(ints, {"id": ["a"], "embedding": [[1, 2]], "lon": [0.0], "lat": [0.0]})
    with pytest.raises(ManifestError, match="not a list of float16, float32 or float64"):
        ingest_embeddings(store, ints, view="ground", feature="q")
    nowhere = tmp_path / "nowhere.parquet"
    write_plain(nowhere, {"id": ["a"], "embedding": [[1.0, 2.0]]})
    with pytest.raises(ManifestError, match="no positions"):
        ingest_embeddings(store, nowhere, view="map", feature="q", size_m=1.0)
    with pytest.raises(ManifestError, match="no column 'vec'"):
        ingest_embeddings(store, nowhere, view="map", feature="q", vector_column="vec")
    words = tmp_path / "words.parquet"
    write_plain(words, {"id": ["a"], "emb": [[1.0]], "lon": ["east"], "lat": [0.0]})
    with pytest.raises(ManifestError, match="'lon' holds string, not numbers"):
        ingest_embeddings(store, words, view="ground", feature="q")
    text = tmp_path / "text.parquet"
    text.write_text("id,lon\n")
    with pytest.raises(ManifestError, match="not a Parquet file"):
        ingest_embeddings(store, text, view="map", feature="q")
    assert not store.has("map")


def test_reader_holds_about_one_batch(tmp_path, monkeypatch):
    """Files of many row groups are read a batch at a time: never whole, each append at
    most one batch, and Arrow's memory at each append the same for a file 8 times larger
    (a reader holding the file would hold 7 x 2 MB more vectors)."""
    dim, batch = 256, 200

    def whole(*args, **kwargs):
        raise AssertionError("read the whole file")

    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(pq.ParquetFile, "read", whole)
    appended, held = [], []
    append = Store.append

    def counted(self, view, rows):
        appended.append(rows.num_rows)
        held.append(pa.total_allocated_bytes())
        return append(self, view, rows)

    monkeypatch.setattr(Store, "append", counted)
    peaks = []
    for n in (1000, 8000):
        path = tmp_path / f"big{n}.parquet"
        write_plain(
            path,
            {
                "id": [f"r{i}" for i in range(n)],
                "embedding": fixed_size_vectors(RNG.normal(size=(n, dim)), np.float32),
                "lon": np.linspace(-80, -79, n),
                "lat": np.full(n, 32.7),
            },
            row_group_size=250,
        )
        assert pq.ParquetFile(path).metadata.num_row_groups == n // 250
        appended.clear()
        held.clear()
        store = geovec.open(tmp_path / f"db{n}")
        summary = ingest_embeddings(store, path, view="ground", feature="big", batch_rows=batch)
        assert summary.ingested == n and store.count("ground") == n
        assert appended == [batch] * (n // batch)
        peaks.append(max(held))
    assert peaks[1] - peaks[0] < batch * dim * 4


def test_cli_import_with_defaults_and_its_refusals(tmp_path):
    path = tmp_path / "clay.parquet"
    write_clay(path, RNG.normal(size=(4, 6)), [-79.9, -79.8, -79.7, -79.6], [32.7] * 4)
    db = str(tmp_path / "db")
    result = runner.invoke(
        app, ["ingest", db, str(path), "--embeddings", "--view", "ground", "--feature", "clay"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 4 ground rows, skipped 0 stored before, failed 0" in result.output
    for args, words in [
        (["--feature", "clay"], "--feature: only with --embeddings"),
        (["--embeddings", "--feature", "clay"], "needs --view"),
        (["--embeddings", "--view", "ground"], "needs --feature"),
        (["--embeddings", "--view", "ground", "--feature", "c", "--features", "gist"], "images"),
        (["--embeddings", "--view", "ground", "--feature", "c", "--lon-column", "x"], "both"),
    ]:
        result = runner.invoke(app, ["ingest", db, str(path), *args])
        assert result.exit_code == 1, args
        assert words in result.output and "Traceback" not in result.output, result.output


def test_isolate_and_evaluate_a_store_of_imported_embeddings(tmp_path):
    ground, overhead, tiles = imported_world(tmp_path)
    db = str(tmp_path / "db")
    for view, path in (("map", tiles), ("ground", ground), ("overhead", overhead)):
        result = runner.invoke(
            app, ["ingest", db, str(path), "--embeddings", "--view", view, "--feature", "eo"]
        )
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["isolate", db, "--radius-m", "50", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["isolated"] == 16
    result = runner.invoke(app, ["evaluate", db, "--feature", "eo", "--neighbors", "2", "--json"])
    assert result.exit_code == 0, result.output
    evaluation = json.loads(result.output)
    assert (evaluation["queries"], evaluation["candidates"]) == (16, 16)
    assert evaluation["recall"]["1"] == 1.0 and evaluation["top_1_percent"] == 1.0
    store = geovec.open(db)
    localized = geovec.localize(store, "eo", id="q5", neighbors=2)
    assert localized.true_rank == 0  # ranks count from 0
    hits = geovec.search(store, "eo", vector=store.vectors("overhead", "eo")[1][0], k=1)
    assert hits[0].overhead_path is None and hits[0].ground_id == "g0_0"
    with pytest.raises(NotFound, match="no image file"):
        image_file(store, "map", store.read("map", ["id"]).column("id")[0].as_py())
    photo = tmp_path / "photo.png"
    Image.new("RGB", (32, 32), "green").save(photo)
    for command in (["search", db, str(photo)], ["localize", db, str(photo)]):
        result = runner.invoke(app, [*command, "--feature", "eo"])
        assert result.exit_code == 1 and "was imported (published embeddings)" in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_pixels_are_asked_for_only_where_needed(tmp_path):
    """Montages draw grey squares for rows without images and say so in one line; extract
    leaves those rows alone."""
    rng = np.random.default_rng(3)
    ids, lons, lats, vectors, regions = [], [], [], [], []
    for region, (lon0, lat0), mean in (("east", (-79.9, 32.7), 0.0), ("west", (-122.4, 37.7), 3.0)):
        for i in range(12):
            clustered = i < 8  # 8 photos 5 m apart (training), 4 far apart (isolated)
            ids.append(f"{region}{i}")
            lons.append(lon0 + (i * 5e-5 if clustered else i * 0.01))
            lats.append(lat0)
            vectors.append(mean + rng.normal(size=4))
            regions.append(region)
    path = tmp_path / "photos.parquet"
    write_plain(
        path,
        {
            "id": ids,
            "lon": lons,
            "lat": lats,
            "embedding": fixed_size_vectors(np.array(vectors), np.float32),
            "region": regions,
        },
    )
    db = str(tmp_path / "db")
    ingest_embeddings(geovec.open(db), path, view="ground", feature="clip")
    assert runner.invoke(app, ["isolate", db, "--radius-m", "100"]).exit_code == 0
    out = tmp_path / "classify"
    result = runner.invoke(app, ["classify", db, "--feature", "clip", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "classify_clip.png").is_file()
    assert "note: 24 ground images have no image file (imported embeddings)" in result.stderr
    summary = geovec.extract_missing(geovec.open(db), "gist", view="ground")
    assert (summary.ingested, summary.skipped, summary.failed) == (0, 24, 0)
