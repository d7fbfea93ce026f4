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

from geovec.geodesy import footprint_rings, frame_offsets_m

TILE_PX = 256
"""Pixels per side of a web tile."""
MESH_CELLS = 8
"""Mesh cells per side of a web tile (as geo.sampling)."""
MIN_PIXELS_PER_TILE = 12
"""A map tile is drawn only where it spans at least this many web pixels: a web tile at a
zoom coarser than :meth:`MapTiles.native_zoom` is never drawn from the map tiles (each
would be a few pixels, and the tile would draw thousands of them), but downsampled from
its four children (:mod:`geovec.geo.pyramid`); this bounds the work per web tile."""


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

    def mercator_boxes(self) -> np.ndarray:
        """(N, 4) Web Mercator boxes (left, bottom, right, top; EPSG:3857 metres) holding
        each tile's footprint: its corners' box with a margin of 1 % of its side (the
        edges of an aeqd square bow a little on the web map). Computed once."""
        boxes = self.__dict__.get("_mercator_boxes")
        if boxes is None:
            if not len(self):
                boxes = np.zeros((0, 4))
            else:
                ring = footprint_rings(self.lon, self.lat, self.size_m)[:, :4]
                mx, my = _mercator(ring[..., 0], ring[..., 1])
                margin = 0.01 * (mx.max(axis=1) - mx.min(axis=1))
                boxes = np.column_stack(
                    [
                        mx.min(axis=1) - margin,
                        my.min(axis=1) - margin,
                        mx.max(axis=1) + margin,
                        my.max(axis=1) + margin,
                    ]
                )
            self.__dict__["_mercator_boxes"] = boxes
        return boxes


def _mercator(lon: np.ndarray, lat: np.ndarray):
    """Web Mercator metres (EPSG:3857) of lon/lat (decimal degrees), arrays."""
    lat = np.clip(lat, -85.05112878, 85.05112878)
    return (
        6378137.0 * np.radians(lon),
        6378137.0 * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)),
    )


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


def reduced_image(path: str, px: int) -> Image.Image | None:
    """A map tile's image as RGBA, reduced (box filter) to ``px`` pixels a side when it is
    larger; None if it cannot be read."""
    try:
        with Image.open(path) as img:
            rgba = img.convert("RGBA")
    except (OSError, ValueError):
        return None
    if px < rgba.width or px < rgba.height:
        rgba = rgba.resize((px, px), Image.Resampling.BOX)
    return rgba


def padded(image: Image.Image) -> Image.Image:
    """``image`` with one pixel of its own edge around it, so that bilinear samples at the
    border stay opaque (what :func:`render_web_tile` draws from)."""
    return Image.fromarray(np.pad(np.asarray(image), ((1, 1), (1, 1), (0, 0)), mode="edge"))


@functools.lru_cache(maxsize=256)
def _tile_image(path: str, px: int) -> Image.Image | None:
    image = reduced_image(path, px)
    return padded(image) if image is not None else None


def wanted_px(size_m: float, z: int, lat: float) -> int:
    """The image side (pixels, a power of two) a map tile of ``size_m`` metres is drawn from
    at zoom ``z``: at least twice the web pixels it spans there."""
    return int(2 ** np.ceil(np.log2(max(size_m / metres_per_pixel(z, lat), 1.0) * 2)))


ImageSource = Callable[[int, int], "Image.Image | None"]
"""``images(i, px)``: map tile ``i``'s image reduced to about ``px`` pixels, padded by one
edge pixel (:func:`padded`), or None to leave it out."""


def render_web_tile(
    tiles: MapTiles,
    z: int,
    x: int,
    y: int,
    readable: Callable[[str], bool] = bool,
    images: ImageSource | None = None,
) -> Image.Image | None:
    """The web tile z/x/y drawn from the map tiles it overlaps (RGBA, transparent where no
    tile covers it), or None when none does. ``readable(path)`` may refuse a tile's file;
    ``images`` gives the (reduced) images to draw from (default: each file read and
    reduced here, a few hundred kept in memory).

    Each map tile is carried through the mesh cells its footprint overlaps only (at the
    native zoom a tile spans a cell or two of the 8 x 8), so the cost is about the pixels
    drawn, not 256 x 256 per tile.

    Raises:
      ValueError: ``z`` is coarser than the tiles' native zoom (see MIN_PIXELS_PER_TILE).
    """
    native = tiles.native_zoom()
    if len(tiles) and z < native:
        raise ValueError(
            f"web zoom {z} is coarser than the map tiles' native zoom {native} (where a tile "
            f"spans {MIN_PIXELS_PER_TILE} pixels): draw it from its children"
        )
    if images is None:

        def images(i: int, px: int):
            path = tiles.paths[i]
            return _tile_image(path, px) if path and readable(path) else None

    edges = np.linspace(0, TILE_PX, MESH_CELLS + 1)
    pixel_edges = edges.round().astype(int)
    lon, lat = tile_pixel_lonlat(z, x, y, edges)
    chosen, cells = _overlapping(tiles, z, x, y)
    if not len(chosen):
        return None
    out = Image.new("RGBA", (TILE_PX, TILE_PX), (0, 0, 0, 0))
    mpp_lat = float(lat.mean())
    east, north = frame_offsets_m(
        tiles.lon[chosen, None, None], tiles.lat[chosen, None, None], lon[None], lat[None]
    )
    for k, i in enumerate(chosen):
        c0, c1, r0, r1 = cells[k]
        image = images(int(i), wanted_px(tiles.size_m[i], z, mpp_lat))
        if image is None:
            continue
        px = image.width - 2
        size = tiles.size_m[i]
        col = (east[k, r0 : r1 + 1, c0 : c1 + 1] / size + 0.5) * px
        row = (0.5 - north[k, r0 : r1 + 1, c0 : c1 + 1] / size) * px
        left, top = pixel_edges[c0], pixel_edges[r0]
        col_edges = pixel_edges[c0 : c1 + 1] - left
        row_edges = pixel_edges[r0 : r1 + 1] - top
        width, height = int(col_edges[-1]), int(row_edges[-1])
        mesh = _mesh(col + 1, row + 1, col_edges, row_edges)
        drawn = image.transform(
            (width, height), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR
        )
        inside = _inside_mask(col, row, px, col_edges, row_edges)
        out.paste(drawn, (int(left), int(top)), Image.fromarray(inside))
    return out


def _overlapping(tiles: MapTiles, z: int, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the map tiles whose footprint meets web tile z/x/y, and for each the mesh
    cells it meets (first column, last column + 1, first row, last row + 1)."""
    b = mercantile.xy_bounds(x, y, z)
    left, top, bottom, right = b.left, b.top, b.bottom, b.right
    boxes = tiles.mercator_boxes()
    near = np.flatnonzero(
        (boxes[:, 0] < right) & (boxes[:, 2] > left) & (boxes[:, 1] < top) & (boxes[:, 3] > bottom)
    )
    if not len(near):
        return near, np.zeros((0, 4), int)
    per_pixel = (right - left) / TILE_PX
    cell_px = TILE_PX / MESH_CELLS
    # the footprint in this tile's pixels, a pixel of margin each side, in whole cells
    c0 = np.floor(((boxes[near, 0] - left) / per_pixel - 1) / cell_px)
    c1 = np.ceil(((boxes[near, 2] - left) / per_pixel + 1) / cell_px)
    r0 = np.floor(((top - boxes[near, 3]) / per_pixel - 1) / cell_px)
    r1 = np.ceil(((top - boxes[near, 1]) / per_pixel + 1) / cell_px)
    cells = np.clip(np.column_stack([c0, c1, r0, r1]), 0, MESH_CELLS).astype(int)
    return near, cells


def _inside_mask(col, row, px, col_edges, row_edges) -> np.ndarray:
    """uint8 mask (height, width of the edges' span) of the web pixels whose centres fall
    inside the square: the mesh's node coordinates (``col``, ``row``: the square's pixels
    at the nodes ``row_edges`` x ``col_edges``) interpolated bilinearly to every pixel
    centre."""

    def weights(node_edges):
        centres = np.arange(int(node_edges[-1])) + 0.5
        cell = np.interp(centres, node_edges, np.arange(len(node_edges)))
        i0 = np.minimum(cell.astype(int), len(node_edges) - 2)
        return i0, cell - i0

    ci, cf = weights(col_edges)
    ri, rf = weights(row_edges)

    def at(nodes):
        top = nodes[ri][:, ci] * (1 - cf)[None, :] + nodes[ri][:, ci + 1] * cf[None, :]
        bottom = nodes[ri + 1][:, ci] * (1 - cf)[None, :] + nodes[ri + 1][:, ci + 1] * cf[None, :]
        return top * (1 - rf)[:, None] + bottom * rf[:, None]

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
