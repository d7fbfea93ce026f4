"""geovec export --view V --out F.parquet: GeoParquet 1.1, read back by DuckDB spatial,
geopandas (pyarrow) and GDAL/OGR."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import ExportError, FeatureMissingError
from geovec.exports import tables
from tests.exports.conftest import CLIP_PROVENANCE

runner = CliRunner()
SCHEMAS = Path(__file__).parent / "schemas"
BOX = (-79.95, 32.75, -79.90, 32.80)  # west, south, east, north: 1/16 of the points' area


@pytest.fixture(scope="module")
def ground_file(point_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "ground.parquet"
    summary = geovec.export(point_store, out, view="ground", rows_per_group=100)
    return out, summary


def in_box(lon, lat, box=BOX):
    west, south, east, north = box
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def test_geo_metadata_is_geoparquet_1_1_with_a_bbox_covering(ground_file, point_store):
    path, summary = ground_file
    meta = pq.ParquetFile(path).metadata
    geo = json.loads(meta.metadata[b"geo"])
    jsonschema.validate(geo, json.loads((SCHEMAS / "geoparquet-v1.1.0.json").read_text()))
    column = geo["columns"]["geometry"]
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    assert column["encoding"] == "WKB" and column["geometry_types"] == ["Point"]
    assert "crs" not in column  # omitted: OGC:CRS84, lon/lat
    assert column["covering"] == {
        "bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}
    }
    rows = point_store.read("ground", ["lon", "lat"]).to_pandas().dropna()
    assert column["bbox"] == pytest.approx(
        [rows.lon.min(), rows.lat.min(), rows.lon.max(), rows.lat.max()]
    )
    schema = pq.read_schema(path)
    assert schema.field("bbox").type == pa.struct(
        [(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")]
    )
    assert summary.rows == 1505 and summary.located == 1500
    assert summary.row_groups == meta.num_row_groups == 16


def test_features_are_fixed_size_lists_with_their_provenance(ground_file, point_store):
    path, _ = ground_file
    table = pq.read_table(path)
    assert table.schema.field("gist").type == pa.list_(pa.float32(), 16)
    assert table.schema.field("clip").type == pa.list_(pa.float32(), 8)
    field_meta = json.loads(table.schema.field("clip").metadata[b"geovec"])
    assert field_meta == CLIP_PROVENANCE
    facts = json.loads(pq.ParquetFile(path).metadata.metadata[b"geovec"])
    assert facts["view"] == "ground" and facts["order"] == "hilbert"
    assert facts["features"]["clip"] == {
        "dimensions": 8, "data_type": "float32", "provenance": CLIP_PROVENANCE
    }  # fmt: skip
    stored = point_store.read("ground", ["id", "gist", "lon", "lat"]).to_pylist()
    by_id = {r["id"]: r for r in stored}
    for row in table.select(["id", "gist", "lon", "lat"]).slice(0, 50).to_pylist():
        assert row["gist"] == pytest.approx(by_id[row["id"]]["gist"])
        assert (row["lon"], row["lat"]) == (by_id[row["id"]]["lon"], by_id[row["id"]]["lat"])
    assert sorted(table.column("id").to_pylist()) == sorted(by_id)


def test_rows_without_position_come_last_with_null_geometry(ground_file):
    path, _ = ground_file
    table = pq.read_table(path, columns=["id", "geometry", "bbox"])
    tail = table.slice(table.num_rows - 5)
    assert sorted(tail.column("id").to_pylist()) == [f"p{i}" for i in range(5)]
    assert tail.column("geometry").null_count == 5 and tail.column("bbox").null_count == 5
    assert table.slice(0, table.num_rows - 5).column("geometry").null_count == 0


def row_group_boxes(path) -> np.ndarray:
    """(groups, 4) xmin-min, ymin-min, xmax-max, ymax-max of each row group, from the
    Parquet statistics alone (what a reader prunes with)."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    at = {k: names.index(f"bbox.{k}") for k in ("xmin", "ymin", "xmax", "ymax")}
    out = []
    for g in range(meta.num_row_groups):
        stats = {k: meta.row_group(g).column(i).statistics for k, i in at.items()}
        if stats["xmin"].null_count == meta.row_group(g).num_rows:
            continue  # the rows without a position
        out.append([stats["xmin"].min, stats["ymin"].min, stats["xmax"].max, stats["ymax"].max])
    return np.array(out)


def overlapping(boxes: np.ndarray, box=BOX) -> int:
    west, south, east, north = box
    hit = (boxes[:, 0] <= east) & (boxes[:, 2] >= west) & (boxes[:, 1] <= north)
    return int((hit & (boxes[:, 3] >= south)).sum())


def test_spatial_order_lets_a_bbox_filter_skip_most_row_groups(ground_file, point_store, tmp_path):
    path, _ = ground_file
    boxes = row_group_boxes(path)
    assert overlapping(boxes) <= 5  # of 15 located groups; a 1/16 box
    # the same rows in the order they are stored (no spatial sort) prune nothing
    unsorted = tmp_path / "unsorted.parquet"
    stored = pq.read_table(path).sort_by("id")
    pq.write_table(stored, unsorted, row_group_size=100)
    assert overlapping(row_group_boxes(unsorted)) >= 14
    # pyarrow (geopandas' reader) keeps only the row groups whose statistics can match
    west, south, east, north = BOX
    expr = (
        (ds.field("bbox", "xmin") <= east) & (ds.field("bbox", "xmax") >= west)
        & (ds.field("bbox", "ymin") <= north) & (ds.field("bbox", "ymax") >= south)
    )  # fmt: skip
    fragment = next(ds.dataset(path).get_fragments())
    kept = fragment.split_by_row_group(filter=expr)
    assert len(kept) == overlapping(boxes) < 16


def test_duckdb_spatial_reads_geometry_and_filters_by_the_covering(ground_file, point_store):
    path, _ = ground_file
    with point_store.cursor() as con:
        rows = con.execute(
            "SELECT id, ST_X(geometry) AS x, ST_Y(geometry) AS y, lon, lat, len(gist) AS n, "
            "typeof(geometry) AS kind FROM read_parquet($path) WHERE geometry IS NOT NULL",
            {"path": str(path)},
        ).fetchall()
        assert len(rows) == 1500 and all(r[1] == r[3] and r[2] == r[4] for r in rows)
        assert {r[5] for r in rows} == {16} and "GEOMETRY" in rows[0][6]
        west, south, east, north = BOX
        count = con.execute(
            "SELECT count(*) FROM read_parquet($path) WHERE bbox.xmin <= $e AND "
            "bbox.xmax >= $w AND bbox.ymin <= $n AND bbox.ymax >= $s",
            {"path": str(path), "w": west, "s": south, "e": east, "n": north},
        ).fetchone()[0]
        stats = con.execute(
            "SELECT count(DISTINCT row_group_id) FROM parquet_metadata($path) "
            "WHERE path_in_schema = 'bbox, xmin' AND stats_min IS NOT NULL",
            {"path": str(path)},
        ).fetchone()[0]
    lon = np.array([r[3] for r in rows])
    lat = np.array([r[4] for r in rows])
    assert count == int(in_box(lon, lat).sum()) > 0
    assert stats == 15  # DuckDB sees each located row group's bbox statistics


def test_geopandas_reads_it_and_its_bbox_filter(ground_file):
    geopandas = pytest.importorskip("geopandas")
    path, _ = ground_file
    frame = geopandas.read_parquet(path)
    assert frame.crs is not None and frame.crs.equals("OGC:CRS84")
    located = frame[frame.geometry.notna()]
    assert len(frame) == 1505 and len(located) == 1500
    assert np.allclose(located.geometry.x, located.lon) and np.allclose(
        located.geometry.y, located.lat
    )
    inside = geopandas.read_parquet(path, bbox=BOX)  # through the covering column
    expected = in_box(located.lon.to_numpy(), located.lat.to_numpy())
    assert sorted(inside.id) == sorted(located.id[expected])


def gdal_parquet():
    """('ogrinfo', None) or ('pyogrio', module) when a GDAL with the Parquet driver is at
    hand; None otherwise."""
    if shutil.which("ogrinfo"):
        formats = subprocess.run(["ogrinfo", "--formats"], capture_output=True, text=True)
        if "Parquet" in formats.stdout:
            return "ogrinfo", None
    try:
        import pyogrio
    except ImportError:
        return None
    return ("pyogrio", pyogrio) if "Parquet" in pyogrio.list_drivers() else None


def test_gdal_ogr_reads_it(ground_file):
    found = gdal_parquet()
    if found is None:
        pytest.skip(
            "no GDAL with the Parquet driver here: Debian's gdal-bin 3.6 and pyogrio 0.13's "
            "wheel are built without Arrow (install GDAL >= 3.8 with libarrow to run this)"
        )
    path, _ = ground_file
    if found[0] == "ogrinfo":
        out = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True
        ).stdout
        assert "Feature Count: 1505" in out and "Point" in out
        filtered = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", "-spat", *map(str, BOX), str(path)],
            capture_output=True,
            text=True,
        ).stdout
        assert "Feature Count: 1505" not in filtered
    else:
        info = found[1].read_info(path)
        assert info["features"] == 1505 and info["geometry_type"] == "Point"


def test_streamed_one_row_group_at_a_time(point_store, tmp_path, monkeypatch):
    taken = []
    table_type = type(point_store.table("ground"))
    original = table_type.take_row_ids

    def spy(self, ids, *args, **kwargs):
        taken.append(len(ids))
        return original(self, ids, *args, **kwargs)

    monkeypatch.setattr(table_type, "take_row_ids", spy)
    summary = geovec.export(point_store, tmp_path / "g.parquet", view="ground",
                            features=["clip"], rows_per_group=256)  # fmt: skip
    assert max(taken) == 256 and sum(taken) == 1505 and summary.row_groups == len(taken)
    assert pq.read_schema(tmp_path / "g.parquet").names[-1] == "clip"
    assert "gist" not in pq.read_schema(tmp_path / "g.parquet").names


def test_row_group_rows_follow_the_features_size():
    assert tables.row_group_rows([]) == 65_536
    assert tables.row_group_rows([4096]) == 128 * 2**20 // (128 + 4 * 4096)
    assert tables.row_group_rows([4096] * 200) == 1_024


def test_user_errors(point_store, tmp_path):
    with pytest.raises(ExportError, match="named .parquet"):
        geovec.export(point_store, tmp_path / "g.csv", view="ground")
    with pytest.raises(ExportError, match="unknown view"):
        geovec.export(point_store, tmp_path / "g.parquet", view="tiles")
    with pytest.raises(ExportError, match="no overhead rows"):
        geovec.export(point_store, tmp_path / "g.parquet", view="overhead")
    with pytest.raises(FeatureMissingError, match="places_fc8"):
        geovec.export(point_store, tmp_path / "g.parquet", view="map", features=["places_fc8"])
    assert not (tmp_path / "g.parquet").exists()


def test_cli_export(point_store, tmp_path):
    db = str(point_store.path)
    out = tmp_path / "map.parquet"
    result = runner.invoke(app, ["export", db, "--view", "map", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows"] == 4 and data["features"] == {"gist": 16} and data["view"] == "map"
    assert pq.read_table(out).num_rows == 4
    text = runner.invoke(app, ["export", db, "--view", "ground", "--feature", "clip",
                               "--out", str(tmp_path / "g.parquet")])  # fmt: skip
    assert text.exit_code == 0 and "1505 ground rows (1500 located)" in text.output
    for args, message in (
        (["--out", str(out)], "--view"),
        (["--view", "map"], "--out FILE.parquet"),
        (["--view", "map", "--out", str(tmp_path / "m.txt")], ".parquet"),
        (["--view", "map", "--feature", "nope", "--out", str(out)], "nope"),
    ):
        bad = runner.invoke(app, ["export", db, *args])
        assert bad.exit_code == 1 and message in bad.output, bad.output
        assert "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1
