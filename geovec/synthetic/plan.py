"""Planning a region: where its ground photos are, which images to render, and the
manifest and truth rows they make. Deterministic for a seed: the random draws happen here,
in a fixed order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.geo.cutouts import SIDE_HEADINGS
from geovec.geo.grid import TILE_M, reference_grid
from geovec.synthetic.regions import CLASS_COLOURS, CLASSES, SUBURBAN, WATER, RegionStyle
from geovec.synthetic.render import Job, save_landcover
from geovec.synthetic.world import World, generate_world

PHOTO_SIZES = ((240, 320), (320, 240), (300, 400), (360, 480))
INDOOR_SHARE = 0.08
PANORAMA_SHARE = 0.4
SCATTERED_SHARE = 0.15


def sample_locations(
    world: World, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Metric (x, y) of ``n`` ground locations, like geotagged photos: clustered in towns,
    along country roads and around rural spots, plus scattered ones that the isolation
    filter will mostly keep as the test set; never on water. Returns (xy, headings)."""
    land = world.cover != WATER
    town = world.cell_centres((world.cover >= SUBURBAN) & land)
    country_roads = world.cell_centres(world.roads & land & (world.cover < SUBURBAN))
    rural = world.cell_centres(land & (world.cover < SUBURBAN))
    anywhere = world.cell_centres(land)
    n_scattered = max(1, int(round(n * SCATTERED_SHARE)))
    rest = n - n_scattered
    groups = [
        (town, int(rest * 0.4), 25.0),
        (country_roads, int(rest * 0.3), 8.0),
        (rural, rest - int(rest * 0.4) - int(rest * 0.3), 40.0),
    ]
    picks = []
    for cells, count, jitter in groups:
        cells = cells if len(cells) else anywhere
        spots = cells[rng.integers(0, len(cells), max(1, count // 3))]  # cluster centres
        around = spots[rng.integers(0, len(spots), count)]
        picks.append(around + rng.normal(0, jitter, (count, 2)))
    picks.append(
        anywhere[rng.integers(0, len(anywhere), n_scattered)] + rng.normal(0, 5, (n_scattered, 2))
    )
    xy = np.concatenate(picks)
    half = world.extent_m / 2 - 300
    xy = np.clip(xy, -half, half)
    wet = world.cover_at(xy[:, 0], xy[:, 1]) == WATER
    xy[wet] = anywhere[rng.integers(0, len(anywhere), wet.sum())]
    headings = rng.uniform(0, 360, len(xy))
    return xy, headings


@dataclasses.dataclass
class RegionPlan:
    """One region's world and what to render for it: jobs, manifest rows, truth rows."""

    world: World
    jobs: list[tuple[Job, str]] = dataclasses.field(default_factory=list)
    manifest: list[dict] = dataclasses.field(default_factory=list)
    truth: list[dict] = dataclasses.field(default_factory=list)


def _truth_row(ident, view, lon, lat, region, landcover) -> dict:
    colour = "#{:02x}{:02x}{:02x}".format(*CLASS_COLOURS[CLASSES.index(landcover)])
    return dict(
        id=ident, view=view, lon=lon, lat=lat, region=region, landcover=landcover, colour=colour
    )


def plan_tiles(plan: RegionPlan, name: str, folder: Path) -> None:
    """The region's aerial reference grid: a tile job, manifest row and truth row each."""
    world = plan.world
    half = world.extent_m / 2 - TILE_M / 2
    corner_lon, corner_lat = world.to_lonlat(np.array([-half, half]), np.array([-half, half]))
    grid = reference_grid(
        (corner_lon[0], corner_lat[0], corner_lon[1], corner_lat[1]), TILE_M, prefix=f"{name}_t"
    )
    tx, ty = world.to_xy(grid.lon, grid.lat)
    for tid, x, y, lon, lat in zip(grid.ids, tx, ty, grid.lon, grid.lat):
        plan.jobs.append((Job("tile", str(folder / "tiles" / f"{tid}.png"), x, y), name))
        plan.manifest.append(
            dict(
                id=tid,
                path=f"{name}/tiles/{tid}.png",
                view="map",
                lon=lon,
                lat=lat,
                region=name,
                size_m=TILE_M,
            )
        )
        plan.truth.append(_truth_row(tid, "map", lon, lat, name, _dominant(world, x, y)))


def _ground_job(folder: Path, base: str, name: str, x, y, heading, rng) -> tuple[Job, list]:
    """A photo, indoor room or panorama at one location, and the (id, source) of the ground
    images it gives (a panorama gives its two side cutouts)."""
    if rng.random() < PANORAMA_SHARE:
        job = Job("panorama", str(folder / "ground" / f"{base}_pano.jpg"), x, y, heading)
        return job, [(f"{base}_h{s:+04.0f}", "streetview") for s in SIDE_HEADINGS]
    kind = "indoor" if rng.random() < INDOOR_SHARE else "photo"
    size = PHOTO_SIZES[rng.integers(len(PHOTO_SIZES))]
    path = str(folder / "ground" / f"{base}.jpg")
    job = Job(kind, path, x, y, heading, size, int(rng.integers(1 << 30)))
    return job, [(base, "flickr" if kind == "photo" else "flickr_indoor")]


def plan_ground(plan: RegionPlan, name: str, folder: Path, ground: int, rng) -> None:
    """Ground locations like geotagged photos, and at each one its ground images, each
    with the aerial image centred on it."""
    world = plan.world
    xy, headings = sample_locations(world, ground, rng)
    lons, lats = world.to_lonlat(xy[:, 0], xy[:, 1])
    for i, ((x, y), heading, lon, lat) in enumerate(zip(xy, headings, lons, lats)):
        job, members = _ground_job(folder, f"{name}_{i:05d}", name, x, y, heading, rng)
        plan.jobs.append((job, name))
        cls = CLASSES[int(world.cover_at(x, y))]
        for gid, source in members:
            # pair: on the ground row its aerial's id, on the aerial its photo's (the same)
            located = dict(id=gid, lon=lon, lat=lat, region=name, pair=gid)
            plan.manifest.append(
                dict(located, path=f"{name}/ground/{gid}.jpg", view="ground", source=source)
            )
            plan.truth.append(_truth_row(gid, "ground", lon, lat, name, cls))
            plan.jobs.append((Job("aerial", str(folder / "overhead" / f"{gid}.png"), x, y), name))
            plan.manifest.append(dict(located, path=f"{name}/overhead/{gid}.png", view="overhead"))


def plan_region(
    out: Path, index: int, style: RegionStyle, *, seed, ground, extent_km
) -> RegionPlan:
    """Generate one region's world, save its land-cover raster, and plan its images."""
    name = style.name
    plan = RegionPlan(generate_world(style, extent_km * 1000, seed * 100 + index))
    folder = out / name
    for sub in ("tiles", "ground", "overhead"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    save_landcover(plan.world, folder / "landcover.png")
    plan_tiles(plan, name, folder)
    plan_ground(plan, name, folder, ground, np.random.default_rng([seed, index]))
    return plan


def _dominant(world: World, x: float, y: float) -> str:
    offs = np.linspace(-TILE_M / 2 + 20, TILE_M / 2 - 20, 12)
    gx, gy = np.meshgrid(x + offs, y + offs)
    return CLASSES[
        int(np.bincount(world.cover_at(gx, gy).ravel(), minlength=len(CLASSES)).argmax())
    ]
