"""Where a store's data are (paper, Fig. 3), region by region: the map tiles' footprints and
the ground photos, in metres of the region's azimuthal equidistant frame, and the same as
a grid of counts for a raster.

A region's frame is centred below the mean of its tiles' Earth-centred positions (its
photos' when it has no tiles), which stays right across the antimeridian and near the
poles. A footprint is :func:`geovec.geodesy.footprint_rings` (each tile's own square of
``size_m`` metres) carried into that frame. Ground photos without a position (pair-only
datasets) are counted and left out. The figure is :func:`geovec.report.coverage.
coverage_figure`, the raster :func:`geovec.exports.coverage.coverage_cog`.

>>> result = coverage(demo_store)
>>> [r.region for r in result.regions], result.regions[0].tiles > 0
(['charleston', 'sanfrancisco'], True)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from pyproj import Transformer

from geovec.counts import count
from geovec.errors import GeovecError
from geovec.geo.grid import TILE_M, local_proj
from geovec.geodesy import ecef_m, footprint_rings, frame_offsets_m, in_footprint
from geovec.store import Store
from geovec.store.regions import NO_REGION as _NO_REGION
from geovec.store.regions import region_label

DEFAULT_PIXEL_M = 10.0
"""Pixel side of the coverage grid (the raster), metres."""
MAX_PIXELS = 400_000_000
NO_REGION = _NO_REGION
"""The name of the panel of photos and tiles that have no region (``region=""`` or
``"no region"`` asks for it)."""


@dataclasses.dataclass
class CoverageGrid:
    """Counts per pixel of a north-up grid in the region's frame: ``tiles`` (float32: map
    tile footprints holding the pixel's centre, exactly, NaN where none does) and
    ``photos`` (float32: located ground photos in the pixel), ``west``/``north`` the
    grid's outer corner and ``pixel_m`` its pixel side, metres."""

    tiles: np.ndarray
    photos: np.ndarray
    west: float
    north: float
    pixel_m: float
    crs: str  # PROJ string of the frame


@dataclasses.dataclass
class RegionCoverage:
    """One region's tiles and located photos, positions in metres of its frame."""

    region: str
    origin: tuple[float, float]  # lon, lat of the frame's centre (decimal degrees)
    crs: str  # the frame (PROJ string)
    tiles: int
    photos: dict[str, int]  # source -> located ground photos
    tile_lonlat: np.ndarray = dataclasses.field(repr=False)  # (N, 2) decimal degrees
    tile_size_m: np.ndarray = dataclasses.field(repr=False)  # (N,) metres
    footprints_m: np.ndarray = dataclasses.field(repr=False)  # (N, 5, 2) east, north
    photo_m: np.ndarray = dataclasses.field(repr=False)  # (M, 2) east, north
    photo_source: list[str] = dataclasses.field(default_factory=list, repr=False)

    def extent_m(self) -> tuple[float, float, float, float]:
        """west, east, south, north (metres) of the footprints and photos."""
        points = np.concatenate([self.footprints_m.reshape(-1, 2), self.photo_m])
        lo, hi = points.min(axis=0), points.max(axis=0)
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def grid(self, pixel_m: float = DEFAULT_PIXEL_M) -> CoverageGrid:
        """The tiles and photos counted per pixel of ``pixel_m`` metres (see
        :class:`CoverageGrid`), one pixel of margin around the extent."""
        if not 0 < pixel_m < float("inf"):  # NaN too
            raise GeovecError(f"pixel size must be positive metres, got {pixel_m}")
        west, east, south, north = self.extent_m()
        west = np.floor(west / pixel_m) * pixel_m - pixel_m
        north = np.ceil(north / pixel_m) * pixel_m + pixel_m
        width = int(np.ceil((east - west) / pixel_m)) + 1
        height = int(np.ceil((north - south) / pixel_m)) + 1
        if width * height > MAX_PIXELS:
            raise GeovecError(
                f"a {width} x {height} pixel raster is too large: choose a larger pixel size"
            )
        tiles = np.zeros((height, width), np.float32)
        to_lonlat = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        for ring, (lon, lat), size in zip(self.footprints_m, self.tile_lonlat, self.tile_size_m):
            # the pixels around the footprint's corners, each tested exactly
            c0 = max(int(np.floor((ring[:, 0].min() - west) / pixel_m)) - 1, 0)
            c1 = min(int(np.ceil((ring[:, 0].max() - west) / pixel_m)) + 1, width)
            r0 = max(int(np.floor((north - ring[:, 1].max()) / pixel_m)) - 1, 0)
            r1 = min(int(np.ceil((north - ring[:, 1].min()) / pixel_m)) + 1, height)
            cols, rows = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
            plon, plat = to_lonlat.transform(
                west + (cols + 0.5) * pixel_m, north - (rows + 0.5) * pixel_m
            )
            tiles[r0:r1, c0:c1] += in_footprint(lon, lat, size, plon, plat)
        tiles[tiles == 0] = np.nan
        photos = np.zeros((height, width), np.float32)
        if len(self.photo_m):
            col = np.floor((self.photo_m[:, 0] - west) / pixel_m).astype(np.int64)
            row = np.floor((north - self.photo_m[:, 1]) / pixel_m).astype(np.int64)
            np.add.at(photos, (row, col), 1)
        return CoverageGrid(tiles, photos, float(west), float(north), float(pixel_m), self.crs)


@dataclasses.dataclass
class Coverage:
    """Each region's coverage, and how many ground photos had no position."""

    regions: list[RegionCoverage]
    unlocated: int

    def lines(self) -> list[str]:
        out = []
        for r in self.regions:
            photos = ", ".join(f"{n} {s}" for s, n in sorted(r.photos.items())) or "no photos"
            out.append(f"{r.region}: {count(r.tiles, 'tile')}; photos: {photos}")
        if self.unlocated:
            out.append(f"left out {count(self.unlocated, 'ground photo')} without a position")
        return out

    def as_dict(self) -> dict:
        keep = ("region", "origin", "crs", "tiles", "photos")
        return {
            "regions": [{k: getattr(r, k) for k in keep} for r in self.regions],
            "unlocated": self.unlocated,
        }


def centre_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """lon, lat (decimal degrees) below the mean of the points' Earth-centred positions."""
    x, y, z = (float(np.mean(a)) for a in ecef_m(lon, lat))
    back = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    c_lon, c_lat, _ = back.transform(x, y, z)
    return float(c_lon), float(c_lat)


def _sizes(size_m: list) -> np.ndarray:
    sizes = np.array([np.nan if s is None else s for s in size_m], float)
    known = sizes[np.isfinite(sizes)]
    return np.where(np.isfinite(sizes), sizes, np.median(known) if len(known) else TILE_M)


def coverage(store: Store, *, region: str | None = None) -> Coverage:
    """The map tiles and located ground photos of each region (or of ``region``), in
    metres of the region's frame (see the module). Tiles without ``size_m`` take the
    median of the others (480 m when none has one)."""
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
        region = region_label(region)
        if region not in names:
            have = ", ".join(names) or "none"
            raise GeovecError(f"no region {region!r} in {store.path} (has: {have})")
        names = [region]
    if not names:
        raise GeovecError(
            f"{store.path} has no map tiles and no located ground photos: geovec ingest "
            f"{store.path} PHOTOS/ (EXIF GPS), and tiles from geovec grid + geovec aerial"
        )
    out = []
    for name in names:
        tiles = [m for m in maps if (m["region"] or NO_REGION) == name]
        photos = [g for g in located if (g["region"] or NO_REGION) == name]
        tile_lonlat = np.array([[m["lon"], m["lat"]] for m in tiles], float).reshape(-1, 2)
        photo_lonlat = np.array([[g["lon"], g["lat"]] for g in photos], float).reshape(-1, 2)
        centre = tile_lonlat if len(tiles) else photo_lonlat
        origin = centre_lonlat(centre[:, 0], centre[:, 1])
        sizes = _sizes([m["size_m"] for m in tiles])
        footprints = np.zeros((0, 5, 2))
        if len(tiles):
            rings = footprint_rings(tile_lonlat[:, 0], tile_lonlat[:, 1], sizes)
            footprints = np.stack(frame_offsets_m(*origin, rings[..., 0], rings[..., 1]), -1)
        photo_m = np.zeros((0, 2))
        if len(photos):
            photo_m = np.column_stack(
                frame_offsets_m(*origin, photo_lonlat[:, 0], photo_lonlat[:, 1])
            )
        sources = [g["source"] or "unknown" for g in photos]
        counts = {s: sources.count(s) for s in sorted(set(sources))}
        out.append(
            RegionCoverage(
                name,
                origin,
                local_proj(*origin),
                len(tiles),
                counts,
                tile_lonlat,
                sizes,
                footprints,
                photo_m,
                sources,
            )  # fmt: skip
        )
    return Coverage(out, len(ground) - len(located))
