"""The paper's dataset figures, the ones that let a user trust a store before any analysis:
Fig. 2 (a region's aerial mosaic beside its land-cover PCA image and, when known, its true
land cover), Fig. 3 (coverage: :mod:`geovec.report.coverage`) and Fig. 4 (example
panoramas with their two side cutouts, and example photos kept and dropped by the
indoor/outdoor filter).

Panorama cutouts are the ground rows whose id ends in ``_h<heading>`` (``geovec cutouts``
and the synthetic world name them so: ``<panorama>_h-090``, ``<panorama>_h+090``) and
that share their panorama with another row of the same ``source``; the panorama itself is
looked for beside them (``<panorama>.<ext>`` or ``<panorama>_pano.<ext>``). The photos
dropped by ``ingest --outdoor-only`` are the ``failures`` rows of stage ``indoor``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geovec.counts import count
from geovec.errors import GeovecError
from geovec.geo.grid import TILE_M
from geovec.ingestion.run import INDOOR_STAGE
from geovec.report.figures import MOSAIC_PX, _local_metres, _save, plt
from geovec.report.montage import montage
from geovec.store.regions import region_label

if TYPE_CHECKING:
    from geovec.analyses.landcover import LandcoverResult
    from geovec.store import Store

CUTOUT_ID = re.compile(r"^(?P<panorama>.+)_h(?P<heading>[+-]?\d+(?:\.\d+)?)$")
PANORAMA_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
EXAMPLE_PANORAMAS = 2
EXAMPLE_PHOTOS = 6


def region_overview(
    store: Store, region: str, path: Path, landcover: LandcoverResult | None = None
) -> Path:
    """Paper Fig. 2 for one region: its map tiles' images as a mosaic (each in its
    footprint, metres of the region's frame) beside the land-cover PCA image of
    ``landcover`` (same frame, same axes) and its true land cover when it has one."""
    from geovec.report.results import class_colours

    tiles = [
        m
        for m in store.read("map", ["region", "lon", "lat", "path", "size_m"]).to_pylist()
        if m["region"] == region
    ]
    if not tiles and landcover is None:
        raise GeovecError(f"region {region_label(region)!r} has no map tiles to draw")
    lonlat = np.array([[m["lon"], m["lat"]] for m in tiles], float).reshape(-1, 2)
    origin = (
        landcover.origin
        if landcover is not None and landcover.origin is not None
        else (float(lonlat[:, 0].mean()), float(lonlat[:, 1].mean()))
    )
    panels = ["mosaic"]
    if landcover is not None:
        panels.append("pca")
        if landcover.truth is not None:
            panels.append("truth")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 5.0), squeeze=False)
    axes = axes[0]
    xy = _local_metres(lonlat, origin) if len(tiles) else np.zeros((0, 2))
    sizes = np.array([TILE_M if m["size_m"] is None else m["size_m"] for m in tiles], float)
    if len(tiles):
        pad = sizes.max() / 2
        limits = (
            xy[:, 0].min() - pad,
            xy[:, 0].max() + pad,
            xy[:, 1].min() - pad,
            xy[:, 1].max() + pad,
        )
    else:
        limits = landcover.extent
    mosaic, drawn = _mosaic([m["path"] for m in tiles], xy, sizes, limits)
    ax = axes[0]
    ax.imshow(mosaic, extent=limits, interpolation="nearest")
    if landcover is not None and landcover.extent is not None:
        w, e, s, n = landcover.extent
        limits = (min(limits[0], w), max(limits[1], e), min(limits[2], s), max(limits[3], n))
    missing = len(tiles) - drawn
    ax.set_title(
        f"aerial mosaic ({count(len(tiles), 'tile')}"
        + (f", {missing} unreadable)" if missing else ")"),
        fontsize=10,
    )
    legend = None
    if landcover is not None:
        extent = landcover.extent
        axes[1].imshow(landcover.image, extent=extent, interpolation="nearest")
        share = sum(landcover.explained_variance)
        axes[1].set_title(f"{landcover.feature}: PCA (top 3: {share:.0%} of variance)", fontsize=10)
        if landcover.truth is not None:
            legend = class_colours(landcover.truth)
            rgb = np.array([legend[c] for c in landcover.truth.classes])[landcover.truth.grid]
            axes[2].imshow(rgb, extent=extent, interpolation="nearest")
            axes[2].set_title("true land cover", fontsize=10)
    for a in axes:
        a.set_xlim(limits[0], limits[1])
        a.set_ylim(limits[2], limits[3])
        a.set_aspect("equal")
        a.set_xlabel("metres east", fontsize=9)
        a.tick_params(labelsize=8)
    axes[0].set_ylabel("metres north", fontsize=9)
    fig.suptitle(region_label(region), fontsize=12)
    if legend:
        from matplotlib.patches import Patch

        handles = [Patch(color=c, label=label) for label, c in legend.items()]
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), frameon=False)
        fig.subplots_adjust(bottom=0.16)
    return _save(fig, path)


def _mosaic(paths, xy, sizes, limits) -> tuple[np.ndarray, int]:
    """The tiles' images pasted north up into one RGB array covering ``limits`` (west,
    east, south, north metres; white where no tile is), at :data:`MOSAIC_PX` pixels per
    smallest tile, and how many images could be read."""
    from PIL import Image

    west, east, south, north = limits
    step = float(sizes.min()) / MOSAIC_PX if len(sizes) else 10.0
    width = max(1, int(np.ceil((east - west) / step)))
    height = max(1, int(np.ceil((north - south) / step)))
    canvas = np.full((height, width, 3), 255, np.uint8)
    drawn = 0
    for path, (x, y), s in zip(paths, xy, sizes):
        c0, r0 = int(round((x - s / 2 - west) / step)), int(round((north - y - s / 2) / step))
        side = max(1, int(round(s / step)))
        c1, r1 = min(c0 + side, width), min(r0 + side, height)
        if not path or c1 <= max(c0, 0) or r1 <= max(r0, 0):
            continue
        try:
            with Image.open(path) as img:
                thumb = np.asarray(img.convert("RGB").resize((side, side), Image.BILINEAR))
        except (OSError, ValueError):
            continue
        canvas[max(r0, 0) : r1, max(c0, 0) : c1] = thumb[
            max(-r0, 0) : r1 - r0, max(-c0, 0) : c1 - c0
        ]
        drawn += 1
    return canvas, drawn


def panorama_groups(store: Store) -> list[tuple[str, str | None, list[dict]]]:
    """(panorama name, its image file if found beside the cutouts, the cutout rows in
    heading order) for each panorama with two or more cutouts stored, by source."""
    rows = store.read("ground", ["id", "source", "path"]).to_pylist()
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        match = CUTOUT_ID.match(str(r["id"]))
        if match:
            r = {**r, "heading": float(match["heading"])}
            groups.setdefault((r["source"], match["panorama"]), []).append(r)
    out = []
    for (_, name), cutouts in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        if len(cutouts) < 2:
            continue
        cutouts.sort(key=lambda r: r["heading"])
        out.append((name, _find_panorama(name, cutouts), cutouts))
    return out


def _find_panorama(name: str, cutouts: list[dict]) -> str | None:
    folders = {Path(c["path"]).parent for c in cutouts if c["path"]}
    for folder in sorted(folders):
        for stem in (name, f"{name}_pano"):
            for suffix in PANORAMA_SUFFIXES:
                candidate = folder / f"{stem}{suffix}"
                if candidate.is_file():
                    return str(candidate)
    return None


def _indoor_drops(store: Store, n: int) -> list[tuple[str, str]]:
    if not store.has("failures"):
        return []
    rows = store.read("failures", ["path", "view", "stage", "error"]).to_pylist()
    drops = [r for r in rows if r["stage"] == INDOOR_STAGE]
    out = []
    for r in drops[:n]:
        scene = re.search(r"scene (\S+) is indoor", r["error"] or "")
        out.append((r["path"], f"dropped: {scene[1] if scene else r['error']}"))
    return out


def examples_figure(
    store: Store, path: Path, panoramas: int = EXAMPLE_PANORAMAS, photos: int = EXAMPLE_PHOTOS
) -> Path:
    """Paper Fig. 4: a row per example panorama (the panorama, then its cutouts with their
    headings), then example photos the indoor/outdoor filter kept and, when ``ingest
    --outdoor-only`` dropped some, those it dropped with their scene."""
    rows = []
    groups = panorama_groups(store)
    for name, pano, cutouts in groups[:: max(1, len(groups) // max(panoramas, 1))][:panoramas]:
        items = [(pano or "", "panorama" if pano else "panorama: not found")]
        items += [(c["path"] or "", f"heading {c['heading']:+g} deg") for c in cutouts]
        rows.append((f"panorama {name}", items))
    in_groups = {c["id"] for _, _, cutouts in groups for c in cutouts}
    ground = [
        r
        for r in store.read("ground", ["id", "source", "path"]).to_pylist()
        if r["id"] not in in_groups and r["path"] and Path(r["path"]).is_file()
    ]
    by_source: dict[str, list[dict]] = {}
    for r in ground:
        by_source.setdefault(str(r["source"]), []).append(r)
    kept = []
    while len(kept) < photos and any(by_source.values()):  # one source after another
        for source in sorted(by_source):
            if by_source[source] and len(kept) < photos:
                kept.append(by_source[source].pop(0))
    drops = _indoor_drops(store, photos)
    label = "kept by the indoor filter" if drops else "photos (no indoor drops recorded)"
    rows.append((label, [(r["path"], f"{r['id']} ({r['source']})") for r in kept]))
    if drops:
        rows.append(("dropped as indoor", drops))
    return montage(rows, path, thumb=200)


def write_dataset_figures(
    store: Store, out: Path, landcovers: dict[str, LandcoverResult] | None = None
) -> dict[str, list[Path]]:
    """Fig. 2 for each region of ``landcovers`` (or of the map tiles) as
    ``overview_<region>.png``, Fig. 3 as ``coverage.png`` and Fig. 4 as ``examples.png``
    in ``out``."""
    from geovec.analyses.coverage import coverage
    from geovec.report.coverage import coverage_figure

    out = Path(out)
    landcovers = landcovers or {}
    regions = list(landcovers) or sorted(
        {str(r) for r in store.read("map", ["region"]).column("region").to_pylist()}
    )
    figures = {
        "overview": [
            region_overview(store, r, out / f"overview_{r}.png", landcovers.get(r)) for r in regions
        ],
        "coverage": [coverage_figure(coverage(store), out / "coverage.png").path],
        "examples": [examples_figure(store, out / "examples.png")],
    }
    return figures
