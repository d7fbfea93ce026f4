"""The named queries of sql/: one question per file, loaded once, run with bound
``$parameters`` only."""

from __future__ import annotations

import functools
import re

import duckdb
import pyarrow as pa

from geovec.errors import QueryError
from geovec.resources import data_dir


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


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params) -> pa.Table:
    """Run sql/<name>.sql with exactly its $parameters bound; an Arrow table."""
    wanted = query_parameters(name)
    if set(params) != wanted:
        raise QueryError(f"{name}.sql binds {sorted(wanted)}, got {sorted(params)}")
    try:
        return con.execute(query_text(name), params).to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"{name}.sql failed: {exc}") from exc
