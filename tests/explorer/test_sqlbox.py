"""The SQL box refuses every way out of the store: writes, files, other tables, long
queries; it keeps the row limit and the time limit."""

from __future__ import annotations

import pytest

import geovec
from geovec.errors import QueryError
from geovec.explorer.sqlbox import run_sql_box


@pytest.fixture(scope="module")
def store(world_db):
    return geovec.open(world_db, create=False)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("delete from ground", "DELETE"),
        ("create table t as select 1", "CREATE"),
        ("copy (select 1) to '/tmp/geovec_sqlbox.csv'", "COPY"),
        ("attach '/tmp/x.db' as x", "ATTACH"),
        ("select 1; select 2", "one statement"),
        ("select * from read_text('/etc/passwd')", "read_text"),
        ("select * from read_csv('/etc/passwd')", "read_csv"),
        ("select * from '/etc/passwd'", "/etc/passwd"),
        ("select * from 'elsewhere/ground.lance'", "ground.lance"),
        ("select * from lance_vector_search('x.lance', 'gist', [1.0], k=1)", "lance_vector"),
        ("select * from information_schema.tables", "information_schema"),
        ("select * from ground g join (select * from glob('/*')) on true", "glob"),
        ("select 1 from ground where id in (select id from read_parquet('/x'))", "read_parquet"),
    ],
)
def test_refused(store, query, words):
    with pytest.raises(QueryError, match=None) as raised:
        run_sql_box(store, query)
    assert words.lower() in str(raised.value).lower()


def test_store_tables_ctes_and_row_making_functions_are_allowed(store):
    answer = run_sql_box(
        store,
        "with iso as (select id, lon, lat from ground where isolated) "
        "select iso.id, lon, lat, r.range from iso, range(2) r order by 1, 4",
    )
    isolated = store.count("ground", "isolated")
    assert len(answer["rows"]) == 2 * isolated and answer["lonlat"]


def test_row_limit(store):
    answer = run_sql_box(store, "select * from range(100000)", limit=10)
    assert len(answer["rows"]) == 10 and answer["truncated"]


def test_time_limit(store):
    with pytest.raises(QueryError, match="longer than 0.5 s"):
        run_sql_box(store, "select count(*) from range(1000000000) a, range(1000) b", timeout_s=0.5)
    assert run_sql_box(store, "select 1 as one")["rows"] == [[1]]  # still answering


def test_long_query_text(store):
    with pytest.raises(QueryError, match="longer than"):
        run_sql_box(store, "select 1" + " " * 30_000)
