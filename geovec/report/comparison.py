"""Side by side, as files: compare.json (everything), compare.csv (one row per feature and
one for chance) and compare.png (grouped bars: one group per metric, one bar per feature,
chance marked) from a :class:`~geovec.analyses.compare.Comparison`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geovec.counts import count
from geovec.report.figures import _save, plt
from geovec.report.paths import output_file, output_folder
from geovec.report.results import write_json

if TYPE_CHECKING:
    from geovec.analyses.compare import Comparison

LABELS = {
    "classify_accuracy": "region\naccuracy",
    "top_1_percent": "cross-view\ntop-1 %",
    "area_under_curve": "cross-view\nAUC",
    "recall_1": "R@1",
    "recall_5": "R@5",
    "recall_10": "R@10",
    "landcover_pca3": "land cover\nPCA-3 variance",
}


def comparison_figure(result: Comparison, path: Path) -> Path:
    """Grouped bars: for each metric that some feature has, one bar per feature (its value,
    a fraction), chance as a black dash over the group where there is one."""
    rows, chance = result.rows(), result.chance()
    metrics = [m for m in LABELS if any(r[m] is not None for r in rows)]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(metrics) * max(1, len(rows)) ** 0.5), 4))
    width = 0.8 / max(1, len(rows))
    x = np.arange(len(metrics))
    for i, row in enumerate(rows):
        values = [np.nan if row[m] is None else row[m] for m in metrics]
        ax.bar(x - 0.4 + width * (i + 0.5), values, width, label=row["feature"])
    for j, m in enumerate(metrics):
        if chance.get(m) is not None:
            ax.hlines(chance[m], j - 0.42, j + 0.42, colors="black", linewidth=1.5)
    if any(chance.get(m) is not None for m in metrics):
        ax.plot([], [], color="black", linewidth=1.5, label="chance")
    ax.set_xticks(x, [LABELS[m] for m in metrics], fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("fraction (higher is better)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    title = "side by side at the same places"
    if result.crossview:
        title += (
            f" ({result.crossview['protocol']} protocol, "
            f"{count(result.crossview['queries'], 'query')})"
        )
    ax.set_title(title, fontsize=10)
    if not metrics:
        ax.text(0.5, 0.5, "no analysis ran", ha="center", va="center", transform=ax.transAxes)
    return _save(fig, path)


def write_comparison_csv(result: Comparison, path: Path) -> Path:
    """One row per feature (feature, dim, the metrics; empty where not computed), then one
    named "(chance)"."""
    path = output_file(path, {".csv"})
    rows = result.rows()
    names = list(rows[0]) if rows else ["feature", "dim"]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, names)
        writer.writeheader()
        for row in [*rows, {"feature": "(chance)", "dim": None, **result.chance()}]:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path


def write_comparison(result: Comparison, out: Path) -> list[Path]:
    """DIR/compare.json, DIR/compare.csv and DIR/compare.png."""
    out = output_folder(out)
    return [
        write_json(result.as_dict(), out / "compare.json"),
        write_comparison_csv(result, out / "compare.csv"),
        comparison_figure(result, out / "compare.png"),
    ]
