"""The SQL box refuses every way out of the store: writes, files, other tables, long
queries; it keeps the row limit and the time limit."""

from __future__ import annotations

import pytest

import geovec
from geovec.errors import QueryError
from geovec.explorer.sqlbox import run_sql_box
from geovec.store.sql import table_location


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
        ("select current_setting('memory_limit')", "current_setting"),
        ("select * from duckdb_settings()", "duckdb_settings"),
        ("select * from duckdb_secrets()", "duckdb_secrets"),
        ("select * from which_secret('s3://x', 's3')", "which_secret"),
        ("select getvariable('x')", "getvariable"),
        ("select pg_get_viewdef(1)", "pg_get_viewdef"),
        ("show tables", "show"),
        ("explain select 1", "explain"),
        ("pragma version", "pragma"),
        ("set threads = 64", "set"),
        ("call pragma_version()", "call"),
        ("select * from query('select 1')", "query"),
    ],
)
def test_refused(store, query, words):
    with pytest.raises(QueryError, match=None) as raised:
        run_sql_box(store, query)
    assert words.lower() in str(raised.value).lower()


def other_store_queries(other) -> list[str]:
    """Reads of another store's map table through WITH names out of their scope."""
    where = table_location(other.path, "map")
    q = f'"{where}"'
    return [
        f"select (with {q} as (select 1) select 1), * from '{where}'",
        f"select * from '{where}' where exists (with {q} as (select 1) select 1)",
        f"with a as (select * from {q}), {q} as (select 1) select * from a",
        f"with x as (with {q} as (select 1) select 1) select * from {q}",
        f"with recursive {q} as (select * from {q}) select * from {q}",
        f"select id from (with {q} as (select 1 id) select id from {q}) union all "
        f"select id from {q}",
    ]


def test_with_names_out_of_scope_cannot_read_another_store(store, tmp_path):
    """Before issue 19 the guard took a WITH name from anywhere in the query: each of
    these returned the other store's tiles (the lance extension reads the path itself)."""
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app
    from tests.stores import known_store

    other = known_store(tmp_path)
    with TestClient(create_app(store.path)) as client:
        for query in other_store_queries(other):
            with pytest.raises(QueryError, match="refused") as raised:
                run_sql_box(store, query)
            assert "only the store's tables" in str(raised.value)
            answer = client.post("/api/sql", json={"query": query})
            assert answer.status_code == 400 and "refused" in answer.json()["error"], answer.text


def test_the_sealed_database_has_a_memory_limit_and_a_thread_cap(store):
    """1 GB and 2 threads unless set; a query over the limit fails in one line, and the
    next one answers."""
    from geovec.store.sql import sealed_limits, set_sealed_limits, shared_database

    before = sealed_limits()
    assert before == {"memory_limit": "1GB", "threads": 2}
    database = shared_database(sealed=True)
    memory, threads = database.execute(
        "select current_setting('memory_limit'), current_setting('threads')"
    ).fetchone()
    assert memory == "953.6 MiB" and threads == 2
    try:
        set_sealed_limits(memory_limit="64MB", threads=1)
        with pytest.raises(QueryError, match="(?i)out of memory") as raised:
            run_sql_box(store, "select len(list(range)) from range(50000000)")
        assert "\n" not in str(raised.value)
        assert run_sql_box(store, "select count(*) from ground")["rows"][0][0] > 0
    finally:
        set_sealed_limits(**before)
    with pytest.raises(QueryError, match="size"):
        set_sealed_limits(memory_limit="lots")


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
