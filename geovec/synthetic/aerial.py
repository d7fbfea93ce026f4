"""Render aerial images of a synthetic region: any centre, any ground size, 256x256 px.

Textures are functions of world coordinates (metres), so neighbouring tiles and the
images centred on ground photos agree where they overlap: roofs and street grids for
towns, canopy for forest, ripples for water, stripes for fields, marsh speckle.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from geovec.geo.grid import TILE_M
from geovec.synthetic.regions import FIELD, FOREST, SUBURBAN, URBAN, WATER, WETLAND
from geovec.synthetic.world import CELL_M, World

TILE_PX = 256

_LATTICE = np.random.default_rng(12345).random((256, 256))


def value_noise(x: np.ndarray, y: np.ndarray, scale_m: float, offset: float = 0.0) -> np.ndarray:
    """Smooth pseudo-random values in [0, 1] at metric points, features ``scale_m`` apart."""
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    coords = [(y / scale_m + offset * 17.3).ravel(), (x / scale_m + offset * 7.1).ravel()]
    return ndimage.map_coordinates(_LATTICE, coords, order=1, mode="grid-wrap").reshape(x.shape)


def _hash(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    h = (ix.astype(np.int64) * 73856093) ^ (iy.astype(np.int64) * 19349663)
    return (h % 1000003) / 1000003.0


def _colour(base, shade):
    return np.clip(np.asarray(base, np.float32) * np.asarray(shade)[..., None], 0, 255)


def surface_colour(world: World, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The colour of the ground surface seen from above at metric points: (..., 3) float32.

    The aerial renderer paints it; the ground renderer uses it for the ground plane, so both
    views of a place show the same fields, water, lots and streets.
    """
    style = world.style
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    # wobble class borders so the 10 m cells do not show
    wx = x + 8 * (value_noise(x, y, 25, 1) - 0.5)
    wy = y + 8 * (value_noise(x, y, 25, 2) - 0.5)
    cover = world.cover_at(wx, wy)
    fine = value_noise(x, y, 3.0, 3)
    mid = value_noise(x, y, 12.0, 4)
    img = np.zeros(x.shape + (3,), np.float32)

    def paint(cls, colours):
        mask = cover == cls
        img[mask] = colours[mask]

    water_shade = 0.9 + 0.15 * np.sin((x * 0.7 + y * 0.3) / 2.0 + 6 * mid) * fine
    paint(WATER, _colour(style.water_colour, water_shade))
    speck = value_noise(x, y, 6.0, 5) > 0.62
    wet = _colour((130, 125, 80), 0.8 + 0.4 * fine)
    wet[speck] = _colour(style.water_colour, 0.9 + 0 * fine)[speck]
    paint(WETLAND, wet)
    crowns = value_noise(x, y, 4.0, 6)
    paint(FOREST, _colour(style.vegetation, 0.45 + 0.7 * crowns**1.5))
    field_id = np.floor(x / 150) * 31 + np.floor(y / 150)
    angle = _hash(np.floor(x / 150), np.floor(y / 150)) * np.pi
    stripes = 0.85 + 0.15 * np.sin((x * np.cos(angle) + y * np.sin(angle)) * 1.2)
    tint = 0.8 + 0.35 * _hash(field_id.astype(np.int64), field_id.astype(np.int64) + 7)
    paint(FIELD, _colour(style.field_colour, stripes * tint * (0.95 + 0.1 * fine)))

    for cls, lot, fill in ((SUBURBAN, 25.0, 0.45), (URBAN, 60.0, 0.8)):
        ix, iy = np.floor(x / lot), np.floor(y / lot)
        fx, fy = x / lot - ix, y / lot - iy
        margin = (1 - fill) / 2
        house = (fx > margin) & (fx < 1 - margin) & (fy > margin) & (fy < 1 - margin)
        pick = (_hash(ix, iy) * len(style.roof_colours)).astype(int)
        roofs = np.asarray(style.roof_colours, np.float32)[pick] * (0.9 + 0.2 * fine[..., None])
        if cls == SUBURBAN:
            ground = _colour(style.vegetation, 0.9 + 0.3 * mid) * 1.25
        else:
            ground = _colour((120, 120, 118), 0.9 + 0.2 * fine)
        tile = np.where(house[..., None], roofs, ground)
        paint(cls, tile)

    road_mask = world.roads[world.cell(x, y)]
    road_core = road_mask & (np.abs(((x + y) % CELL_M) - CELL_M / 2) < CELL_M)
    img[road_core] = _colour((95, 95, 95), 0.95 + 0.1 * fine)[road_core]
    return img


def render_aerial(
    world: World, cx: float, cy: float, size_m: float = TILE_M, px: int = TILE_PX
) -> np.ndarray:
    """An aerial image (px, px, 3) uint8 centred on metric (cx, cy), north up."""
    step = size_m / px
    offs = (np.arange(px) + 0.5) * step - size_m / 2
    x, y = np.meshgrid(cx + offs, cy - offs)
    img = surface_colour(world, x, y)
    if world.style.relief_m > 20:  # hill shading
        elev = world.elevation_at(x, y)
        gy, gx = np.gradient(elev, step)
        shade = np.clip(1 - 0.9 * (gx * 0.7 - gy * 0.7), 0.6, 1.3)
        img *= shade[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)
