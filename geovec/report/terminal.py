"""Text for the terminal: Arrow tables as an aligned table, CSV or JSON rows, and the
lines the command line prints for each analysis's result."""

from __future__ import annotations

import io
import json
import math
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from geovec.analyses.dead_ends import all_isolated
from geovec.counts import count
from geovec.errors import GeovecError
from geovec.store.regions import region_label

if TYPE_CHECKING:
    from geovec.analyses.isolation import IsolationResult
    from geovec.analyses.landcover import LandcoverResult
    from geovec.analyses.localize import Localization
    from geovec.analyses.search import SearchHit

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
    lines.append(f"({count(len(rows), 'row')}{f', first {max_rows} shown' if more > 0 else ''})")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, list):
        head = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value[:3])
        return f"[{head}{', ...' if len(value) > 3 else ''}] ({len(value)})"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def isolation_lines(result: IsolationResult) -> list[str]:
    """How many ground images are isolated, in all and per region."""
    lines = [
        f"isolated {result.isolated} of {result.total} ground images (radius {result.radius_m:g} m)"
    ]
    lines += [f"  {r}: {c['isolated']} of {c['total']}" for r, c in result.regions.items()]
    if result.unlocated:
        lines.append(f"  left out {result.unlocated} ground images without a position")
    if not result.split_written:
        lines.append("  split: kept the dataset's own (isolated images are marked isolated)")
    if warning := all_isolated(result.total, result.isolated, result.radius_m):
        lines.append(f"warning: {warning}")
    return lines


def localization_lines(result: Localization, top: int = 5) -> list[str]:
    """The best tiles with their positions, and the true tile's rank when known."""
    lines = [
        f"{i}. {t['id']}  lon {t['lon']:.5f}  lat {t['lat']:.5f}  distance {t['distance']:.4f}"
        for i, t in enumerate(result.best.slice(0, top).to_pylist(), 1)
    ]
    if result.best_id is not None:
        lines.append(result.guess())
    lines.append(result.rank_line())
    if result.prior_note():
        lines.append(result.prior_note())
    if result.note():
        lines.append(result.note())
    return lines


def search_lines(hits: list[SearchHit]) -> list[str]:
    """One line per hit: id, distance, position and the paired ground photo."""
    return [
        f"{h.id}  distance {h.distance:.4f}  lon {h.lon:.5f}  lat {h.lat:.5f}  "
        f"ground {h.ground_path}"
        for h in hits
    ]


def landcover_line(result: LandcoverResult) -> str:
    """Tiles, variance explained, and class accuracy against chance when known."""
    explained = sum(result.explained_variance)
    region = region_label(result.region)
    line = f"{region}: {count(result.tiles, 'tile')}, variance explained {explained:.2f}"
    if result.class_accuracy is not None:
        line += f", class accuracy {result.class_accuracy:.2f} (chance {result.chance:.2f})"
    return line
