"""DuckDB over a geovec store: extensions loaded from their wheels, tables by name, and the
named queries of sql/.

Read-only connections see each Lance table as a view (``ground``, ``overhead``, ``map``,
``failures``) with ``geom`` already a GEOMETRY; ``write=True`` attaches the database
through the lance extension instead (``USE geo``), so statements can change it.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from geovec.errors import QueryError
from geovec.resources import data_dir
from geovec.store import quote

EXTENSION_PACKAGES = ("duckdb_extension_spatial", "duckdb_extension_lance")


@functools.cache
def extension_files() -> list[Path]:
    """The .duckdb_extension files inside the spatial and lance wheels."""
    import importlib

    files = []
    for package in EXTENSION_PACKAGES:
        root = Path(importlib.import_module(package).__file__).parent
        found = sorted(root.rglob("*.duckdb_extension"))
        if not found:
            raise QueryError(f"{package} is installed without its extension file; reinstall it")
        files.append(found[-1])
    return files


def new_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with spatial and lance loaded, lon/lat axis order enforced."""
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    for path in extension_files():
        con.execute(f"LOAD '{path}'")
    con.execute("SET geometry_always_xy = true")
    return con


@contextlib.contextmanager
def connect(store, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that sees the store's tables by name."""
    con = new_connection()
    try:
        if write:
            con.execute(f"ATTACH {quote(str(store.path.resolve()))} AS geo (TYPE LANCE)")
            con.execute("USE geo")
        else:
            for name in store.tables():
                location = quote(str((store.path / f"{name}.lance").resolve()))
                geom = " REPLACE (ST_GeomFromWKB(geom) AS geom)" if name != "failures" else ""
                con.execute(f"CREATE VIEW {name} AS SELECT *{geom} FROM {location}")
        yield con
    finally:
        con.close()


@functools.cache
def query_text(name: str) -> str:
    """The text of sql/<name>.sql."""
    path = data_dir("sql") / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"no named query {name!r} in {path.parent}")
    return path.read_text()


def query_parameters(name: str) -> set[str]:
    """The $parameters a named query binds."""
    return set(re.findall(r"\$([a-z_][a-z0-9_]*)", query_text(name)))


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params):
    """Run sql/<name>.sql with its $parameters bound; returns an Arrow table."""
    wanted = query_parameters(name)
    if set(params) != wanted:
        raise QueryError(f"{name}.sql binds {sorted(wanted)}, got {sorted(params)}")
    try:
        return con.execute(query_text(name), params).to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"{name}.sql failed: {exc}") from exc
