"""Web-map tiles drawn from aerial squares: each square lands where its footprint is,
neighbours meet without a gap, and an overlay is warped onto Web Mercator."""

from __future__ import annotations

import mercantile
import numpy as np
from PIL import Image

from geovec.geo.webtiles import MapTiles, render_web_tile, warp_to_web_mercator
from geovec.geodesy import footprint_rings


def quadrant_tile(path, colours):
    """A 64 px square: NW, NE, SW, SE quadrants in the given colours."""
    image = np.zeros((64, 64, 3), np.uint8)
    image[:32, :32], image[:32, 32:], image[32:, :32], image[32:, 32:] = colours
    Image.fromarray(image).save(path)
    return str(path)


def pixel_of(lon, lat, tile):
    b = mercantile.xy_bounds(tile)
    x, y = mercantile.xy(lon, lat)
    return int((b.top - y) / (b.top - b.bottom) * 256), int((x - b.left) / (b.right - b.left) * 256)


def test_quadrants_land_at_their_places_and_neighbours_meet(tmp_path):
    size = 480.0
    lon0, lat0 = -79.95, 32.78
    ring = footprint_rings(lon0, lat0, size)[0]
    east_lon = lon0 + (ring[1, 0] - ring[0, 0])  # the next square east, sharing an edge
    red, green, blue, white = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
    tiles = MapTiles(
        ["a", "b"],
        np.array([lon0, east_lon]),
        np.array([lat0, lat0]),
        np.array([size, size]),
        [
            quadrant_tile(tmp_path / "a.png", (red, green, blue, white)),
            quadrant_tile(tmp_path / "b.png", (white, blue, green, red)),
        ],  # fmt: skip
    )
    z = 16
    d = 100 / 111_000  # 100 m north-west, north-east, south-west, south-east of the centre
    for (dx, dy), colour in zip([(-1, 1), (1, 1), (-1, -1), (1, -1)], (red, green, blue, white)):
        lon, lat = lon0 + dx * d / np.cos(np.radians(lat0)), lat0 + dy * d
        t = mercantile.tile(lon, lat, z)
        rgba = np.asarray(render_web_tile(tiles, z, t.x, t.y))
        r, c = pixel_of(lon, lat, t)
        assert tuple(rgba[r, c, :3]) == colour and rgba[r, c, 3] == 255
    # along the shared edge, every pixel inside the squares is opaque (no gap)
    t = mercantile.tile(ring[1, 0], lat0, z)
    rgba = np.asarray(render_web_tile(tiles, z, t.x, t.y))
    top = max(pixel_of(lon0, ring[0, 1], t)[0] + 2, 0)
    bottom = min(pixel_of(lon0, ring[2, 1], t)[0] - 2, 256)
    c = pixel_of(ring[1, 0], lat0, t)[1]
    column = rgba[top:bottom, max(c - 2, 0) : c + 3, 3]
    assert column.size > 100 and column.min() == 255
    # outside both squares: transparent
    far = render_web_tile(tiles, z, t.x + 9, t.y)
    assert far is None


def test_warp_to_web_mercator_keeps_places():
    """An image in plain lon/lat (plate carrée) lands on Web Mercator with each pixel where
    its lon/lat says."""
    bounds = (-80.0, 30.0, -79.0, 31.0)
    image = np.zeros((100, 100, 3), np.uint8)
    image[:50] = (255, 0, 0)  # north half red
    image[50:] = (0, 0, 255)  # south half blue

    def to_source(lon, lat):
        return (lon - bounds[0]) / 1.0 * 100, (bounds[3] - lat) / 1.0 * 100

    out = np.asarray(warp_to_web_mercator(image, to_source, bounds, 200))
    _, y_north = mercantile.xy(-79.5, 31.0)
    _, y_mid = mercantile.xy(-79.5, 30.5)
    _, y_south = mercantile.xy(-79.5, 30.0)
    row = (y_north - y_mid) / (y_north - y_south) * out.shape[0]
    assert tuple(out[int(row) - 3, 100, :3]) == (255, 0, 0)
    assert tuple(out[int(row) + 3, 100, :3]) == (0, 0, 255)
    assert out[..., 3].min() == 255
