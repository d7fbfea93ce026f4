"""Figures: the localisation curve, tile-score heatmaps, land-cover images. matplotlib
with the Agg backend (no screen needed); PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geovec.counts import count  # noqa: E402
from geovec.errors import GeovecError  # noqa: E402
from geovec.report.paths import output_file  # noqa: E402


def _save(fig, path: Path) -> Path:
    try:
        path = output_file(path, {f".{s}" for s in fig.canvas.get_supported_filetypes()})
    except GeovecError:
        plt.close(fig)
        raise
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def localisation_curves(
    curves: dict[str, list[list[float]]],
    path: Path,
    title: str = "",
    errors: dict[str, np.ndarray] | None = None,
) -> Path:
    """Fraction of queries localised against percent of candidates retrieved, per feature;
    with ``errors`` (metres per query, NaN where unknown) a second panel beside it: the
    fraction of queries whose best candidate lies within d metres of their true position
    (of the queries with a known error), against d on a log scale."""
    errors = {k: v for k, v in (errors or {}).items() if np.isfinite(np.asarray(v, float)).any()}
    panels = int(bool(curves)) + int(bool(errors))
    fig, axes = plt.subplots(1, max(panels, 1), figsize=(5 * max(panels, 1), 4), squeeze=False)
    axes = list(axes[0])
    if curves or not errors:
        ax = axes.pop(0)
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
    if errors:
        error_panel(axes.pop(0), errors)
    return _save(fig, path)


def error_panel(ax, errors: dict[str, np.ndarray]) -> None:
    """Accuracy against distance on ``ax``: per label, the fraction of queries (with a
    known error) whose error is at most d metres, d on a log axis."""
    known = {
        k: np.sort(np.asarray(v, float)[np.isfinite(np.asarray(v, float))])
        for k, v in errors.items()
    }
    low = max(min(float(v[v > 0].min()) if (v > 0).any() else 1.0 for v in known.values()), 1e-3)
    high = max(float(v.max()) for v in known.values())
    grid = np.geomspace(low / 2, max(high * 2, low), 200)
    for label, values in known.items():
        share = np.searchsorted(values, grid, side="right") / len(values)
        ax.plot(grid, share, label=f"{label} (n={len(values)})", linewidth=2)
    ax.set_xscale("log")
    ax.set_xlabel("distance d, metres (geodesic)")
    ax.set_ylabel("fraction of queries with error <= d")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    ax.set_title("accuracy within a distance")


MOSAIC_PX = 64
"""Pixels per tile of the aerial mosaic under a heatmap."""
BEST_MARKED = 5


def _local_metres(lonlat: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """(N, 2) lon/lat → x/y metres in the azimuthal equidistant frame centred on
    ``origin``: the frame in which geovec draws tile footprints as squares."""
    from pyproj import Transformer

    from geovec.geo.grid import local_crs

    forward = Transformer.from_crs("EPSG:4326", local_crs(*origin), always_xy=True)
    return np.column_stack(forward.transform(lonlat[:, 0], lonlat[:, 1]))


def _tile_thumbnail(path) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB").resize((MOSAIC_PX, MOSAIC_PX)))
    except (OSError, ValueError, TypeError):
        return None


HEATMAP_CMAP = "inferno"
"""Colour map of a heatmap's scores, brightest for the most similar tile."""
HEATMAP_ALPHA = 0.6
"""Opacity of the score field over the aerial imagery."""


def heatmap_colours(scores: np.ndarray) -> list[str]:
    """ "#rrggbb" of each tile's score (distance: lower is better) as the heatmap figure
    colours it, for drawing the same field elsewhere (the explorer)."""
    from matplotlib.colors import Normalize, to_hex

    similarity = -np.asarray(scores, float)
    colours = plt.get_cmap(HEATMAP_CMAP)(Normalize()(similarity))
    return [to_hex(c) for c in colours]


def tile_heatmap(
    lonlat: np.ndarray,
    scores: np.ndarray,
    path: Path,
    true_lonlat=None,
    best: int | None = None,
    title: str = "",
    tile_paths: list | None = None,
    tile_size_m: np.ndarray | None = None,
) -> Path:
    """Paper Figure 10: each tile's score (distance: lower is better) filling its footprint,
    semi-transparent over the region's aerial mosaic (the tiles' own images, where they
    can be read), the best tiles outlined and the true location starred; the colour bar
    and the legend sit below the map, covering nothing. Axes in metres from the region's
    centre."""
    lonlat = np.asarray(lonlat, float)
    origin = (float(lonlat[:, 0].mean()), float(lonlat[:, 1].mean()))
    xy = _local_metres(lonlat, origin)
    if tile_size_m is not None and np.isfinite(tile_size_m).any():
        sizes = np.where(np.isfinite(tile_size_m), tile_size_m, np.nanmedian(tile_size_m))
    else:  # no footprint recorded: the spacing of the tile centres
        from scipy.spatial import cKDTree

        gap = cKDTree(xy).query(xy, k=2)[0][:, 1] if len(xy) > 1 else np.array([100.0])
        sizes = np.full(len(xy), float(np.median(gap)))
    fig, ax = plt.subplots(figsize=(6.2, 7.0))
    for i, p in enumerate(tile_paths or []):
        thumb = _tile_thumbnail(p) if p else None
        if thumb is not None:
            x, y, h = xy[i, 0], xy[i, 1], sizes[i] / 2
            ax.imshow(thumb, extent=(x - h, x + h, y - h, y + h), zorder=1)
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    squares = [Rectangle((x - s / 2, y - s / 2), s, s) for (x, y), s in zip(xy, sizes)]
    field = PatchCollection(squares, cmap=HEATMAP_CMAP, alpha=HEATMAP_ALPHA, zorder=2, linewidths=0)
    field.set_array(-np.asarray(scores, float))
    ax.add_collection(field)
    handles = []
    if best is not None:
        top = np.argsort(scores)[:BEST_MARKED]
        for rank, i in enumerate(top):
            s = sizes[i]
            ax.add_patch(
                Rectangle(
                    (xy[i, 0] - s / 2, xy[i, 1] - s / 2),
                    s,
                    s,
                    fill=False,
                    zorder=3,
                    edgecolor="cyan",
                    linewidth=2.5 if rank == 0 else 1.2,
                )
            )
        handles.append(
            Patch(facecolor="none", edgecolor="cyan", label=f"best {count(len(top), 'tile')}")
        )
    if true_lonlat is not None:
        t = _local_metres(np.asarray([true_lonlat], float), origin)[0]
        ax.scatter(*t, marker="*", s=260, color="lime", edgecolors="black", zorder=4)
        handles.append(
            plt.Line2D(
                [],
                [],
                marker="*",
                color="lime",
                markeredgecolor="black",
                linestyle="none",
                markersize=14,
                label="true location",
            )
        )
    pad = sizes.max() / 2
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("metres east of the region's centre")
    ax.set_ylabel("metres north")
    fig.colorbar(
        field,
        ax=ax,
        orientation="horizontal",
        pad=0.1,
        fraction=0.05,
        label="similarity to the photo (negative distance; brighter is better)",
    )
    if handles:
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=len(handles),
            frameon=False,
            bbox_to_anchor=(0.5, -0.02),
        )
    ax.set_title(title)
    return _save(fig, path)


def image_pair(
    left: np.ndarray,
    right: np.ndarray | None,
    path: Path,
    titles=("", ""),
    legend: dict[str, tuple[float, float, float]] | None = None,
    suptitle: str = "",
    extent: tuple[float, float, float, float] | None = None,
    origin: tuple[float, float] | None = None,
) -> Path:
    """One or two RGB images side by side, each with a short title, a figure title above
    both, and ``legend`` (label: RGB in [0, 1]) naming the colours of the right one,
    outside the images (below them), so that it covers nothing. With ``extent`` (west,
    east, south, north, metres in the azimuthal equidistant frame centred on ``origin``,
    lon, lat) the images have axes in metres east and north of ``origin``, as the
    heatmaps do; without, no axes."""
    panels = [left] if right is None else [left, right]
    aspect = left.shape[0] / max(left.shape[1], 1)
    if extent is not None:
        aspect = (extent[3] - extent[2]) / max(extent[1] - extent[0], 1e-9)
    tall = 3.6 * min(max(aspect, 0.3), 2.5) + 0.9 + (0.6 if extent else 0) + (0.4 if legend else 0)
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(4.5 * len(panels), tall),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    axes = axes[0]
    for i, (ax, img, title) in enumerate(zip(axes, panels, titles)):
        ax.imshow(img, interpolation="nearest", extent=extent)
        ax.set_title(title, fontsize=11)
        if extent is None:
            ax.axis("off")
            continue
        where = f"{origin[0]:.4f}, {origin[1]:.4f}" if origin is not None else "the centre"
        ax.set_xlabel(f"metres east of {where} (lon, lat)", fontsize=9)
        if i == 0:
            ax.set_ylabel("metres north", fontsize=9)
        ax.tick_params(labelsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=12)
    if legend and right is not None:
        handles = [Patch(color=colour, label=label) for label, colour in legend.items()]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=min(len(handles), 6),
            fontsize=9,
            frameon=False,
        )
    return _save(fig, path)
