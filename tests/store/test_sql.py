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
    # the named queries of the analyses still run on the sealed database
    assert geovec.isolate(store).total == 6


def test_python_sql_may_write_files_the_command_line_may_not(tmp_path):
    from tests.stores import known_store

    store = known_store(tmp_path)
    store.sql("SELECT id FROM ground ORDER BY id").write_csv(str(tmp_path / "ids.csv"))
    assert (tmp_path / "ids.csv").read_text().splitlines()[1] == "a0"
    with pytest.raises(QueryError, match="COPY statements are refused"):
        store.sql(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")  # that is what write is for
