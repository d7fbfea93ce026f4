"""The per-place breakdown of an evaluation (``evaluate --by``) as a terminal table."""

from __future__ import annotations


def breakdown_lines(result) -> list[str]:
    """A header naming the layer and its field, then one row per place: queries, top-1 %,
    each recall@N and the median error (metres) where the protocol measures it."""
    by = getattr(result, "by", None)
    if not by:
        return []
    layer = (getattr(result, "provenance", None) or {}).get("by") or {}
    ks = list(next(iter(by.values()))["recall"])
    header = ["place", "queries", "top-1%", *(f"R@{k}" for k in ks), "median error m"]
    rows = []
    for place, m in by.items():
        error = m.get("median_error_m")
        rows.append(
            [
                place,
                str(m["queries"]),
                f"{m['top_1_percent']:.3f}",
                *(f"{m['recall'][k]:.3f}" for k in ks),
                "-" if error is None else f"{error:.0f}",
            ]
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:]))])

    title = f"by {layer.get('field', 'place')}"
    if layer.get("path"):
        title += f" of {layer['path']}"
    if layer.get("field_rule") == "first text field":
        title += " (its first text field: it has no 'name')"
    return [title + ":", line(header), *(line(r) for r in rows)]
