import json
import shutil

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import QueryError
from geovec.store.queries import run_query
from geovec.store.sql import extension_files, new_database
from tests.images import simple_manifest

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlworld")
    store = geovec.open(folder / "db")
    geovec.ingest(store, simple_manifest(folder, 6), features="gist", batch_size=8)
    return folder / "db"


def test_api_sql_returns_a_duckdb_relation(db):
    with geovec.open(db) as store:
        relation = store.sql(
            "SELECT id, ST_X(geom) AS x FROM ground WHERE region = $r ORDER BY id", {"r": "sf"}
        )
        table = relation.to_arrow_table()
        assert table.column("id").to_pylist() == ["g0", "g2", "g4"]
        assert table.column("x").to_pylist()[0] == pytest.approx(-79.9)
        assert relation.fetchall()[0][0] == "g0"
        assert relation.arrow().read_all().num_rows == 3  # a RecordBatchReader
        assert list(relation.df()["id"]) == ["g0", "g2", "g4"]
        assert store.sql("SELECT count(*) FROM ground WHERE id = ?", ["g1"]).fetchone() == (1,)


def test_one_database_for_the_store_and_fresh_rows(db, tmp_path):
    """Scratch tables made in the store's DuckDB database live as long as the store (one
    database, extensions loaded once), while every query reads the Lance tables as they
    are now: rows appended after the first query are seen."""
    shutil.copytree(db, tmp_path / "db")
    with geovec.open(tmp_path / "db") as store:
        store.sql("CREATE TABLE scratch AS SELECT id FROM ground WHERE region = 'sf'")
        assert store.sql("SELECT count(*) FROM scratch").fetchone() == (3,)
        assert store.sql("SELECT count(*) FROM ground").fetchone() == (6,)
        store.append(
            "ground",
            store.read("ground", where="id = 'g0'").set_column(
                0, "id", pa.array(["g9"], pa.string())
            ),
        )
        assert store.sql("SELECT count(*) FROM ground").fetchone() == (7,)
    with pytest.raises(QueryError, match="scratch"):  # closed with its store
        store.sql("SELECT * FROM scratch")
    assert store.sql("SELECT count(*) FROM ground").fetchone() == (7,)  # reopens on use


def test_cli_sql_write(db, tmp_path):
    shutil.copytree(db, tmp_path / "db")
    target = str(tmp_path / "db")
    result = runner.invoke(app, ["sql", target, "DELETE FROM ground WHERE id = 'g0'", "--write"])
    assert result.exit_code == 0, result.output
    assert geovec.open(target).count("ground") == 5
    csv = runner.invoke(
        app, ["sql", target, "SELECT id FROM ground ORDER BY id", "--format", "csv"]
    )
    assert csv.output.splitlines() == ['"id"', '"g1"', '"g2"', '"g3"', '"g4"', '"g5"']


def test_cli_sql_equals_plain_duckdb_lance(db):
    query = "SELECT id, lon, lat, gist FROM ground ORDER BY id"
    result = runner.invoke(app, ["sql", str(db), query, "--format", "json"])
    assert result.exit_code == 0, result.output
    ours = json.loads(result.output)
    con = new_database()
    con.execute(f"ATTACH '{db}' AS geo (TYPE LANCE)")
    plain = con.execute("SELECT id, lon, lat, gist FROM geo.ground ORDER BY id").fetchall()
    assert [(r["id"], r["lon"], r["lat"]) for r in ours] == [p[:3] for p in plain]
    assert ours[2]["gist"] == pytest.approx(list(plain[2][3]))
    nearest = con.execute(
        f"SELECT id FROM lance_vector_search('{db}/ground.lance', 'gist', ?::FLOAT[512], k=1)",
        [ours[3]["gist"]],
    ).fetchall()
    assert nearest == [(ours[3]["id"],)]


def test_read_only_unless_write(db, tmp_path):
    result = runner.invoke(app, ["sql", str(db), "DELETE FROM ground WHERE id = 'g0'"])
    assert result.exit_code == 1 and result.output.startswith("error:"), result.output
    assert geovec.open(db).count("ground") == 6


def test_sql_errors_are_user_errors(db):
    result = runner.invoke(app, ["sql", str(db), "SELECT nope FROM ground"])
    assert result.exit_code == 1 and "nope" in result.output
    result = runner.invoke(app, ["sql", str(db / "missing"), "SELECT 1"])
    assert result.exit_code == 1 and "no geovec database" in result.output


def test_extensions_come_from_wheels():
    assert all(p.suffix == ".duckdb_extension" and p.is_file() for p in extension_files())


def test_named_queries_bind_exactly_their_parameters(db):
    with pytest.raises(QueryError, match="no named query"):
        run_query(new_database(), "no_such_query")
    with geovec.open(db) as store, store.cursor() as con:
        with pytest.raises(
            QueryError,
            match=r"isolated_images.sql binds \['cell_m', 'cells', 'radius_m', 'slack'\]",
        ):
            run_query(con, "isolated_images", radius_m=250.0)
        assert run_query(con, "regions").column("region").to_pylist() == ["charleston", "sf"]


def test_stores_query_from_several_threads(db):
    """Stores opened and queried in parallel threads share the process's DuckDB database
    safely: each sees its own views and the right answers."""
    from concurrent.futures import ThreadPoolExecutor

    def work(_):
        with geovec.open(db) as store:
            return [store.sql("SELECT count(*) FROM ground").fetchone()[0] for _ in range(5)]

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(work, range(8))) == [[6] * 5] * 8


def test_read_only_sql_touches_no_file(tmp_path):
    """SQL from outside (geovec sql without --write): one statement, no COPY, EXPORT,
    ATTACH, LOAD, on a database that can neither read nor write files."""
    from typer.testing import CliRunner

    from geovec.cli import app
    from geovec.errors import QueryError
    from tests.stores import known_store

    store = known_store(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    target = tmp_path / "out.csv"
    refused = {
        f"COPY (SELECT 1) TO '{target}'": "COPY statements are refused",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'": "EXPORT statements are refused",
        f"ATTACH '{tmp_path / 'x.db'}' AS x": "ATTACH statements are refused",
        "SELECT 1; SELECT 2": "one statement at a time",
        "PIVOT ground ON region USING count(*)": "PIVOT needs its ON values listed",
        f"SELECT * FROM read_text('{secret}')": "file system operations are disabled",
        f"SELECT * FROM read_csv('{secret}')": "file system operations are disabled",
        "SET enable_external_access = true": "configuration has been locked",
        "INSTALL httpfs": "LOAD statements are refused",
    }
    for query, message in refused.items():
        with pytest.raises(QueryError, match=message):
            store.sql_table(query, sealed=True)
        result = CliRunner().invoke(app, ["sql", str(store.path), query])
        assert result.exit_code == 1 and message in result.output, (query, result.output)
    assert not target.exists() and not (tmp_path / "dump").exists()
    n = store.sql_table("SELECT count(*) AS n FROM ground", sealed=True).column("n")[0].as_py()
    assert n == store.count("ground") == 6
    regions = sorted({r for r in store.read("ground", ["region"]).column("region").to_pylist()})
    listed = ", ".join(f"'{r}'" for r in regions)
    query = f"PIVOT (SELECT region FROM ground) ON region IN ({listed}) USING count(*)"
    pivot = store.sql_table(query, sealed=True)
    assert sum(pivot.column(r)[0].as_py() for r in regions) == 6
    # the named queries of the analyses still run on the sealed database
    assert geovec.isolate(store).total == 6


def test_python_sql_may_write_files_the_command_line_may_not(tmp_path):
    from tests.stores import known_store

    store = known_store(tmp_path)
    store.sql("SELECT id FROM ground ORDER BY id").write_csv(str(tmp_path / "ids.csv"))
    assert (tmp_path / "ids.csv").read_text().splitlines()[1] == "a0"
    with pytest.raises(QueryError, match="COPY statements are refused"):
        store.sql(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")  # that is what write is for


# a fatal DuckDB error never outlives its query (issue 18) ---------------------------------


def _raw_scan_crash(store, table="map"):
    """A query that reads a Lance table by its path, around the store's views, with a
    filter on its BLOB geom and a LIMIT: the lance extension's scan fails on it with an
    INTERNAL error that invalidates the whole DuckDB database (the views avoid it)."""
    location = store.path.resolve() / f"{table}.lance"
    return (
        f"SELECT id FROM '{location}' "
        "WHERE ST_DWithin(ST_GeomFromWKB(geom), ST_Point(0.01, 0.0), 0.05) LIMIT 2"
    )


@pytest.mark.parametrize("sealed", [False, True])
def test_a_fatal_duckdb_error_does_not_outlive_its_query(tmp_path, sealed):
    """After a query that DuckDB fails on fatally, one QueryError line says what happened,
    and every store sharing that database answers again: the one that failed and another
    one opened before."""
    from geovec.store.sql import restarts
    from tests.stores import known_store

    store = known_store(tmp_path)
    other = geovec.open(store.path)
    count = "SELECT count(*) AS n FROM ground"
    assert other.sql_table(count, sealed=sealed).column("n")[0].as_py() == 6
    before = restarts(sealed)
    try:
        answer = store.sql_table(_raw_scan_crash(store), sealed=sealed)
    except QueryError as exc:
        message = str(exc)
    else:
        pytest.skip(f"the lance extension answered the raw scan ({answer.num_rows} rows)")
    assert "\n" not in message and "started again" in message, message
    assert "INTERNAL Error" in message
    assert restarts(sealed) == before + 1
    for s in (store, other):
        assert s.sql_table(count, sealed=sealed).column("n")[0].as_py() == 6
        assert s.sql("SELECT id FROM map ORDER BY id", sealed=sealed).fetchall()[0] == ("t0",)
    # a lazy relation that fails while the caller fetches it: the next query still works
    with pytest.raises(duckdb_errors()):
        store.sql(_raw_scan_crash(store), sealed=sealed).fetchall()
    assert other.sql(count, sealed=sealed).fetchone() == (6,)
    assert restarts(sealed) == before + 2


def duckdb_errors():
    import duckdb

    return duckdb.Error


def test_cli_sql_answers_the_issues_query_twice(tmp_path):
    """The issue's query, as a new user ran it: a spatial filter and a LIMIT, through
    ``geovec sql``; it answered no rows, then a traceback."""
    from tests.stores import known_store

    store = known_store(tmp_path)
    query = "select id from map where ST_DWithin(geom, ST_Point(0.01, 0.0), 0.05) limit 3"
    for _ in range(2):
        result = runner.invoke(app, ["sql", str(store.path), query, "--format", "csv"])
        assert result.exit_code == 0, result.output
        rows = result.output.splitlines()[1:]
        assert len(rows) == 3 and set(rows) <= {'"t0"', '"t1"', '"t2"', '"t3"'}, result.output


def test_the_sql_box_answers_after_a_fatal_error(tmp_path):
    """One query that DuckDB fails on fatally in the explorer's SQL box (here through a
    view made the way geovec made them before issue 18) gets one line; the next /api/sql
    answers, on a new database with the store's views made again."""
    pytest.importorskip("starlette", reason="the serve extra is not installed")
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app
    from geovec.explorer.sqlbox import run_sql_box
    from geovec.store.sql import quote, shared_database, table_location
    from tests.stores import known_store

    store = known_store(tmp_path)
    query = "select id from map where ST_DWithin(geom, ST_Point(0.01, 0.0), 0.05) limit 3"
    store.cursor(sealed=True).close()
    old_view = (
        f"CREATE OR REPLACE VIEW {store._schemas[True]}.map AS SELECT * REPLACE "
        f"(ST_GeomFromWKB(geom) AS geom) FROM {quote(table_location(store.path, 'map'))}"
    )
    shared_database(sealed=True).execute(old_view)
    with pytest.raises(QueryError) as raised:
        run_sql_box(store, query)
    if "started again" not in str(raised.value):
        pytest.skip(f"the lance extension did not fail fatally: {raised.value}")
    assert "\n" not in str(raised.value)
    assert len(run_sql_box(store, query)["rows"]) == 3  # the store's own views, made again
    with TestClient(create_app(store.path)) as client:
        answers = [client.post("/api/sql", json={"query": query}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert all(len(a.json()["rows"]) == 3 for a in answers)
