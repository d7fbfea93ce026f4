"""Stores of an older geovec (geovec.store.migrations): the failures table's time column,
once ``at`` (a reserved word of SQL), is ``failed_at`` in SQL, in Store.read and, after the
next failure recorded, on disk; and failure paths are absolute, as the tables' are."""

import datetime as dt
from pathlib import Path

import lancedb
import pyarrow as pa
import pytest

import geovec
from geovec.errors import QueryError
from geovec.ingestion.sources import read_source
from tests.images import write_images, write_manifest

OLD_FAILURES = pa.schema(
    [
        pa.field("path", pa.string()),
        pa.field("view", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("error", pa.string()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
    ]
)
WHEN = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)


def _old_store(path):
    """A store whose failures table an older geovec wrote: column ``at``, a relative path."""
    db = lancedb.connect(str(path))
    row = {"path": "photos/a.jpg", "view": "ground", "stage": "decode", "error": "bad", "at": WHEN}
    db.create_table("failures", pa.Table.from_pylist([row], schema=OLD_FAILURES))
    return geovec.open(path, create=False)


def test_an_old_store_reads_failed_at(tmp_path):
    store = _old_store(tmp_path / "db")
    got = store.sql("SELECT path, epoch(failed_at) FROM failures").fetchall()
    assert got == [("photos/a.jpg", WHEN.timestamp())]
    rows = store.read("failures").to_pylist()
    assert rows == [{"path": "photos/a.jpg", "view": "ground", "stage": "decode", "error": "bad",
                     "failed_at": WHEN}]  # fmt: skip
    assert store.read("failures", ["path", "failed_at"]).column_names == ["path", "failed_at"]


def test_the_old_name_points_at_the_new(tmp_path):
    store = _old_store(tmp_path / "db")
    with pytest.raises(QueryError, match="failures.at is failures.failed_at"):
        store.sql_table('SELECT path, "at" FROM failures')


def test_recording_a_failure_renames_the_column(tmp_path):
    store = _old_store(tmp_path / "db")
    store.sql("SELECT count(*) FROM failures").fetchall()  # a view over the old column
    new = {"path": str(tmp_path / "b.jpg"), "view": "ground", "stage": "decode", "error": "x"}
    store.record_failures([new])
    names = lancedb.connect(str(tmp_path / "db")).open_table("failures").schema.names
    assert "failed_at" in names and "at" not in names
    rows = store.sql("SELECT path, epoch(failed_at) FROM failures ORDER BY failed_at").fetchall()
    assert [r[0] for r in rows] == ["photos/a.jpg", new["path"]]
    assert rows[0][1] == WHEN.timestamp() and rows[1][1] > WHEN.timestamp()
    assert geovec.open(tmp_path / "db").sql("SELECT epoch(failed_at) FROM failures").fetchall()


def test_a_new_store_has_failed_at(tmp_path):
    store = geovec.open(tmp_path / "db")
    store.record_failures([{"path": "/x.jpg", "view": "ground", "stage": "decode", "error": "x"}])
    assert store.sql("SELECT path, failed_at IS NOT NULL FROM failures").fetchall() == [
        ("/x.jpg", True)
    ]


def test_failure_paths_are_absolute(tmp_path, monkeypatch):
    """A manifest's paths are relative to it, a folder may be given relatively: the
    failures name the files as the ground table does, absolute."""
    write_images(tmp_path / "photos", 1)  # a PNG without a GPS position
    rows = [
        {"id": "gone", "path": "photos/gone.png", "view": "ground", "lon": 1, "lat": 2},
        {"id": "far", "path": "photos/img0000.png", "view": "ground", "lon": 200, "lat": 2},
    ]
    manifest = write_manifest(tmp_path / "manifest.csv", rows)
    monkeypatch.chdir(tmp_path)
    _, failures = read_source(manifest.relative_to(tmp_path))
    assert sorted(f.path for f in failures) == [
        str((tmp_path / "photos" / name).resolve()) for name in ("gone.png", "img0000.png")
    ]
    _, failures = read_source(Path("photos"))
    assert [f.path for f in failures] == [str((tmp_path / "photos" / "img0000.png").resolve())]


def test_failed_at_reads_in_python(tmp_path):
    """store.sql(...).fetchall() of the failures' time (a TIMESTAMP WITH TIME ZONE, which
    DuckDB hands to Python through pytz) gives a datetime, as the README's Python section
    says a relation does."""
    store = geovec.open(tmp_path / "db")
    store.record_failures([{"path": "/x.jpg", "view": "ground", "stage": "decode", "error": "x"}])
    ((path, when),) = store.sql("SELECT path, failed_at FROM failures").fetchall()
    assert path == "/x.jpg" and when.tzinfo is not None and when.year >= 2025
