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
import os
import re
import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from geovec.errors import QueryError
from geovec.geodesy import register_sql_functions
from geovec.store.filters import quote
from geovec.store.migrations import select_list
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


SEALED_MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit on the sealed database (``$GEOVEC_SQL_MEMORY_LIMIT`` or
:func:`set_sealed_limits` to change it): a query that needs more fails with DuckDB's
"Out of Memory Error" instead of taking the machine's memory; nothing spills to disk."""
SEALED_THREADS = 2
"""DuckDB threads of the sealed database (``$GEOVEC_SQL_THREADS``, :func:`set_sealed_limits`)."""
_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_SEALED_LIMITS: dict = {}


def sealed_limits() -> dict:
    """The sealed database's ``memory_limit`` (DuckDB's size text) and ``threads``: as
    :func:`set_sealed_limits` set them, else ``$GEOVEC_SQL_MEMORY_LIMIT`` /
    ``$GEOVEC_SQL_THREADS``, else :data:`SEALED_MEMORY_LIMIT` / :data:`SEALED_THREADS`."""
    memory = _SEALED_LIMITS.get("memory_limit") or os.environ.get(
        "GEOVEC_SQL_MEMORY_LIMIT", SEALED_MEMORY_LIMIT
    )
    threads = _SEALED_LIMITS.get("threads") or os.environ.get("GEOVEC_SQL_THREADS", SEALED_THREADS)
    return _checked_limits(memory, threads)


def _checked_limits(memory_limit, threads) -> dict:
    memory_limit = str(memory_limit).strip()
    if not _SIZE.fullmatch(memory_limit):
        raise QueryError(f"the SQL memory limit must be a size such as 1GB, got {memory_limit!r}")
    try:
        threads = int(threads)
    except (TypeError, ValueError):
        threads = 0
    if not 1 <= threads <= 256:
        raise QueryError("the SQL thread cap must be an integer 1 to 256")
    return {"memory_limit": memory_limit, "threads": threads}


def set_sealed_limits(*, memory_limit: str | None = None, threads: int | None = None) -> None:
    """Set the sealed database's memory limit (a size: "512MB", "2GB") and thread cap;
    None keeps the current one. A sealed database already made is replaced (its
    configuration is locked), and the stores make their views again in the new one."""
    current = sealed_limits()
    wanted = _checked_limits(
        current["memory_limit"] if memory_limit is None else memory_limit,
        current["threads"] if threads is None else threads,
    )
    _SEALED_LIMITS.update(wanted)
    if wanted != current:
        with _SHARED_LOCK:  # queries running on the old one finish there
            _SHARED.pop(True, None)


def new_database(*, sealed: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with spatial and lance loaded and lon/lat axis order enforced
    for every cursor (``SET GLOBAL geometry_always_xy``). Nothing is downloaded.

    ``sealed`` (for SQL from outside: ``geovec sql``, the explorer): DuckDB's own file
    access is switched off and the configuration locked once the extensions are in, so
    no query can write or read a file (``COPY ... TO``, ``read_text('/etc/...')``,
    ``ATTACH``) or turn that back on; Python objects are not scanned by name; the memory
    limit and thread cap of :func:`sealed_limits` hold, with no spilling to disk. The
    stores' Lance tables are still read: the lance extension does its own reading."""
    limits = sealed_limits() if sealed else None
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
        con.execute(f"SET memory_limit = {quote(limits['memory_limit'])}")
        con.execute(f"SET threads = {limits['threads']}")
        con.execute("SET temp_directory = ''")  # the limit holds: nothing spills to a file
        con.execute("SET python_enable_replacements = false")  # no Python frame scans
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
    if len(statements) == 2 and _dynamic_pivot(statements):
        raise QueryError(
            "PIVOT needs its ON values listed here (DuckDB runs a PIVOT without them as two "
            "statements): PIVOT t ON col IN ('a', 'b') USING ..."
        )
    if len(statements) != 1:
        raise QueryError(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type.name
    if kind in REFUSED_STATEMENTS or (select_only and kind not in ("SELECT", "EXPLAIN")):
        raise QueryError(
            f"{kind} statements are refused on the read-only store "
            "(geovec sql --write, or write=True, to change tables)"
        )


def _dynamic_pivot(statements) -> bool:
    """Whether two statements are DuckDB's expansion of one PIVOT without an IN list: a
    CREATE of the ON column's values as an enum type, then the SELECT (neither has text)."""
    kinds = [s.type.name for s in statements]
    return kinds == ["CREATE", "SELECT"] and not any(s.query for s in statements)


SAFE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions that make rows without reading anything."""
REFUSED_FUNCTIONS = frozenset(
    {"current_setting", "getvariable", "pg_get_viewdef", "pg_get_constraintdef", "get_block_size"}
)
"""Scalar functions that read settings, variables or the catalog (other stores' views)."""
REFUSED_PREFIXES = ("lance", "__lance", "read_", "st_read", "duckdb_", "pragma_")
"""Function names that read files, datasets or the database's own state, whatever follows."""
FILE_LIKE = frozenset("/\\.:~")
"""Characters that make a name a path (a replacement scan), never a table or a WITH name."""
QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})


def _fold(name: str) -> str:
    """A name as DuckDB matches it: ASCII letters case-insensitively, nothing else folded."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def check_table_references(query: str, tables: set[str]) -> None:
    """QueryError unless every table ``query`` reads is one of ``tables`` (the store's
    views) or a WITH name in scope where it is read, and every function is one that reads
    nothing. For SQL from outside: a sealed database touches no file through DuckDB, but
    the lance extension reads ``'any/path.lance'`` (a replacement scan) and ``lance_*``
    functions by itself.

    WITH names are resolved scope by scope, as DuckDB binds them: a name is visible in the
    query that defines it (its body and the WITH entries after it) and in the queries
    nested in those, never outside; a recursive entry (``WITH RECURSIVE t AS (a UNION b)``)
    sees itself in ``b`` only. Anything else read by name is a replacement scan, refused.
    Also refused whatever the scope: names with ``/ \\ . : ~`` (paths, other schemas and
    catalogs), table functions other than ``range``/``generate_series``/``unnest``, the
    ``lance_*``/``read_*``/``duckdb_*``/``pragma_*`` functions, ``current_setting``,
    ``getvariable`` and the macros that read the catalog, SHOW of a table list, and every
    statement that json_serialize_sql cannot write out (EXPLAIN, PRAGMA, SET, CALL)."""
    with _SHARED_LOCK:
        text = shared_database(sealed=False).execute("SELECT json_serialize_sql(?)", [query])
        tree = json.loads(text.fetchone()[0])
    if tree.get("error"):
        message = tree.get("error_message", "the query cannot be read").splitlines()[0]
        if "only select" in message.lower():
            message = "only a SELECT can run here (EXPLAIN, PRAGMA, SET and CALL are refused)"
        raise QueryError(message)
    allowed = {_fold(t) for t in tables}
    refused: list[str] = []

    def refuse(what: str) -> None:
        if what not in refused:
            refused.append(what)

    def name_of(node: dict) -> str:
        parts = [node.get("catalog_name"), node.get("schema_name"), node.get("table_name")]
        return ".".join(str(p) for p in parts if p)

    def query_node(node: dict, scope: frozenset) -> None:
        inner = scope
        for entry in (node.get("cte_map") or {}).get("map", []):
            name = str(entry.get("key", ""))
            if not name or FILE_LIKE & set(name):
                refuse(f"WITH {name}")
            value = entry.get("value") or {}
            walk(value.get("query"), inner)  # its own name: only a recursive node's right side
            inner = inner | {_fold(name)}
        kind = node.get("type")
        rest = {k: v for k, v in node.items() if k != "cte_map"}
        if kind == "RECURSIVE_CTE_NODE":
            walk(rest.pop("left", None), inner)
            walk(rest.pop("right", None), inner | {_fold(str(node.get("cte_name", "")))})
        elif kind == "CTE_NODE":
            walk(rest.pop("query", None), inner)
            walk(rest.pop("child", None), inner | {_fold(str(node.get("ctename", "")))})
        for value in rest.values():
            walk(value, inner)

    def walk(node, scope: frozenset) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, scope)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if isinstance(kind, str) and kind in QUERY_NODES and "class" not in node:
            return query_node(node, scope)
        if kind == "BASE_TABLE" and "class" not in node:
            name = str(node.get("table_name", ""))
            qualified = node.get("catalog_name") or node.get("schema_name")
            if qualified or FILE_LIKE & set(name) or _fold(name) not in scope | allowed:
                refuse(name_of(node))
        elif kind == "SHOW_REF" and node.get("table_name"):
            refuse(f"SHOW {node['table_name']}")
        elif kind == "TABLE_FUNCTION" and "class" not in node:
            function = str((node.get("function") or {}).get("function_name", ""))
            if _fold(function) not in SAFE_TABLE_FUNCTIONS:
                refuse(f"{function}(...)")
        elif node.get("class") == "FUNCTION":
            function = _fold(str(node.get("function_name", "")))
            if function in REFUSED_FUNCTIONS or function.startswith(REFUSED_PREFIXES):
                refuse(f"{node.get('function_name')}(...)")
        for value in node.values():
            walk(value, scope)

    walk(tree.get("statements", []), frozenset())
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
                # not closed: other threads' cursors may still be in it; the invalid
                # database goes when its last cursor does
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


def view_sql(store_path: Path, table: str, columns: list[str] | None = None) -> str:
    """The SELECT behind the view of ``table``: ``geom`` as a GEOMETRY, every column by its
    name, the plain ones first (in the table's order), then ``geom``, the lists and the
    feature vectors, which are handed out through ``if(id IS NULL, NULL, column)`` (``id``
    is never null): a filter on them then reads two columns, so DuckDB keeps it in its own
    plan above the Lance scan instead of in the scan, whose handling of it loses the column
    (the module docstring). Columns added later (features) come out the same way.
    ``columns``: the failures table's, whose old names the view renames
    (:mod:`geovec.store.migrations`)."""
    location = quote(table_location(store_path, table))
    if table == FAILURES:
        return f"SELECT {select_list(columns or [])} FROM {location}"
    plain = ", ".join(quote(f.name) for f in BASE_SCHEMAS[table] if _plain(f.type))
    return (
        "SELECT * EXCLUDE (__geovec_pad) FROM ("
        f"SELECT COLUMNS(lambda c: c IN ({plain})), "
        "ST_GeomFromWKB(if(id IS NULL, NULL, geom)) AS geom, "
        f"if(id IS NULL, NULL, COLUMNS(lambda c: c NOT IN ({plain}, 'geom'))) "
        f"FROM (SELECT *, NULL::BLOB AS __geovec_pad FROM {location}))"
    )


def create_view(
    schema: str, store_path: Path, table: str, sealed: bool = False, columns=None
) -> None:
    """A read-only view ``schema.table`` over the Lance dataset (:func:`view_sql`)."""
    body = view_sql(store_path, table, columns)
    statement = f"CREATE OR REPLACE VIEW {schema}.{table} AS {body}"
    with _SHARED_LOCK:
        shared_database(sealed).execute(statement)


def attach_for_writing(con: duckdb.DuckDBPyConnection, store_path: Path) -> None:
    """Attach the store through the lance extension as ``geo`` and make it the default, so
    statements can change its tables."""
    con.execute(f"ATTACH {quote(Path(store_path).resolve())} AS geo (TYPE LANCE)")
    con.execute("USE geo")
