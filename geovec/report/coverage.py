"""Where a store's data are (paper, Fig. 3): the map tiles' footprints with the ground
photos over them, coloured by source, one panel per region, axes in metres of the
region's azimuthal equidistant frame (centred on its tiles' mean lon/lat, the frame the
heatmaps and land-cover images are drawn in); or the same as a georeferenced raster.

A footprint is :func:`geovec.geodesy.footprint_rings` (each tile's own square of
``size_m`` metres), carried into the region's frame. The raster (``.tif``, a Cloud
Optimized GeoTIFF written with rasterio's COG driver, in the region's frame, its proj
string as CRS) has two bands: ``tiles``, how many footprints hold each pixel's centre
(:func:`geovec.geodesy.in_footprint`, exact), and ``photos``, how many ground photos lie
in each pixel. Photos without a position (pair-only datasets) are counted and left out.

Light to import: matplotlib and rasterio load when a file is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.errors import GeovecError
from geovec.geodesy import footprint_rings, frame_offsets_m, in_footprint
from geovec.report.paths import output_file

DEFAULT_PIXEL_M = 10.0
"""Pixel size of the coverage raster, metres."""
TILE_FACE = "#bcd4e6"
"""Fill of a tile footprint in the figure (the edge is darker)."""
TILE_EDGE = "#4f6d8a"
FIGURE_DPI = 110
NO_REGION = "(no region)"
RASTER_SUFFIXES = {".tif", ".tiff"}


@dataclasses.dataclass
class RegionCoverage:
    """One region's tiles and photos, and where its panel went in the PNG."""

    region: str
    tiles: int
    photos: dict[str, int]  # source -> located ground photos
    origin: tuple[float, float]  # lon, lat of the frame's centre (decimal degrees)
    xlim: tuple[float, float] | None = None  # the panel's metres east of the origin
    ylim: tuple[float, float] | None = None  # metres north
    pixel_box: tuple[float, float, float, float] | None = None
    """The panel's plotting area in the PNG: left, top, right, bottom pixels (from the
    image's top-left corner)."""


@dataclasses.dataclass
class Coverage:
    """What ``coverage`` drew or rasterised."""

    path: Path
    regions: list[RegionCoverage]
    unlocated: int  # ground photos without a position, left out
    crs: str | None = None  # the raster's CRS (proj string)
    pixel_m: float | None = None
    size: tuple[int, int] | None = None  # the raster's width, height (pixels)

    def lines(self) -> list[str]:
        out = [f"wrote {self.path}"]
        for r in self.regions:
            photos = ", ".join(f"{n} {s}" for s, n in sorted(r.photos.items())) or "no photos"
            out.append(f"  {r.region}: {r.tiles} tiles; {photos}")
        if self.size:
            out.append(
                f"  {self.size[0]} x {self.size[1]} pixels of {self.pixel_m:g} m, {self.crs}"
            )
        if self.unlocated:
            out.append(f"  left out {self.unlocated} ground photos without a position")
        return out

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Region:
    name: str
    origin: tuple[float, float]
    tiles: dict  # lon, lat, size_m arrays
    photos: dict  # lon, lat arrays, source list


def _tile_sizes(size_m: list) -> np.ndarray:
    from geovec.geo.grid import TILE_M

    sizes = np.array([np.nan if s is None else s for s in size_m], float)
    known = sizes[np.isfinite(sizes)]
    return np.where(np.isfinite(sizes), sizes, np.median(known) if len(known) else TILE_M)


def _regions(store, region: str | None) -> tuple[list[_Region], int]:
    maps = (
        store.read("map", ["region", "lon", "lat", "size_m"]).to_pylist()
        if store.has("map")
        else []
    )
    ground = (
        store.read("ground", ["region", "source", "lon", "lat"]).to_pylist()
        if store.has("ground")
        else []
    )
    located = [g for g in ground if g["lon"] is not None and g["lat"] is not None]
    names = sorted(
        {m["region"] or NO_REGION for m in maps} | {g["region"] or NO_REGION for g in located}
    )
    if region is not None:
        if region not in names:
            raise GeovecError(
                f"no region {region!r} in {store.path} (has: {', '.join(names) or 'none'})"
            )
        names = [region]
    if not names:
        raise GeovecError(f"{store.path} has no map tiles and no located ground photos to draw")
    out = []
    for name in names:
        tiles = [m for m in maps if (m["region"] or NO_REGION) == name]
        photos = [g for g in located if (g["region"] or NO_REGION) == name]
        centre = tiles or photos
        origin = (
            float(np.mean([c["lon"] for c in centre])),
            float(np.mean([c["lat"] for c in centre])),
        )
        out.append(
            _Region(
                name,
                origin,
                {
                    "lon": np.array([m["lon"] for m in tiles], float),
                    "lat": np.array([m["lat"] for m in tiles], float),
                    "size_m": _tile_sizes([m["size_m"] for m in tiles]),
                },
                {
                    "lon": np.array([g["lon"] for g in photos], float),
                    "lat": np.array([g["lat"] for g in photos], float),
                    "source": [g["source"] or "unknown" for g in photos],
                },
            )
        )
    return out, len(ground) - len(located)


def _footprints_m(r: _Region) -> np.ndarray:
    """(N, 5, 2) footprint rings in metres of the region's frame."""
    if not len(r.tiles["lon"]):
        return np.zeros((0, 5, 2))
    rings = footprint_rings(r.tiles["lon"], r.tiles["lat"], r.tiles["size_m"])
    east, north = frame_offsets_m(*r.origin, rings[..., 0], rings[..., 1])
    return np.stack([east, north], axis=-1)


def _photos_m(r: _Region) -> np.ndarray:
    if not len(r.photos["lon"]):
        return np.zeros((0, 2))
    return np.column_stack(frame_offsets_m(*r.origin, r.photos["lon"], r.photos["lat"]))


def _summary(r: _Region) -> RegionCoverage:
    counts: dict[str, int] = {}
    for s in r.photos["source"]:
        counts[s] = counts.get(s, 0) + 1
    return RegionCoverage(r.name, len(r.tiles["lon"]), counts, r.origin)


def coverage(
    store, out: str | Path, *, region: str | None = None, pixel_m: float = DEFAULT_PIXEL_M
) -> Coverage:
    """Fig. 3 of the store as ``out``: a PNG (one panel per region, or ``region``'s) or, for
    ``.tif``, a Cloud Optimized GeoTIFF of one region (see the module).

    Args:
      region: only this region; a raster needs one when the store has several.
      pixel_m: the raster's pixel size, metres.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    output_file(out, {".png", *RASTER_SUFFIXES}, make=False)
    regions, unlocated = _regions(store, region)
    if suffix in RASTER_SUFFIXES:
        if len(regions) > 1:
            names = ", ".join(r.name for r in regions)
            raise GeovecError(
                f"the store has several regions ({names}): say which with --region, or write a PNG"
            )
        if not pixel_m > 0:
            raise GeovecError(f"pixel size must be positive metres, got {pixel_m}")
        return _write_raster(regions[0], output_file(out), float(pixel_m), unlocated)
    return _write_figure(regions, output_file(out), unlocated)


def _write_figure(regions: list[_Region], path: Path, unlocated: int) -> Coverage:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    sources = sorted({s for r in regions for s in r.photos["source"]})
    palette = plt.get_cmap("tab10" if len(sources) <= 10 else "tab20")
    colour = {s: palette(i % palette.N) for i, s in enumerate(sources)}
    drawn = [(r, _footprints_m(r), _photos_m(r)) for r in regions]
    limits = []
    for _, rings, photos in drawn:
        points = np.concatenate([rings.reshape(-1, 2), photos])
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = max(float((hi - lo).max()) * 0.04, 50.0)
        limits.append((lo - pad, hi + pad))
    aspect = max(float((hi[1] - lo[1]) / (hi[0] - lo[0])) for lo, hi in limits)
    n = len(regions)
    fig, axes = plt.subplots(
        1,
        n,
        figsize=(5.2 * n, 1.6 + 5.2 * min(max(aspect, 0.4), 1.6)),
        squeeze=False,
        dpi=FIGURE_DPI,
        layout="constrained",
    )
    summaries = []
    for ax, (r, rings, photos), (lo, hi) in zip(axes[0], drawn, limits):
        if len(rings):
            ax.add_collection(
                PolyCollection(
                    rings, facecolors=TILE_FACE, edgecolors=TILE_EDGE, linewidths=0.5, zorder=1
                )
            )
        for s in sources:
            mine = np.array([p == s for p in r.photos["source"]], bool)
            if mine.any():
                ax.scatter(
                    photos[mine, 0], photos[mine, 1], s=6, color=colour[s], zorder=2, linewidths=0
                )
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal", adjustable="box")
        ax.set_facecolor("white")
        ax.set_xlabel("metres east of the region's centre")
        ax.set_ylabel("metres north")
        ax.set_title(
            f"{r.name}: {_count(len(rings), 'tile')}, {_count(len(photos), 'photo')}", fontsize=10
        )
        ax.ticklabel_format(style="plain")
        summaries.append(_summary(r))
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=TILE_FACE, edgecolor=TILE_EDGE, label="map tile footprint")]
    handles += [
        plt.Line2D([], [], marker="o", linestyle="none", color=colour[s], label=f"photo: {s}")
        for s in sources
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False
    )
    fig.canvas.draw()
    height = fig.bbox.height
    for ax, summary in zip(axes[0], summaries):
        box = ax.get_window_extent()
        summary.pixel_box = (
            float(box.x0),
            float(height - box.y1),
            float(box.x1),
            float(height - box.y0),
        )
        summary.xlim, summary.ylim = (
            tuple(map(float, ax.get_xlim())),
            tuple(map(float, ax.get_ylim())),
        )
    fig.savefig(path, dpi=FIGURE_DPI)
    plt.close(fig)
    return Coverage(path, summaries, unlocated)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _write_raster(r: _Region, path: Path, pixel_m: float, unlocated: int) -> Coverage:
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    from geovec.geo.grid import local_proj

    rings, photos = _footprints_m(r), _photos_m(r)
    points = np.concatenate([rings.reshape(-1, 2), photos]) if len(rings) else photos
    lo = np.floor(points.min(axis=0) / pixel_m) * pixel_m - pixel_m
    hi = np.ceil(points.max(axis=0) / pixel_m) * pixel_m + pixel_m
    width, height = (int(round(v)) for v in (hi - lo) / pixel_m)
    if width * height > 40_000**2:
        raise GeovecError(
            f"a {width} x {height} pixel raster is too large: choose a larger --pixel-m"
        )
    west, north = float(lo[0]), float(hi[1])
    tiles = np.zeros((height, width), np.uint16)
    proj = local_proj(*r.origin)
    to_lonlat = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    for ring, lon, lat, size in zip(rings, r.tiles["lon"], r.tiles["lat"], r.tiles["size_m"]):
        c0 = max(int(np.floor((ring[:, 0].min() - west) / pixel_m)) - 1, 0)
        c1 = min(int(np.ceil((ring[:, 0].max() - west) / pixel_m)) + 1, width)
        r0 = max(int(np.floor((north - ring[:, 1].max()) / pixel_m)) - 1, 0)
        r1 = min(int(np.ceil((north - ring[:, 1].min()) / pixel_m)) + 1, height)
        cols, rows = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
        x = west + (cols + 0.5) * pixel_m
        y = north - (rows + 0.5) * pixel_m
        plon, plat = to_lonlat.transform(x, y)
        tiles[r0:r1, c0:c1] += in_footprint(lon, lat, size, plon, plat).astype(np.uint16)
    density = np.zeros((height, width), np.uint16)
    if len(photos):
        col = np.floor((photos[:, 0] - west) / pixel_m).astype(np.int64)
        row = np.floor((north - photos[:, 1]) / pixel_m).astype(np.int64)
        np.add.at(density, (row, col), 1)
    profile = dict(
        driver="COG",
        width=width,
        height=height,
        count=2,
        dtype="uint16",
        crs=proj,
        transform=from_origin(west, north, pixel_m, pixel_m),
        compress="deflate",
        blocksize=256,  # overviews down to one block
        overview_resampling="nearest",
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack([tiles, density]))
        dst.set_band_description(1, "tiles: map tile footprints holding the pixel's centre")
        dst.set_band_description(2, "photos: located ground photos in the pixel")
        dst.update_tags(region=r.name, origin_lon=str(r.origin[0]), origin_lat=str(r.origin[1]))
    summary = _summary(r)
    return Coverage(path, [summary], unlocated, crs=proj, pixel_m=pixel_m, size=(width, height))
