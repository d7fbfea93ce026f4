"""Web-map (XYZ, EPSG:3857) tiles rendered from a store's aerial map tiles, and images
warped into Web Mercator, for the explorer's base layer and overlays.

A map tile is a north-up square ``size_m`` metres on a side in the azimuthal equidistant
frame of its centre (as :mod:`geovec.geo.sampling` cuts them). A web tile is drawn the way
GDAL warps: for every map tile that may fall inside it, an 8 x 8 mesh of the web tile's
pixels is carried into the map tile's pixels exactly (Web Mercator → lon/lat →
geodesic azimuth and distance from the tile's centre, which is its aeqd frame), Pillow's
MESH transform resamples bilinearly inside each cell, and the pixels the square covers
are pasted. Squares that meet in metres meet on the web map: the layer is seamless.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Callable

import mercantile
import numpy as np
from PIL import Image

from geovec.geodesy import frame_offsets_m

TILE_PX = 256
"""Pixels per side of a web tile."""
MESH_CELLS = 8
"""Mesh cells per side of a web tile (as geo.sampling)."""
MIN_PIXELS_PER_TILE = 12
"""A map tile is drawn only where it spans at least this many web pixels (coarser zooms
are drawn by the browser from finer tiles); this bounds the work per web tile."""


@dataclasses.dataclass
class MapTiles:
    """Centres (decimal degrees), sides (metres) and image files of aerial tiles."""

    ids: list[str]
    lon: np.ndarray
    lat: np.ndarray
    size_m: np.ndarray
    paths: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """west, south, east, north of the centres (decimal degrees), or None if empty."""
        if not len(self):
            return None
        return (
            float(self.lon.min()),
            float(self.lat.min()),
            float(self.lon.max()),
            float(self.lat.max()),
        )

    def native_zoom(self) -> int:
        """The coarsest zoom at which a typical tile spans ``MIN_PIXELS_PER_TILE`` pixels."""
        if not len(self):
            return 0
        size = float(np.median(self.size_m))
        lat = float(np.median(self.lat))
        for z in range(0, 23):
            if size / metres_per_pixel(z, lat) >= MIN_PIXELS_PER_TILE:
                return z
        return 22


def metres_per_pixel(z: int, lat: float) -> float:
    """Ground metres per web-map pixel at zoom ``z`` and latitude ``lat`` (degrees)."""
    return 2 * np.pi * 6378137.0 * np.cos(np.radians(lat)) / (TILE_PX * 2**z)


def tile_pixel_lonlat(z: int, x: int, y: int, edges: np.ndarray):
    """lon/lat (decimal degrees) of pixel-edge positions ``edges`` (0 .. TILE_PX) of a web
    tile, as two (n, n) arrays, row 0 the northern edge."""
    b = mercantile.xy_bounds(x, y, z)
    mx = b.left + (b.right - b.left) * edges / TILE_PX
    my = b.top - (b.top - b.bottom) * edges / TILE_PX
    return _lonlat(*np.meshgrid(mx, my))


def _lonlat(mx: np.ndarray, my: np.ndarray):
    """lon/lat (decimal degrees) of Web Mercator metres (EPSG:3857), arrays."""
    return np.degrees(mx / 6378137.0), np.degrees(2 * np.arctan(np.exp(my / 6378137.0)) - np.pi / 2)


def _square_pixels(lon, lat, centre_lon, centre_lat, size_m, px):
    """Pixel-edge coordinates (col, row) in a north-up ``px`` square of ``size_m`` metres
    centred on (centre_lon, centre_lat), of points lon/lat (its aeqd frame)."""
    east, north = frame_offsets_m(centre_lon, centre_lat, lon, lat)
    return (east / size_m + 0.5) * px, (0.5 - north / size_m) * px


def _mesh(node_col, node_row, col_edges, row_edges) -> list:
    """Pillow MESH entries: each output cell's box and the source quad its corners (nodes
    at ``col_edges`` x ``row_edges``) come from."""
    mesh = []
    for r in range(len(row_edges) - 1):
        for c in range(len(col_edges) - 1):
            box = (
                int(col_edges[c]),
                int(row_edges[r]),
                int(col_edges[c + 1]),
                int(row_edges[r + 1]),
            )
            corners = [(r, c), (r + 1, c), (r + 1, c + 1), (r, c + 1)]
            quad = [v for i, j in corners for v in (node_col[i, j], node_row[i, j])]
            mesh.append((box, tuple(float(v) for v in quad)))
    return mesh


@functools.lru_cache(maxsize=512)
def _tile_image(path: str, px: int) -> Image.Image | None:
    """A map tile's image as RGBA, reduced to about ``px`` pixels; None if unreadable."""
    try:
        with Image.open(path) as img:
            rgba = img.convert("RGBA")
    except (OSError, ValueError):
        return None
    if px < rgba.width:
        rgba = rgba.resize((px, px), Image.Resampling.BOX)
    # one pixel of its own edge around it, so bilinear samples at the border stay opaque
    return Image.fromarray(np.pad(np.asarray(rgba), ((1, 1), (1, 1), (0, 0)), mode="edge"))


def render_web_tile(
    tiles: MapTiles, z: int, x: int, y: int, readable: Callable[[str], bool] = bool
) -> Image.Image | None:
    """The web tile z/x/y drawn from the map tiles it overlaps (RGBA, transparent where no
    tile covers it), or None when none does. ``readable(path)`` may refuse a tile's file."""
    edges = np.linspace(0, TILE_PX, MESH_CELLS + 1)
    lon, lat = tile_pixel_lonlat(z, x, y, edges)
    w, s, e, n = lon.min(), lat.min(), lon.max(), lat.max()
    half_deg = tiles.size_m * 0.75 / 111_000.0  # more than half a diagonal, in degrees
    near = (
        (tiles.lat + half_deg >= s)
        & (tiles.lat - half_deg <= n)
        & (tiles.lon + half_deg / np.cos(np.radians(tiles.lat)) >= w)
        & (tiles.lon - half_deg / np.cos(np.radians(tiles.lat)) <= e)
    )
    chosen = np.flatnonzero(near)
    if not len(chosen):
        return None
    out = Image.new("RGBA", (TILE_PX, TILE_PX), (0, 0, 0, 0))
    mpp = metres_per_pixel(z, float(lat.mean()))
    for i in chosen:
        path = tiles.paths[i]
        want = int(2 ** np.ceil(np.log2(max(tiles.size_m[i] / mpp, 1.0) * 2)))
        image = _tile_image(path, want) if path and readable(path) else None
        if image is None:
            continue
        px = image.width - 2
        col, row = _square_pixels(lon, lat, tiles.lon[i], tiles.lat[i], tiles.size_m[i], px)
        pixel_edges = edges.round().astype(int)
        mesh = _mesh(col + 1, row + 1, pixel_edges, pixel_edges)
        drawn = image.transform(
            (TILE_PX, TILE_PX), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR
        )
        inside = _inside_mask(col, row, px, edges)
        out.paste(drawn, (0, 0), Image.fromarray(inside))
    return out


def _inside_mask(col, row, px, edges) -> np.ndarray:
    """(TILE_PX, TILE_PX) uint8 mask of the web pixels whose centres fall inside the
    square: the mesh's node coordinates interpolated bilinearly to every pixel centre."""
    centres = np.arange(TILE_PX) + 0.5
    cell = np.interp(centres, edges, np.arange(len(edges)))
    i0 = np.minimum(cell.astype(int), len(edges) - 2)
    f = cell - i0

    def at(nodes):
        top = nodes[i0][:, i0] * (1 - f)[None, :] + nodes[i0][:, i0 + 1] * f[None, :]
        bottom = nodes[i0 + 1][:, i0] * (1 - f)[None, :] + nodes[i0 + 1][:, i0 + 1] * f[None, :]
        return top * (1 - f)[:, None] + bottom * f[:, None]

    c, r = at(col), at(row)
    return (((c >= 0) & (c < px) & (r >= 0) & (r < px)) * 255).astype(np.uint8)


def warp_to_web_mercator(
    image: np.ndarray,
    to_source: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    bounds: tuple[float, float, float, float],
    width: int,
) -> Image.Image:
    """An RGB(A) ``image`` warped onto a Web Mercator raster covering ``bounds`` (west,
    south, east, north; decimal degrees) ``width`` pixels wide, for an image overlay.
    ``to_source(lon, lat)`` gives the pixel-edge (col, row) of lon/lat in ``image``."""
    west, south, east, north = bounds
    x0, y0 = mercantile.xy(west, north)
    x1, y1 = mercantile.xy(east, south)
    height = max(1, round(width * (y0 - y1) / (x1 - x0)))
    cells = 16
    ex = np.linspace(0, width, cells + 1).round().astype(int)
    ey = np.linspace(0, height, cells + 1).round().astype(int)
    gx, gy = np.meshgrid(x0 + (x1 - x0) * ex / width, y0 - (y0 - y1) * ey / height)
    col, row = to_source(*_lonlat(gx, gy))
    mesh = _mesh(col, row, ex, ey)
    source = Image.fromarray(image)
    if source.mode != "RGBA":
        source = source.convert("RGBA")
    return source.transform((width, height), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR)


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()
