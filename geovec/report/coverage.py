"""The coverage figure (paper, Fig. 3) of a :class:`~geovec.analyses.coverage.Coverage`:
one panel per region, the map tiles' footprints filled, the ground photos over them
coloured by source, axes in metres of the region's azimuthal equidistant frame.

The figure is saved as laid out (no cropping), so each panel's place in the PNG is known:
:class:`Panel` gives its plotting area in pixels and its limits in metres, from which any
point of the frame can be found in the image."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geovec.report.figures import plt
from geovec.report.paths import output_file

if TYPE_CHECKING:
    from geovec.analyses.coverage import Coverage

TILE_FACE = "#bcd4e6"
"""Fill of a tile footprint (the edge is darker)."""
TILE_EDGE = "#4f6d8a"
FIGURE_DPI = 110


@dataclasses.dataclass
class Panel:
    """Where one region's panel went in the PNG."""

    region: str
    xlim: tuple[float, float]  # metres east of the frame's centre, left and right edges
    ylim: tuple[float, float]  # metres north, bottom and top edges
    pixel_box: tuple[float, float, float, float]
    """The plotting area: left, top, right, bottom pixels from the image's top-left."""


@dataclasses.dataclass
class CoverageFigure:
    path: Path
    panels: list[Panel]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def coverage_figure(result: Coverage, path: str | Path) -> CoverageFigure:
    """Draw Fig. 3 of ``result`` as the PNG ``path`` (see the module)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    path = output_file(path, {".png"})
    regions = result.regions
    sources = sorted({s for r in regions for s in r.photo_source})
    palette = plt.get_cmap("tab10" if len(sources) <= 10 else "tab20")
    colour = {s: palette(i % palette.N) for i, s in enumerate(sources)}
    limits = []
    for r in regions:
        west, east, south, north = r.extent_m()
        pad = max(max(east - west, north - south) * 0.04, 50.0)
        limits.append((west - pad, east + pad, south - pad, north + pad))
    aspect = max((n - s) / (e - w) for w, e, s, n in limits)
    fig, axes = plt.subplots(
        1,
        len(regions),
        figsize=(5.2 * len(regions), 1.6 + 5.2 * min(max(aspect, 0.4), 1.6)),
        squeeze=False,
        dpi=FIGURE_DPI,
        layout="constrained",
    )
    for ax, r, (w, e, s, n) in zip(axes[0], regions, limits):
        if r.tiles:
            faces = PolyCollection(
                r.footprints_m, facecolors=TILE_FACE, edgecolors=TILE_EDGE, linewidths=0.5
            )
            ax.add_collection(faces)
        source = np.array(r.photo_source, dtype=object)
        for name in sources:
            mine = source == name
            if mine.any():
                xy = r.photo_m[mine]
                ax.scatter(xy[:, 0], xy[:, 1], s=6, color=colour[name], zorder=2, linewidths=0)
        ax.set_xlim(w, e)
        ax.set_ylim(s, n)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("metres east of the region's centre")
        ax.set_ylabel("metres north")
        photos = sum(r.photos.values())
        ax.set_title(
            f"{r.region}: {_count(r.tiles, 'tile')}, {_count(photos, 'photo')}", fontsize=10
        )
        ax.ticklabel_format(style="plain")
    handles = [Patch(facecolor=TILE_FACE, edgecolor=TILE_EDGE, label="map tile footprint")]
    handles += [
        plt.Line2D([], [], marker="o", linestyle="none", color=colour[s], label=f"photo: {s}")
        for s in sources
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False
    )
    fig.canvas.draw()  # lay out now: the panels' places are final
    height = fig.bbox.height
    panels = []
    for ax, r in zip(axes[0], regions):
        box = ax.get_window_extent()
        panels.append(
            Panel(
                r.region,
                tuple(float(v) for v in ax.get_xlim()),
                tuple(float(v) for v in ax.get_ylim()),
                (float(box.x0), float(height - box.y1), float(box.x1), float(height - box.y0)),
            )
        )
    fig.savefig(path, dpi=FIGURE_DPI)
    plt.close(fig)
    return CoverageFigure(path, panels)
