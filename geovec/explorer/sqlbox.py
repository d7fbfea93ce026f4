"""The explorer's SQL box: one read-only SELECT over the store's tables, on the sealed
database (no file can be read or written), with a row limit and a time limit. A query that
DuckDB fails on fatally gets one line saying so, and the next one runs on a new database.

>>> answer = run_sql_box(demo_store, "select id, lon, lat from ground order by id", limit=2)
>>> answer["columns"], len(answer["rows"]), answer["truncated"], answer["lonlat"]
(['id', 'lon', 'lat'], 2, True, True)
"""

from __future__ import annotations

import threading

import pyarrow as pa

from geovec.errors import QueryError
from geovec.store import Store
from geovec.store.sql import check_read_only, check_table_references, failure_line

MAX_QUERY_CHARS = 20_000
"""Longest query text the box accepts."""
MAX_ROWS = 10_000
"""Most rows one answer may hold."""


def run_sql_box(store: Store, query: str, *, limit: int = 1000, timeout_s: float = 10.0) -> dict:
    """Run ``query`` (one SELECT reading only the store's tables) and return its first
    ``limit`` rows: columns, rows (lists; vectors left out as "[n values]"), truncated (more
    rows were there), lonlat (the rows have lon and lat columns, so the page can map them).
    Interrupted after ``timeout_s`` seconds.

    Raises:
      QueryError: refused (not one SELECT, another table or a file, too long) or failed.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if not 1 <= limit <= MAX_ROWS:
        raise QueryError(f"limit must be 1 to {MAX_ROWS}, got {limit}")
    check_read_only(query, select_only=True)
    check_table_references(query, set(store.tables()))
    cursor = store.cursor(sealed=True)
    timer = threading.Timer(timeout_s, cursor.interrupt)
    timer.start()
    try:
        cursor.execute(query)
        reader = cursor.to_arrow_reader(min(limit + 1, 2048))
        batches, rows = [], 0
        while rows <= limit:  # stream: never more than a batch past the limit
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            batches.append(batch)
            rows += batch.num_rows
        table = pa.Table.from_batches(batches, schema=reader.schema)
    except Exception as exc:  # noqa: BLE001 - DuckDB's interrupt and runtime errors
        first = failure_line(exc, sealed=True)  # after a fatal error: a new database first
        if "interrupt" in first.lower():
            first = f"the query ran longer than {timeout_s:g} s and was stopped"
        raise QueryError(first) from None
    finally:
        timer.cancel()
        cursor.close()
    truncated = table.num_rows > limit
    table = table.slice(0, limit)
    rows = [[_cell(v) for v in row.values()] for row in table.to_pylist()]
    columns = table.column_names
    return {
        "columns": columns,
        "rows": rows,
        "truncated": truncated,
        "lonlat": "lon" in columns and "lat" in columns,
    }


def _cell(value):
    if isinstance(value, list) and len(value) > 8:
        return f"[{len(value)} values]"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, float) and value != value:
        return None
    return value
