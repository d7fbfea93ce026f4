"""Text for the places that take no bound parameters: Lance filters and DuckDB file paths.

Lance's ``where`` filters are SQL text; values are quoted here, in one place, and never
pasted in raw.
"""

from __future__ import annotations

from collections.abc import Iterable


def quote(text: object) -> str:
    """A SQL string literal: ``it's`` becomes ``'it''s'``."""
    return "'" + str(text).replace("'", "''") + "'"


def id_filter(ids: Iterable[str]) -> str:
    """A Lance filter selecting rows by id."""
    return f"id IN ({', '.join(quote(i) for i in ids)})"


def bbox_filter(west: float, south: float, east: float, north: float) -> str:
    """A Lance filter keeping rows whose lon/lat (decimal degrees) lie in the box."""
    w, s, e, n = (float(v) for v in (west, south, east, north))
    return f"lon >= {w!r} AND lon <= {e!r} AND lat >= {s!r} AND lat <= {n!r}"
