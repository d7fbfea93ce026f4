"""Render Arrow tables for the terminal: an aligned table, CSV or JSON rows."""

from __future__ import annotations

import io
import json
import math

import pyarrow as pa
import pyarrow.csv as pacsv

from geovec.errors import GeovecError

FORMATS = ("table", "csv", "json")


def _plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def format_table(table: pa.Table, fmt: str = "table", max_rows: int = 200) -> str:
    """``table`` as text in ``fmt`` (vectors become JSON arrays; WKB becomes hex)."""
    if fmt not in FORMATS:
        raise GeovecError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    rows = [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]
    if fmt == "json":
        return json.dumps(rows, default=str)
    if fmt == "csv":
        plain = (
            pa.Table.from_pylist(
                [
                    {k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()}
                    for r in rows
                ]
            )
            if rows
            else table
        )
        out = io.BytesIO()
        pacsv.write_csv(plain, out)
        return out.getvalue().decode().rstrip("\n")
    names = table.column_names
    cells = [[_cell(r[n]) for n in names] for r in rows[:max_rows]]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    more = len(rows) - max_rows
    lines.append(f"({len(rows)} rows{f', first {max_rows} shown' if more > 0 else ''})")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, list):
        head = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value[:3])
        return f"[{head}{', ...' if len(value) > 3 else ''}] ({len(value)})"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
