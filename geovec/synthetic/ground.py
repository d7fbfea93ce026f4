"""Render ground-level views of a synthetic region: what is around a location, in the
view direction, drawn far to near: sky and haze, terrain relief, water, fields, marsh,
trees, houses and city blocks in the region's colours.

One renderer serves photos (a perspective view at a heading) and Street View-like
equirectangular panoramas (2:1, all headings): it is given the heading of every column
and the elevation angle of every row. Also renders indoor rooms, which the indoor/outdoor
filter is meant to drop.
"""

from __future__ import annotations

import numpy as np

from geovec.synthetic.aerial import _hash, surface_colour, value_noise
from geovec.synthetic.regions import FIELD, FOREST, SUBURBAN, URBAN, WATER, WETLAND, RegionStyle
from geovec.synthetic.world import World

EYE_M = 1.7
DISTANCES_M = np.geomspace(20, 2400, 14)
OCCUPANCY = np.array([0.0, 0.5, 0.7, 0.3, 0.35, 0.55])
"""Chance that a sample of each class holds an object (gaps let the view through)."""
"""Distances (metres) at which the renderer samples the land cover along each column."""


def _mix(colour, sky, amount):
    return colour * (1 - amount) + sky * amount


def render_view(
    world: World, x: float, y: float, headings_deg: np.ndarray, elevations_deg: np.ndarray
) -> np.ndarray:
    """(rows, columns, 3) uint8 view from metric (x, y), eye 1.7 m above the terrain.

    Args:
      headings_deg: heading of each column, degrees clockwise from north.
      elevations_deg: elevation angle of each row, degrees above the horizon (top first).
    """
    style = world.style
    theta = np.radians(np.asarray(headings_deg, np.float64))
    phi = np.radians(np.asarray(elevations_deg, np.float64))[:, None]
    rows, cols = phi.shape[0], theta.shape[0]
    eye = float(world.elevation_at(x, y)) + EYE_M
    sky = np.asarray(style.sky, np.float32)
    visibility = 3000 * (1 - style.haze) + 600

    # sky: brighter towards the horizon
    up = np.clip(phi / (np.pi / 2), 0, 1)
    img = np.broadcast_to(
        _mix(sky, np.array([255, 255, 255], np.float32), 0.35 * (1 - up)[..., None] ** 3),
        (rows, cols, 3),
    ).copy()

    # ground plane: the surface where each downward ray meets the ground
    down = np.clip(-phi, 1e-3, None)
    dist = np.minimum(EYE_M / np.tan(down), DISTANCES_M[-1])
    gx = x + dist * np.sin(theta)[None]
    gy = y + dist * np.cos(theta)[None]
    below = (phi < 0) & np.ones((1, cols), bool)
    ground = surface_colour(world, gx[below], gy[below])
    haze = 1 - np.exp(-np.broadcast_to(dist, below.shape)[below] / visibility)
    img[below] = _mix(ground, sky, haze[..., None])

    # objects and terrain, far to near
    heights = np.array(
        [0.0, 0.8, 14.0, 0.3, style.building_height_m[0], style.building_height_m[1]]
    )
    for d in DISTANCES_M[::-1]:
        px_ = x + d * np.sin(theta)
        py_ = y + d * np.cos(theta)
        cls = world.cover_at(px_, py_)
        elev = world.elevation_at(px_, py_)
        vary = _hash(np.floor(px_ / 30), np.floor(py_ / 30))
        present = _hash(np.floor(px_ / 15) + 7, np.floor(py_ / 15) + 3) < OCCUPANCY[cls]
        h = heights[cls] * (0.6 + 0.8 * vary) * present
        bottom = np.arctan2(elev - eye, d)
        top = np.arctan2(elev + h - eye, d)
        if style.relief_m > 20:  # terrain faces that rise above the eye line
            face = (phi <= bottom[None]) & (phi >= np.arctan2(-eye, d * 0.5))
            face &= bottom[None] > np.arctan2(-eye, d)
            img[face] = _mix(
                np.asarray(style.field_colour, np.float32) * 0.85, sky, 1 - np.exp(-d / visibility)
            )
        standing = h > 0.5
        if not standing.any():
            continue
        # only the band of rows that this layer's objects can cover
        rows_in = np.nonzero(
            (phi[:, 0] <= top[standing].max()) & (phi[:, 0] >= bottom[standing].min())
        )[0]
        if rows_in.size == 0:
            continue
        band = slice(rows_in[0], rows_in[-1] + 1)
        phib = phi[band]
        mask = (phib >= bottom[None]) & (phib <= top[None]) & standing[None]
        pick = (vary * len(style.wall_colours)).astype(int) % len(style.wall_colours)
        colour = np.asarray(style.wall_colours, np.float32)[pick]
        forest = cls == FOREST
        colour[forest] = np.asarray(style.vegetation, np.float32) * (0.7 + 0.4 * vary[forest, None])
        colour[cls == WETLAND] = (110, 120, 70)
        colour[cls == FIELD] = style.field_colour
        pattern = np.ones(mask.shape, np.float32)
        built = np.isin(cls, (SUBURBAN, URBAN))
        windows = (
            (np.sin(phib * d * 1.3) > 0.3) & (np.sin(theta * d * 0.9)[None] > 0.1) & built[None]
        )
        pattern[windows] = 0.45
        if forest.any():
            leaves = 0.7 + 0.6 * value_noise(theta[forest][None] * d * 3, phib * d * 3, 1.0, 9)
            pattern[:, forest] = leaves
        layer = _mix(colour[None] * pattern[..., None], sky, 1 - np.exp(-d / visibility))
        target = img[band]
        target[mask] = layer[mask]
    cls_here = int(world.cover_at(x, y))
    if cls_here == WATER:  # on a pier or a boat: flatten the foreground
        img[(phi < -0.2) & np.ones((1, cols), bool)] = style.water_colour
    return np.clip(img, 0, 255).astype(np.uint8)


def render_photo(
    world: World,
    x: float,
    y: float,
    heading_deg: float,
    size: tuple[int, int],
    fov_deg: float = 60.0,
) -> np.ndarray:
    """A perspective photo (height, width) looking at ``heading_deg``, horizon near the middle."""
    h, w = size
    f = (w / 2) / np.tan(np.radians(fov_deg) / 2)
    headings = heading_deg + np.degrees(np.arctan((np.arange(w) + 0.5 - w / 2) / f))
    elevations = np.degrees(np.arctan((h / 2 - (np.arange(h) + 0.5)) / f)) + 3.0
    return render_view(world, x, y, headings, elevations)


def render_panorama(
    world: World, x: float, y: float, car_heading_deg: float, width: int = 768
) -> np.ndarray:
    """An equirectangular panorama (width/2, width): column 0 looks backwards along the car,
    the centre column along ``car_heading_deg`` (Street View's convention)."""
    h = width // 2
    headings = car_heading_deg - 180 + (np.arange(width) + 0.5) * 360 / width
    elevations = 90 - (np.arange(h) + 0.5) * 180 / h
    return render_view(world, x, y, headings, elevations)


def render_indoor(
    style: RegionStyle, rng: np.random.Generator, size: tuple[int, int]
) -> np.ndarray:
    """An indoor room: walls, floor, a window, furniture blocks."""
    h, w = size
    img = np.zeros((h, w, 3), np.float32)
    wall = np.asarray(
        style.wall_colours[rng.integers(len(style.wall_colours))], np.float32
    ) * rng.uniform(0.7, 1.0)
    floor = np.asarray((120, 85, 60) if rng.random() < 0.5 else (170, 165, 150), np.float32)
    horizon = int(h * rng.uniform(0.55, 0.7))
    img[:horizon] = wall
    img[horizon:] = floor * np.linspace(0.8, 1.1, h - horizon)[:, None, None]
    left, top = int(w * rng.uniform(0.1, 0.5)), int(h * rng.uniform(0.1, 0.25))
    img[top : top + h // 4, left : left + w // 4] = style.sky
    for _ in range(rng.integers(2, 5)):
        bw, bh = int(w * rng.uniform(0.1, 0.3)), int(h * rng.uniform(0.1, 0.3))
        bx, by = rng.integers(0, w - bw), horizon - bh // 2
        img[by : by + bh, bx : bx + bw] = rng.uniform(40, 220, 3)
    img *= 0.9 + 0.2 * rng.random((h, 1, 1))
    return np.clip(img, 0, 255).astype(np.uint8)
