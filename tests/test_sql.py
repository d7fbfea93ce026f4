import json

import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import QueryError
from geovec.sql import extension_files, new_connection, run_query
from tests.images import simple_manifest

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlworld")
    store = geovec.open(folder / "db")
    geovec.ingest(store, simple_manifest(folder, 6), features="gist", batch_size=8)
    return folder / "db"


def test_api_sql_binds_parameters(db):
    store = geovec.open(db)
    table = store.sql(
        "SELECT id, ST_X(geom) AS x FROM ground WHERE region = $r ORDER BY id", {"r": "sf"}
    )
    assert table.column("id").to_pylist() == ["g0", "g2", "g4"]
    assert table.column("x").to_pylist()[0] == pytest.approx(-79.9)


def test_cli_sql_equals_plain_duckdb_lance(db):
    query = "SELECT id, lon, lat, gist FROM ground ORDER BY id"
    result = runner.invoke(app, ["sql", str(db), query, "--format", "json"])
    assert result.exit_code == 0, result.output
    ours = json.loads(result.output)
    con = new_connection()
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


def test_named_query_parameters_are_checked():
    with pytest.raises(QueryError, match="no named query"):
        run_query(new_connection(), "no_such_query")
