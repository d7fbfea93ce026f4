"""DuckDB over geovec stores: the spatial and lance extensions loaded from their wheels,
and each store's tables visible by name.

Loading the extensions takes about a second (DuckDB checks their signatures), so the
process keeps one DuckDB database (:func:`shared_database`) and loads them once. Each open
:class:`~geovec.store.Store` owns a schema of it holding its views, and runs every query
on a fresh cursor that uses that schema: cursors share the extensions, the settings and
the views, and each one reads the Lance tables as they are now (a connection keeps the
table versions it first read).

Two guards keep every answer right (issue 18):

- The lance extension's scan loses a column when a filter on a BLOB or list column
  (``geom``, the feature vectors) is left to DuckDB and that column is not read above the
  filter: ``WHERE ST_DWithin(geom, ...) LIMIT 3`` answered no rows once, then an INTERNAL
  error. The views hand those columns out through an expression that also reads ``id``
  (:func:`view_sql`), so DuckDB keeps such a filter above the scan, where it is right.
  Lance cannot evaluate filters on those types anyway, so nothing is lost; filters on the
  plain columns are still pushed into the Lance scan.
- A fatal DuckDB error invalidates its whole database. A shared database is checked at
  each use and replaced when it was (:func:`shared_database`); the stores then make their
  schemas and views again, so one bad query never outlives itself.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import json
import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from geovec.errors import QueryError
from geovec.geodesy import register_sql_functions
from geovec.store.filters import quote
from geovec.store.schema import BASE_SCHEMAS, FAILURES

EXTENSION_PACKAGES = ("duckdb_extension_spatial", "duckdb_extension_lance")


@functools.cache
def extension_files() -> list[Path]:
    """The .duckdb_extension files inside the spatial and lance wheels."""
    files = []
    for package in EXTENSION_PACKAGES:
        root = Path(importlib.import_module(package).__file__).parent
        found = sorted(root.rglob("*.duckdb_extension"))
        if not found:
            raise QueryError(f"{package} is installed without its extension file; reinstall it")
        files.append(found[-1])
    return files


def new_database(*, sealed: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with spatial and lance loaded and lon/lat axis order enforced
    for every cursor (``SET GLOBAL geometry_always_xy``). Nothing is downloaded.

    ``sealed`` (for SQL from outside: ``geovec sql``, the explorer): DuckDB's own file
    access is switched off and the configuration locked once the extensions are in, so
    no query can write or read a file (``COPY ... TO``, ``read_text('/etc/...')``,
    ``ATTACH``) or turn that back on. The stores' Lance tables are still read: the lance
    extension does its own reading."""
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_persistent_secrets": False,  # no ~/.duckdb/stored_secrets to read
        }
    )
    for path in extension_files():
        con.execute(f"LOAD {quote(path)}")
    con.execute("SET GLOBAL geometry_always_xy = true")
    register_sql_functions(con)  # geodesic_m, in_footprint, ecef_x/y/z: the one geodesy
    if sealed:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


REFUSED_STATEMENTS = ("COPY", "COPY_DATABASE", "EXPORT", "ATTACH", "DETACH", "LOAD")
"""Statement types that read-only SQL refuses: they move data to or from files (the
database is sealed against them too) or change what the database can do."""


def check_read_only(query: str, *, select_only: bool = False) -> None:
    """QueryError unless ``query`` is one statement that is not COPY, EXPORT, ATTACH,
    DETACH, LOAD or INSTALL (DuckDB types INSTALL as LOAD); with ``select_only``, one
    SELECT or EXPLAIN. Scratch tables of the in-memory database stay allowed; the stores'
    tables are read-only views."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryError(str(exc).strip().splitlines()[0]) from None
    if len(statements) != 1:
        raise QueryError(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type.name
    if kind in REFUSED_STATEMENTS or (select_only and kind not in ("SELECT", "EXPLAIN")):
        raise QueryError(
            f"{kind} statements are refused on the read-only store "
            "(geovec sql --write, or write=True, to change tables)"
        )


SAFE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions that make rows without reading anything."""


def check_table_references(query: str, tables: set[str]) -> None:
    """QueryError unless every table ``query`` reads is one of ``tables`` (the store's
    views) or a name it defines itself (WITH), and every table function is one that reads
    nothing. For SQL from outside: a sealed database touches no file through DuckDB, but
    the lance extension reads ``'any/path.lance'`` and ``lance_*`` functions by itself."""
    with _SHARED_LOCK:
        text = shared_database(sealed=False).execute("SELECT json_serialize_sql(?)", [query])
        tree = json.loads(text.fetchone()[0])
    if tree.get("error"):
        raise QueryError(tree.get("error_message", "the query cannot be read").splitlines()[0])
    defined = set()
    refused = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for entry in (node.get("cte_map") or {}).get("map", []):
            defined.add(str(entry.get("key", "")).lower())
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            parts = [node.get("catalog_name"), node.get("schema_name"), name]
            if len([p for p in parts if p]) > 1 or name not in tables:
                refused.append(".".join(p for p in parts if p))
        elif kind == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in SAFE_TABLE_FUNCTIONS:
                refused.append(f"{name}(...)")
        for value in node.values():
            walk(value)

    walk(tree.get("statements", []))
    refused = [r for r in refused if r.lower() not in defined]
    if refused:
        names = ", ".join(sorted(tables))
        raise QueryError(
            f"only the store's tables can be read here ({names}); refused: {', '.join(refused)}"
        )


_SHARED: dict[bool, duckdb.DuckDBPyConnection] = {}  # open and sealed, made on first use
_SHARED_LOCK = threading.RLock()  # the shared connection object is used by one thread at a time
_SCHEMA_NUMBERS = itertools.count(1)
_RESTARTS = {False: 0, True: 0}

FATAL_ERRORS = (duckdb.FatalException, duckdb.InternalException)
"""DuckDB errors after which its database refuses every statement until it is replaced."""


def shared_database(sealed: bool = False) -> duckdb.DuckDBPyConnection:
    """The process's DuckDB database (:func:`new_database`), made on first use: the open
    one, for the library's own queries and ``store.sql``, or the sealed one, for SQL from
    outside (``geovec sql``, the explorer) that must touch no file.

    A fatal error in any query invalidates a DuckDB database for good, so each call first
    checks it (one ``SELECT 1``, about 0.1 ms) and makes a new one when it was: the stores
    see another database object and make their schemas and views again in it
    (:meth:`geovec.store.Store.cursor`); tables that queries made in the old one are gone."""
    with _SHARED_LOCK:
        con = _SHARED.get(sealed)
        if con is not None:
            try:
                con.execute("SELECT 1")
                return con
            except duckdb.Error:  # "database has been invalidated because of a fatal error"
                _RESTARTS[sealed] += 1
                try:
                    con.close()
                except duckdb.Error:
                    pass
        con = _SHARED[sealed] = new_database(sealed=sealed)
        return con


def restarts(sealed: bool = False) -> int:
    """How many times this process replaced a shared database after a fatal error."""
    return _RESTARTS[sealed]


def restart_if_invalid(sealed: bool = False) -> bool:
    """Replace a shared database now if a fatal error invalidated it; True when it did."""
    with _SHARED_LOCK:
        if sealed not in _SHARED:
            return False
        before = _RESTARTS[sealed]
        shared_database(sealed)
        return _RESTARTS[sealed] != before


def failure_line(exc: Exception, sealed: bool | None = False) -> str:
    """One line saying why a query failed. After a fatal DuckDB error the shared database
    (``sealed`` or not; None: a database of the caller's own, which it replaces itself) is
    replaced at once, and the line says so."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # checked whatever the error's type: an error met while streaming comes as Arrow's
    restarted = sealed is not None and restart_if_invalid(sealed)
    if not restarted and not isinstance(exc, FATAL_ERRORS):
        return first
    return (
        "DuckDB failed inside this query and its database was started again (later queries "
        f"work; tables made by earlier queries are gone): {first}"
    )


def new_schema(sealed: bool = False) -> str:
    """A fresh schema of a shared database, for one store's views and scratch tables."""
    name = f"store_{next(_SCHEMA_NUMBERS)}"
    with _SHARED_LOCK:
        shared_database(sealed).execute(f"CREATE SCHEMA {name}")
    return name


def drop_schema(name: str, sealed: bool = False) -> None:
    """Drop a store's schema and everything in it (its views, its scratch tables)."""
    with _SHARED_LOCK:
        if sealed in _SHARED:
            try:
                _SHARED[sealed].execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            except duckdb.Error:  # an invalidated database: the schema went with it
                pass


def schema_cursor(schema: str, sealed: bool = False) -> duckdb.DuckDBPyConnection:
    """A cursor of a shared database whose unqualified names are those of ``schema``."""
    with _SHARED_LOCK:
        cursor = shared_database(sealed).cursor()
    cursor.execute(f"USE memory.{schema}")
    return cursor


def table_location(store_path: Path, table: str) -> Path:
    """The Lance dataset directory of ``table`` in the store at ``store_path``."""
    return (Path(store_path) / f"{table}.lance").resolve()


def _plain(kind: pa.DataType) -> bool:
    """Whether the lance extension leaves filters on a column of this type to DuckDB's
    own plan: not for BLOBs and lists (Lance's filters cannot hold them)."""
    return not (
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
    )


def view_sql(store_path: Path, table: str) -> str:
    """The SELECT behind the view of ``table``: ``geom`` as a GEOMETRY, every column by its
    name, the plain ones first (in the table's order), then ``geom``, the lists and the
    feature vectors, which are handed out through ``if(id IS NULL, NULL, column)`` (``id``
    is never null): a filter on them then reads two columns, so DuckDB keeps it in its own
    plan above the Lance scan instead of in the scan, whose handling of it loses the column
    (the module docstring). Columns added later (features) come out the same way."""
    location = quote(table_location(store_path, table))
    if table == FAILURES:
        return f"SELECT * FROM {location}"
    plain = ", ".join(quote(f.name) for f in BASE_SCHEMAS[table] if _plain(f.type))
    return (
        "SELECT * EXCLUDE (__geovec_pad) FROM ("
        f"SELECT COLUMNS(lambda c: c IN ({plain})), "
        "ST_GeomFromWKB(if(id IS NULL, NULL, geom)) AS geom, "
        f"if(id IS NULL, NULL, COLUMNS(lambda c: c NOT IN ({plain}, 'geom'))) "
        f"FROM (SELECT *, NULL::BLOB AS __geovec_pad FROM {location}))"
    )


def create_view(schema: str, store_path: Path, table: str, sealed: bool = False) -> None:
    """A read-only view ``schema.table`` over the Lance dataset (:func:`view_sql`)."""
    statement = f"CREATE OR REPLACE VIEW {schema}.{table} AS {view_sql(store_path, table)}"
    with _SHARED_LOCK:
        shared_database(sealed).execute(statement)


def attach_for_writing(con: duckdb.DuckDBPyConnection, store_path: Path) -> None:
    """Attach the store through the lance extension as ``geo`` and make it the default, so
    statements can change its tables."""
    con.execute(f"ATTACH {quote(Path(store_path).resolve())} AS geo (TYPE LANCE)")
    con.execute("USE geo")
