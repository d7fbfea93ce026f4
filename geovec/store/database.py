"""The geovec store: one LanceDB directory holding the tables ``ground``, ``overhead``,
``map`` and ``failures`` (schemas in :mod:`geovec.store.schema`), and one DuckDB database
over them for SQL, opened on first use and kept for the store's life.

>>> with geovec.open(demo_db) as store:
...     store.sql("SELECT region, count(*) FROM ground GROUP BY ALL ORDER BY 1").fetchall()
[('charleston', ...), ('sanfrancisco', ...)]
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geovec.defaults import __version__
from geovec.errors import FeatureMissingError, QueryError, StoreError
from geovec.store.commits import commit
from geovec.store.filters import id_filter
from geovec.store.finite import require_finite, require_finite_columns
from geovec.store.migrations import read_columns, renamed, upgrade_failures
from geovec.store.queries import run_query
from geovec.store.schema import BASE_SCHEMAS, FAILURES
from geovec.store.sql import (
    FATAL_ERRORS,
    attach_for_writing,
    check_read_only,
    create_view,
    drop_schema,
    failure_line,
    new_database,
    new_schema,
    schema_cursor,
    shared_database,
)

if TYPE_CHECKING:
    import duckdb


class Store:
    """An opened geovec database (a LanceDB directory). Use :func:`geovec.open`, best as a
    context manager.

    One Store may be shared by threads (the explorer's pool does): its DuckDB schema and
    views are made under a lock, and every write takes the store's commit lock
    (:mod:`geovec.store.commits`), which other processes writing the store take too."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_dir():
            raise StoreError(f"{self.path}: no geovec database here (run geovec ingest first)")
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"{self.path}: is a file, not a database directory")
        self._made = []  # the folders this Store makes (the store's, then parents), deepest first
        for folder in (self.path, *self.path.parents):
            if folder.exists():
                break
            self._made.append(folder)
        self.created = bool(self._made)  # this Store makes the folder
        self.db = lancedb.connect(str(self.path))
        # this store's schema of each shared DuckDB database (open: False, sealed: True),
        # the views made in it, and what drops it when the store goes
        self._schemas: dict[bool, str] = {}
        self._views: dict[bool, set[str]] = {False: set(), True: set()}
        self._finalizers: dict[bool, weakref.finalize] = {}
        self._writer: duckdb.DuckDBPyConnection | None = None  # opened by sql(write=True)
        self._databases: dict[bool, object] = {}  # the shared database each schema is in
        self._lock = threading.RLock()  # guards the five fields above

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={self.count(t)}" for t in self.tables())
        return f"<geovec.Store {self.path} {counts}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Drop the store's DuckDB schema (its views and scratch tables: relations from
        :meth:`sql` end with them) and close its writing database. The store stays usable:
        the next query makes a new schema."""
        with self._lock:
            for sealed, schema in self._schemas.items():
                self._finalizers[sealed].detach()
                drop_schema(schema, sealed)
            if self._writer is not None:
                self._writer.close()
            self._writer = None
            self._schemas, self._finalizers, self._databases = {}, {}, {}
            self._views = {False: set(), True: set()}

    def remove_if_unused(self) -> bool:
        """Remove the store's folder when this Store made it and it is still empty (a first
        ingest that failed before writing anything), and the parents made for it that are
        empty; True when removed. A folder that was there before, or that holds anything,
        is left as it is."""
        if not self.created or not self.path.is_dir() or any(self.path.iterdir()):
            return False
        self.close()
        try:
            self.path.rmdir()
        except OSError:  # something arrived meanwhile: keep it
            return False
        for parent in self._made[1:]:  # the parents made for it (ingest a/b/db), if empty
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    # tables -------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Names of the tables that exist."""
        return sorted(self.db.list_tables().tables)

    def has(self, name: str) -> bool:
        return name in self.tables()

    def version_token(self, name: str) -> tuple[int, int, int] | None:
        """What names table ``name`` as it is now, for caches: its Lance version with the
        identity of its folder (inode, change time), since a table deleted and written
        again at the same path starts its versions again. None while it does not exist."""
        return self.version_tokens(name)[0]

    def version_tokens(self, *names: str) -> tuple[tuple[int, int, int] | None, ...]:
        """:meth:`version_token` of each of ``names``, the table list read once."""
        present = set(self.tables())
        return tuple(self._token(name) if name in present else None for name in names)

    def _token(self, name: str) -> tuple[int, int, int] | None:
        version = self.db.open_table(name).version
        try:
            folder = os.stat(self.path / f"{name}.lance")
        except OSError:
            return None
        return (version, folder.st_ino, folder.st_ctime_ns)

    def table(self, name: str, *, create: bool = False):
        """The LanceDB table ``name``; created empty with its schema when ``create``."""
        if name not in BASE_SCHEMAS:
            raise StoreError(f"unknown table {name!r}; geovec tables: {', '.join(BASE_SCHEMAS)}")
        if self.has(name):
            return self.db.open_table(name)
        if not create:
            raise StoreError(f"{self.path} has no {name!r} table yet; ingest some {name} images")
        schema = BASE_SCHEMAS[name].with_metadata({"geovec_version": __version__})
        return self.db.create_table(name, schema=schema, exist_ok=True)

    def count(self, name: str, where: str | None = None) -> int:
        """Rows of table ``name`` (0 when it does not exist yet), those matching the Lance
        filter ``where`` when given."""
        return self.table(name).count_rows(where) if self.has(name) else 0

    def features(self, view: str) -> dict[str, int]:
        """Feature columns of ``view`` and their lengths."""
        if not self.has(view):
            return {}
        base = set(BASE_SCHEMAS[view].names)
        return {
            f.name: f.type.list_size
            for f in self.table(view).schema
            if f.name not in base and pa.types.is_fixed_size_list(f.type)
        }

    def field_metadata(self, view: str, field: str) -> dict[str, str]:
        """The metadata of a column of ``view`` (text keys and values)."""
        metadata = self.table(view).schema.field(field).metadata or {}
        return {k.decode(): v.decode() for k, v in metadata.items()}

    def set_field_metadata(self, view: str, field: str, metadata: dict[str, str]) -> None:
        """Set the metadata of a column of ``view`` (one commit)."""
        commit(
            self.path,
            f"setting the metadata of {view}.{field}",
            lambda: self.table(view).update_field_metadata({"path": field, "metadata": metadata}),
        )

    def provenance(self, view: str, feature: str) -> dict[str, str]:
        """How ``feature`` of ``view`` was computed (weights, sha256, preprocessing)."""
        field = self.table(view).schema.field(feature)
        return json.loads((field.metadata or {}).get(b"geovec", b"{}"))

    def ensure_features(self, view: str, fields: list[pa.Field]) -> None:
        """Add feature columns that ``view`` lacks (all null until filled); writers that
        ask for the same column at once add it once."""
        commit(self.path, f"adding columns to {view}", lambda: self._ensure_features(view, fields))

    def _ensure_features(self, view: str, fields: list[pa.Field]) -> None:
        if not self.has(view):  # one commit: readers never see the table without them
            schema = pa.schema([*BASE_SCHEMAS[view], *fields])
            self.db.create_table(
                view, schema=schema.with_metadata({"geovec_version": __version__}), exist_ok=True
            )
        table = self.table(view)
        have = set(table.schema.names)
        new = [f for f in fields if f.name not in have]
        if new:
            table.add_columns(pa.schema([f.remove_metadata() for f in new]))
            for f in new:
                metadata = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
                table.update_field_metadata({"path": f.name, "metadata": metadata})
        for f in fields:
            if f.name in have and table.schema.field(f.name).type != f.type:
                raise StoreError(
                    f"{view}.{f.name} holds {table.schema.field(f.name).type}, not {f.type}"
                )

    def require_feature(self, view: str, feature: str) -> int:
        """Length of ``feature`` in ``view``; FeatureMissingError naming the fix if absent."""
        dims = self.features(view)
        if feature not in dims and not self.count(view):  # extract cannot help: no rows
            raise FeatureMissingError(
                f"{view} has no {feature!r} feature: {self.path} has no {view} images yet; "
                f"add them: {adding_view(self.path, view)}"
            )
        if feature not in dims:
            have = ", ".join(dims) or "none"
            raise FeatureMissingError(
                f"{view} has no {feature!r} feature (has: {have}); compute it with: "
                f"geovec extract {self.path} --features {feature} --view {view}"
            )
        return dims[feature]

    # reading ------------------------------------------------------------------------

    def ids(self, view: str) -> set[str]:
        """Ids already stored in ``view``."""
        if not self.has(view):
            return set()
        return set(self.read(view, ["id"]).column("id").to_pylist())

    def read(
        self, view: str, columns: list[str] | None = None, where: str | None = None
    ) -> pa.Table:
        """Rows of ``view`` as an Arrow table (``where`` is a Lance SQL filter)."""
        table = self.table(view)
        if view == FAILURES:  # a store of an older geovec: today's column names
            columns = read_columns(table.schema.names, columns)
        if where is None and columns is None:
            data = table.to_arrow()
        else:
            query = table.search()
            if where:
                query = query.where(where, prefilter=True)
            if columns:
                query = query.select(columns)
            data = query.limit(None).to_arrow()
        return renamed(data) if view == FAILURES else data

    def vectors(
        self, view: str, feature: str, where: str | None = None
    ) -> tuple[list[str], np.ndarray]:
        """(ids, (N, D) float32 matrix) of a feature, rows lacking it skipped.

        Raises:
          NonFiniteFeatureError: a row holds NaN or infinity (every evaluation reads its
            vectors here, so none ranks against them).
        """
        self.require_feature(view, feature)
        clause = f"{feature} IS NOT NULL" + (f" AND ({where})" if where else "")
        data = self.read(view, ["id", feature], clause)
        column = data.column(feature).combine_chunks()
        dim = column.type.list_size
        matrix = column.values.to_numpy(zero_copy_only=False).reshape(-1, dim)
        ids = data.column("id").to_pylist()
        require_finite(ids, matrix, f"{view}.{feature} in {self.path}")
        return ids, matrix

    # writing ------------------------------------------------------------------------

    def append(self, view: str, rows: pa.Table) -> int:
        """Append rows (one Lance commit: all of them or none after a crash), leaving out
        those whose id the table holds already (another ingest stored them first): each
        id is stored once, however many processes write it at the same time. Returns the
        rows written."""
        return commit(self.path, f"appending to {view}", lambda: self._append(view, rows))

    def _append(self, view: str, rows: pa.Table) -> int:
        table = self.table(view, create=True)
        try:
            columns = [
                rows.column(f.name).cast(f.type)
                if f.name in rows.column_names
                else pa.nulls(rows.num_rows, f.type)  # a column these rows do not set
                for f in table.schema
            ]
            data = pa.Table.from_arrays(columns, schema=table.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise StoreError(
                f"{self.path}: rows do not fit the {view} table ({str(exc).splitlines()[0]}); "
                "a store made by an older geovec needs positions on every row: ingest "
                "pair-only datasets into a new store"
            ) from None
        if "id" in data.column_names and data.num_rows:
            present = _present_ids(table, data.column("id"))
            if len(present):
                data = data.filter(pc.invert(pc.is_in(data.column("id"), value_set=present)))
        if data.num_rows:
            table.add(data)
        return data.num_rows

    def record_failures(self, failures: list[dict]) -> None:
        """Append failure rows (path, view, stage, error); ones already recorded are skipped
        (by any writer of the store)."""
        if failures:
            commit(self.path, "recording failures", lambda: self._record_failures(failures))

    def _record_failures(self, failures: list[dict]) -> None:
        known = set()
        if self.has(FAILURES) and upgrade_failures(self.table(FAILURES)):
            with self._lock:  # the views name the old column: make them again
                for made in self._views.values():
                    made.discard(FAILURES)
        if self.has(FAILURES):
            old = self.read(FAILURES, ["path", "view", "stage", "error"])
            known = set(zip(*(old.column(c).to_pylist() for c in old.column_names)))
        now = dt.datetime.now(dt.UTC)
        fresh, seen = [], set()
        for f in failures:
            key = (f["path"], f["view"], f["stage"], f["error"])
            if key not in known and key not in seen:
                seen.add(key)
                fresh.append({**f, "failed_at": now})
        if fresh:
            self.append(FAILURES, pa.Table.from_pylist(fresh, schema=BASE_SCHEMAS[FAILURES]))

    def update_columns(self, view: str, rows: pa.Table) -> None:
        """Set columns of existing rows, matched by id (one commit). Rows appended by
        another writer meanwhile are kept and left as they are. Vectors must be finite
        (NonFiniteFeatureError, nothing written)."""
        require_finite_columns(rows, view)
        commit(
            self.path,
            f"updating {view}",
            lambda: self.table(view).merge_insert("id").when_matched_update_all().execute(rows),
        )

    # SQL ----------------------------------------------------------------------------

    def cursor(self, *, sealed: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor that sees every table by name (views over the Lance tables, with
        ``geom`` a GEOMETRY), reading them as they are now. Its database (extensions and
        settings) is the process's, loaded once; its views, made once, are this store's.
        ``sealed``: on the database that can touch no file (for SQL from outside).

        Safe from any thread: the schema and views are made under the store's lock, a
        table that appears later gets its view at the next call, and a schema whose
        shared database was replaced (reopened after a fatal error) is made again. Each
        cursor reads each table at one version (the lance extension keeps, per
        connection, the version it opened first), so one query reading ``ground`` twice
        sees one version of it."""
        names = self.tables()
        with self._lock:
            database = shared_database(sealed)
            if sealed in self._schemas and self._databases.get(sealed) is not database:
                self._finalizers.pop(sealed).detach()  # its database is gone, and it with it
                del self._schemas[sealed]
            if sealed not in self._schemas:
                schema = self._schemas[sealed] = new_schema(sealed)
                self._finalizers[sealed] = weakref.finalize(self, drop_schema, schema, sealed)
                self._databases[sealed] = database
                self._views[sealed] = set()
            schema, made = self._schemas[sealed], self._views[sealed]
            for name in names:
                if name not in made:
                    columns = self.table(name).schema.names if name == FAILURES else None
                    create_view(schema, self.path, name, sealed, columns)
                    made.add(name)
            return schema_cursor(schema, sealed)

    def _write_cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._writer is None:
                writer = new_database()
                attach_for_writing(writer, self.path)
                self._writer = writer
            cursor = self._writer.cursor()
        cursor.execute("USE geo")
        return cursor

    def sql(
        self,
        query: str,
        params: list | dict | None = None,
        *,
        write: bool = False,
        sealed: bool = False,
    ):
        """Run DuckDB SQL with the tables visible by name; a DuckDB relation (``.fetchall()``,
        ``.to_arrow_table()``, ``.arrow()``, ``.df()``, ``.pl()``), or None for a statement
        that returns no rows. Values go in ``params`` ($name or ? placeholders), never into
        the text. Read-only unless ``write``: one statement, and no COPY, EXPORT, ATTACH,
        LOAD. ``sealed`` (SQL from outside: ``geovec sql``, the explorer): on a database
        that can neither read nor write files (:func:`geovec.store.sql.new_database`).

        Raises:
          QueryError: the query does not parse or bind (e.g. an unknown column), or is
            refused (several statements, COPY, ATTACH, ... without ``write``).
        """
        import duckdb

        if not write:
            check_read_only(query)
        try:
            cursor = self._write_cursor() if write else self.cursor(sealed=sealed)
        except FATAL_ERRORS:  # a writing database that an earlier fatal error invalidated
            if not write:
                raise
            self._drop_writer()
            cursor = self._write_cursor()
        try:
            return cursor.sql(query, params=params or None)
        except duckdb.Error as exc:
            raise self._query_error(exc, write, sealed) from exc

    def sql_table(
        self,
        query: str,
        params: list | dict | None = None,
        *,
        write: bool = False,
        sealed: bool = False,
    ):
        """:meth:`sql`, run to the end now: an Arrow table (empty for a statement that
        returns no rows). Every DuckDB error, at binding or while running, is a QueryError;
        after a fatal one (DuckDB invalidates its database then) the database is replaced
        before it is raised, so the next query works."""
        import duckdb

        relation = self.sql(query, params, write=write, sealed=sealed)
        try:
            return relation.to_arrow_table() if relation is not None else pa.table({})
        except duckdb.Error as exc:
            raise self._query_error(exc, write, sealed) from exc

    def _query_error(self, exc: Exception, write: bool, sealed: bool) -> QueryError:
        """The one-line QueryError for a DuckDB error of :meth:`sql`; a fatal one replaces
        the database it invalidated first (the shared one, or this store's writer)."""
        if write and isinstance(exc, FATAL_ERRORS):
            self._drop_writer()
        first = failure_line(exc, None if write else sealed)
        lowered = first.lower()
        if not write and any(w in lowered for w in ("read-only", "view", "base table")):
            first += " (the store is read-only here; pass write=True to change tables)"
        if 'column "at" not found' in lowered:
            first += " (failures.at is failures.failed_at since geovec 0.1: at is a reserved word)"
        return QueryError(first)

    def _drop_writer(self) -> None:
        """Forget the writing database (a fatal error invalidated it); the next
        ``sql(write=True)`` opens a new one."""
        import duckdb

        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except duckdb.Error:
                pass

    def query(self, name: str, **params) -> pa.Table:
        """Run the named query sql/<name>.sql with its $parameters bound."""
        return run_query(self.cursor(), name, **params)


def _present_ids(table, ids: pa.ChunkedArray) -> pa.Array:
    """Those of ``ids`` that ``table`` holds already (a filter on the id column for a
    chunk, the whole column for a big batch)."""
    wanted = pc.unique(ids.combine_chunks()).drop_null()
    if len(wanted) <= 4096:
        query = table.search().where(id_filter(wanted.to_pylist()), prefilter=True)
    else:
        query = table.search()
    found = query.select(["id"]).limit(None).to_arrow().column("id").combine_chunks()
    return pc.filter(found, pc.is_in(found, value_set=wanted)).cast(pa.string())


def open(path: str | Path, *, create: bool = True) -> Store:  # noqa: A001 - mirrors lancedb
    """Open (or create) the geovec database at ``path``. Use it as a context manager to
    close its DuckDB database when done (``with geovec.open("geo") as store: ...``)."""
    return Store(path, create=create)


def removes_new_store_on_failure(write: Callable) -> Callable:
    """Wrap ``write(store, ...)`` (a first ingest) so that when it fails, the store's folder
    is removed if the call's Store made it and nothing was written into it
    (:meth:`Store.remove_if_unused`); the error goes on."""

    @functools.wraps(write)
    def run(store: Store, *args, **kwargs):
        try:
            return write(store, *args, **kwargs)
        except BaseException:
            store.remove_if_unused()
            raise

    return run


def adding_view(db, view: str) -> str:
    """The commands that add ``view`` rows (ground, overhead, map) to the store ``db``."""
    return {
        "ground": f"geovec ingest {db} PHOTOS/ (or a manifest)",
        "overhead": "geovec aerial SOURCE points.csv --view overhead --out aerial, then "
        f"geovec ingest {db} aerial/manifest.csv",
        "map": "geovec grid --bbox W,S,E,N --out grid.csv + geovec aerial SOURCE grid.csv "
        f"--out tiles, then geovec ingest {db} tiles/manifest.csv",
    }.get(view, f"geovec ingest {db} SOURCE --view {view}")
