"""The geovec store: one LanceDB directory holding the tables ``ground``, ``overhead``,
``map`` and ``failures``.

The schema of every table is defined here and nowhere else. Located tables carry
``lon``, ``lat`` (WGS84 decimal degrees) and ``geom`` (the point as WKB). Feature columns
(``places_fc8``, ``gist``, ...) are fixed-size float32 lists added as they are first
computed; each feature field carries its provenance (geovec version, weights file and its
source sha256, preprocessing) in its field metadata under the key ``geovec``.

>>> store = geovec.open("geo.lance")          # doctest: +SKIP
>>> store.sql("SELECT region, count(*) FROM ground GROUP BY region")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import shapely

from geovec import __version__
from geovec.errors import FeatureMissingError, QueryError, StoreError

VIEWS = ("ground", "overhead", "map")
"""Tables that hold located images."""
FAILURES = "failures"

_LOCATION = [
    pa.field("lon", pa.float64(), nullable=False),
    pa.field("lat", pa.float64(), nullable=False),
    pa.field("geom", pa.binary(), nullable=False),
]
BASE_SCHEMAS: dict[str, pa.Schema] = {
    "ground": pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("region", pa.string()),
            pa.field("source", pa.string()),
            pa.field("path", pa.string()),
            *_LOCATION,
            pa.field("pair", pa.string()),
            pa.field("split", pa.string()),
            pa.field("isolated", pa.bool_()),
        ]
    ),
    "overhead": pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("region", pa.string()),
            pa.field("path", pa.string()),
            *_LOCATION,
        ]
    ),
    "map": pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("region", pa.string()),
            pa.field("path", pa.string()),
            *_LOCATION,
            pa.field("size_m", pa.float64()),
        ]
    ),
    FAILURES: pa.schema(
        [
            pa.field("path", pa.string()),
            pa.field("view", pa.string()),
            pa.field("stage", pa.string()),
            pa.field("error", pa.string()),
            pa.field("at", pa.timestamp("us", tz="UTC")),
        ]
    ),
}


def feature_field(name: str, dim: int, provenance: dict[str, str] | None = None) -> pa.Field:
    """A feature column: fixed-size list of ``dim`` float32, nullable until computed."""
    meta = {"geovec": json.dumps(provenance or {})}
    return pa.field(name, pa.list_(pa.float32(), dim), nullable=True, metadata=meta)


def point_wkb(lon: np.ndarray, lat: np.ndarray) -> list[bytes]:
    """WKB points for arrays of lon, lat (decimal degrees)."""
    return list(shapely.to_wkb(shapely.points(np.asarray(lon), np.asarray(lat))))


def vectors_to_arrow(values: np.ndarray) -> pa.FixedSizeListArray:
    """(N, D) float array → Arrow fixed-size list array of float32, without a copy per row."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def quote(text: str) -> str:
    """A SQL string literal ('it''s'), for Lance filters, which take no bound parameters."""
    return "'" + str(text).replace("'", "''") + "'"


def id_filter(ids) -> str:
    """A Lance filter selecting rows by id."""
    return f"id IN ({', '.join(quote(i) for i in ids)})"


class Store:
    """An opened geovec database (a LanceDB directory). Use :func:`geovec.open`."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_dir():
            raise StoreError(f"{self.path}: no geovec database here (run geovec ingest first)")
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"{self.path}: is a file, not a database directory")
        self.db = lancedb.connect(str(self.path))

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={self.count(t)}" for t in self.tables())
        return f"<geovec.Store {self.path} {counts}>"

    # tables -------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Names of the tables that exist."""
        return sorted(self.db.list_tables().tables)

    def has(self, name: str) -> bool:
        return name in self.tables()

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

    def count(self, name: str) -> int:
        return self.table(name).count_rows() if self.has(name) else 0

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

    def provenance(self, view: str, feature: str) -> dict[str, str]:
        """How ``feature`` of ``view`` was computed (weights, sha256, preprocessing)."""
        field = self.table(view).schema.field(feature)
        return json.loads((field.metadata or {}).get(b"geovec", b"{}"))

    def ensure_features(self, view: str, fields: list[pa.Field]) -> None:
        """Add feature columns that ``view`` lacks (all null until filled)."""
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
        return set(self.table(view).to_arrow().column("id").to_pylist())

    def read(
        self, view: str, columns: list[str] | None = None, where: str | None = None
    ) -> pa.Table:
        """Rows of ``view`` as an Arrow table (``where`` is a Lance SQL filter)."""
        table = self.table(view)
        if where is None and columns is None:
            return table.to_arrow()
        query = table.search()
        if where:
            query = query.where(where, prefilter=True)
        if columns:
            query = query.select(columns)
        return query.limit(None).to_arrow()

    def vectors(
        self, view: str, feature: str, where: str | None = None
    ) -> tuple[list[str], np.ndarray]:
        """(ids, (N, D) float32 matrix) of a feature, rows lacking it skipped."""
        self.require_feature(view, feature)
        clause = f"{feature} IS NOT NULL" + (f" AND ({where})" if where else "")
        data = self.read(view, ["id", feature], clause)
        column = data.column(feature).combine_chunks()
        dim = column.type.list_size
        matrix = column.values.to_numpy(zero_copy_only=False).reshape(-1, dim)
        return data.column("id").to_pylist(), matrix

    # writing ------------------------------------------------------------------------

    def append(self, view: str, rows: pa.Table) -> None:
        """Append rows (one Lance commit: all of them or none after a crash)."""
        table = self.table(view, create=True)
        table.add(rows.select(table.schema.names).cast(table.schema))

    def record_failures(self, failures: list[dict]) -> None:
        """Append failure rows (path, view, stage, error); ones already recorded are skipped."""
        if not failures:
            return
        known = set()
        if self.has(FAILURES):
            old = self.table(FAILURES).to_arrow().select(["path", "view", "stage", "error"])
            known = set(zip(*(old.column(c).to_pylist() for c in old.column_names)))
        now = dt.datetime.now(dt.UTC)
        fresh, seen = [], set()
        for f in failures:
            key = (f["path"], f["view"], f["stage"], f["error"])
            if key not in known and key not in seen:
                seen.add(key)
                fresh.append({**f, "at": now})
        if fresh:
            self.append(FAILURES, pa.Table.from_pylist(fresh, schema=BASE_SCHEMAS[FAILURES]))

    def update_columns(self, view: str, rows: pa.Table) -> None:
        """Set columns of existing rows, matched by id (one commit)."""
        self.table(view).merge_insert("id").when_matched_update_all().execute(rows)

    def sql(self, query: str, params: list | dict | None = None, *, write: bool = False):
        """Run DuckDB SQL with the tables visible by name; returns an Arrow table.

        Values go in ``params`` ($name or ? placeholders), never into the text.
        """
        import duckdb

        from geovec.sql import connect

        with connect(self, write=write) as con:
            try:
                return con.execute(query, params or []).to_arrow_table()
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                hint = "" if write else " (read-only; pass --write to change tables)"
                if any(w in first.lower() for w in ("read-only", "view", "base table")):
                    first += hint
                raise QueryError(first) from exc


def open(path: str | Path, *, create: bool = True) -> Store:  # noqa: A001 - mirrors lancedb
    """Open (or create) the geovec database at ``path``."""
    return Store(path, create=create)
