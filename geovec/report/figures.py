"""Figures: the localisation curve, tile-score heatmaps, land-cover images. matplotlib
with the Agg backend (no screen needed); PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def localisation_curves(curves: dict[str, list[list[float]]], path: Path, title: str = "") -> Path:
    """Fraction of queries localised against percent of candidates retrieved, per feature."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for label, curve in curves.items():
        xy = np.asarray(curve)
        ax.plot(xy[:, 0], xy[:, 1], label=label, linewidth=2)
    ax.plot([0, 100], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlabel("percent of candidates retrieved")
    ax.set_ylabel("fraction of queries localised")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title or "cross-view localisation")
    return _save(fig, path)


def tile_heatmap(
    lonlat: np.ndarray,
    scores: np.ndarray,
    path: Path,
    true_lonlat=None,
    best: int | None = None,
    title: str = "",
) -> Path:
    """Every tile's score (distance: lower is better) at its centre; true location marked."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    order = np.argsort(-scores)
    sc = ax.scatter(
        lonlat[order, 0], lonlat[order, 1], c=-scores[order], cmap="inferno", s=30, marker="s"
    )
    fig.colorbar(sc, ax=ax, label="similarity (negative distance)")
    if best is not None:
        ax.scatter(
            *lonlat[best],
            s=160,
            facecolors="none",
            edgecolors="cyan",
            linewidths=2,
            label="best tile",
        )
    if true_lonlat is not None:
        ax.scatter(
            *true_lonlat, marker="*", s=220, color="lime", edgecolors="black", label="true location"
        )
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    ax.set_aspect(1 / np.cos(np.radians(np.mean(lonlat[:, 1]))))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def image_pair(
    left: np.ndarray,
    right: np.ndarray | None,
    path: Path,
    titles=("", ""),
    legend: dict[str, tuple[float, float, float]] | None = None,
    suptitle: str = "",
) -> Path:
    """One or two RGB images side by side, each with a short title, a figure title above
    both, and ``legend`` (label: RGB in [0, 1]) naming the colours of the right one,
    outside the images (below them), so that it covers nothing."""
    panels = [left] if right is None else [left, right]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 5.2), squeeze=False)
    axes = axes[0]
    for ax, img, title in zip(axes, panels, titles):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=11)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=12)
    if legend and right is not None:
        handles = [Patch(color=colour, label=label) for label, colour in legend.items()]
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=min(len(handles), 6),
            fontsize=9,
            frameon=False,
        )
        fig.subplots_adjust(bottom=0.12)
    return _save(fig, path)
