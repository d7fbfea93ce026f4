"""``geovec synth DIR``: write a complete synthetic dataset with known truth.

For each region: the land-cover map (PNG + world file + .prj), the aerial reference
tiles of the grid over it, ground images (Flickr-like photos, a few of them indoor rooms,
and Street View-like panoramas cut into two side-facing 800x600 views), an aerial image
centred on every ground image, then DIR/manifest.csv (every image of every view) and
DIR/truth.csv (land-cover class at every location). Deterministic for a seed.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from geovec.cutouts import SIDE_HEADINGS, cutout
from geovec.errors import GeovecError
from geovec.grid import reference_grid
from geovec.ortho import write_world_file
from geovec.synth import DEFAULT_EXTENT_KM, DEFAULT_GROUND
from geovec.synth.aerial import TILE_M, render_aerial
from geovec.synth.ground import render_indoor, render_panorama, render_photo
from geovec.synth.regions import CLASS_COLOURS, CLASSES, REGIONS, SUBURBAN, WATER
from geovec.synth.world import CELL_M, World, generate_world

PHOTO_SIZES = ((240, 320), (320, 240), (300, 400), (360, 480))
INDOOR_SHARE = 0.08
PANORAMA_SHARE = 0.4
SCATTERED_SHARE = 0.15
MANIFEST_FIELDS = [
    "id",
    "path",
    "view",
    "lon",
    "lat",
    "region",
    "source",
    "pair",
    "split",
    "size_m",
]


@dataclasses.dataclass
class SynthSummary:
    """What ``synth`` wrote."""

    directory: Path
    manifest: Path
    truth: Path
    ground: int
    overhead: int
    tiles: int
    reused: bool = False


@dataclasses.dataclass(frozen=True)
class Job:
    """One image to render (picklable, for the worker processes)."""

    kind: str  # photo | indoor | panorama | aerial | tile
    path: str
    x: float
    y: float
    heading: float = 0.0
    size: tuple[int, int] = (256, 256)
    seed: int = 0


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


_WORLDS: dict[str, World] = {}


def _init_worker(worlds: dict[str, World]) -> None:
    _WORLDS.update(worlds)


def _render(job_and_region: tuple[Job, str]) -> str:
    job, region = job_and_region
    world = _WORLDS[region]
    if job.kind in ("tile", "aerial"):
        img = render_aerial(world, job.x, job.y, TILE_M)
    elif job.kind == "photo":
        img = render_photo(world, job.x, job.y, job.heading, job.size)
    elif job.kind == "indoor":
        img = render_indoor(world.style, np.random.default_rng(job.seed), job.size)
    else:  # panorama: keep the panorama and its two side cutouts
        pano = render_panorama(world, job.x, job.y, job.heading)
        for side in SIDE_HEADINGS:  # cutouts first: the panorama marks the job done
            target = job.path.replace("_pano.jpg", f"_h{side:+04.0f}.jpg")
            Image.fromarray(cutout(pano, side)).save(target, quality=90)
        Image.fromarray(pano).save(job.path, quality=90)
        return job.path
    Image.fromarray(img).save(job.path, quality=90)
    return job.path


def save_landcover(world: World, path: Path) -> None:
    """The land-cover raster as a colour PNG with a world file (.pgw) and .prj."""
    colours = np.array([CLASS_COLOURS[k] for k in range(len(CLASSES))], np.uint8)
    Image.fromarray(colours[world.cover]).save(path)
    np.save(path.with_suffix(".npy"), world.cover)
    half = world.extent_m / 2
    write_world_file(
        path.with_suffix(".pgw"),
        np.array([[CELL_M, 0, -half + CELL_M / 2], [0, -CELL_M, half - CELL_M / 2]]),
    )
    path.with_suffix(".prj").write_text(world.crs.to_wkt())


def synth(
    directory: str | Path,
    *,
    seed: int = 0,
    ground: int = DEFAULT_GROUND,
    extent_km: float = DEFAULT_EXTENT_KM,
    workers: int | None = None,
    progress: bool = False,
) -> SynthSummary:
    """Write the synthetic world to ``directory`` (reused when already complete with the
    same settings).

    Args:
      seed: makes everything deterministic.
      ground: ground locations per region (photos and panoramas; each panorama gives two
        ground images).
      extent_km: side of each square region in kilometres.
    """
    from geovec.progress import ProgressReporter

    if ground < 4:
        raise GeovecError("synth needs at least 4 ground locations per region")
    if not 1.0 <= extent_km <= 50.0:
        raise GeovecError("--extent-km must be between 1 and 50 km")
    out = Path(directory)
    settings = {"seed": seed, "ground": ground, "extent_km": extent_km, "version": 3}
    done_marker = out / "synth.json"
    if done_marker.exists() and json.loads(done_marker.read_text()).get("settings") == settings:
        info = json.loads(done_marker.read_text())
        return SynthSummary(
            out,
            out / "manifest.csv",
            out / "truth.csv",
            info["ground"],
            info["overhead"],
            info["tiles"],
            True,
        )
    out.mkdir(parents=True, exist_ok=True)

    worlds, jobs, manifest, truth = {}, [], [], []
    for r_index, (name, style) in enumerate(REGIONS.items()):
        rng = np.random.default_rng([seed, r_index])
        world = generate_world(style, extent_km * 1000, seed * 100 + r_index)
        worlds[name] = world
        folder = out / name
        for sub in ("tiles", "ground", "overhead"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        save_landcover(world, folder / "landcover.png")

        half = world.extent_m / 2 - TILE_M / 2
        corner_lon, corner_lat = world.to_lonlat(np.array([-half, half]), np.array([-half, half]))
        grid = reference_grid(
            (corner_lon[0], corner_lat[0], corner_lon[1], corner_lat[1]), TILE_M, prefix=f"{name}_t"
        )
        tx, ty = world.to_xy(grid.lon, grid.lat)
        for tid, x, y, lon, lat in zip(grid.ids, tx, ty, grid.lon, grid.lat):
            path = folder / "tiles" / f"{tid}.png"
            jobs.append((Job("tile", str(path), x, y), name))
            manifest.append(
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
            truth.append(
                dict(
                    id=tid,
                    view="map",
                    lon=lon,
                    lat=lat,
                    region=name,
                    landcover=_dominant(world, x, y),
                )
            )

        xy, headings = sample_locations(world, ground, rng)
        lons, lats = world.to_lonlat(xy[:, 0], xy[:, 1])
        for i, ((x, y), heading, lon, lat) in enumerate(zip(xy, headings, lons, lats)):
            base = f"{name}_{i:05d}"
            cls = CLASSES[int(world.cover_at(x, y))]
            if rng.random() < PANORAMA_SHARE:
                jobs.append(
                    (
                        Job("panorama", str(folder / "ground" / f"{base}_pano.jpg"), x, y, heading),
                        name,
                    )
                )
                members = [(f"{base}_h{s:+04.0f}", "streetview") for s in SIDE_HEADINGS]
            else:
                kind = "indoor" if rng.random() < INDOOR_SHARE else "photo"
                size = PHOTO_SIZES[rng.integers(len(PHOTO_SIZES))]
                jobs.append(
                    (
                        Job(
                            kind,
                            str(folder / "ground" / f"{base}.jpg"),
                            x,
                            y,
                            heading,
                            size,
                            int(rng.integers(1 << 30)),
                        ),
                        name,
                    )
                )
                members = [(base, "flickr" if kind == "photo" else "flickr_indoor")]
            for gid, source in members:
                manifest.append(
                    dict(
                        id=gid,
                        path=f"{name}/ground/{gid}.jpg",
                        view="ground",
                        lon=lon,
                        lat=lat,
                        region=name,
                        source=source,
                        pair=gid,
                    )
                )
                truth.append(
                    dict(id=gid, view="ground", lon=lon, lat=lat, region=name, landcover=cls)
                )
                path = folder / "overhead" / f"{gid}.png"
                jobs.append((Job("aerial", str(path), x, y), name))
                manifest.append(
                    dict(
                        id=gid,
                        path=f"{name}/overhead/{gid}.png",
                        view="overhead",
                        lon=lon,
                        lat=lat,
                        region=name,
                        pair=gid,
                    )
                )

    todo = [j for j in jobs if not Path(j[0].path).exists()]
    workers = workers or min(len(todo), os.cpu_count() or 1, 8) or 1
    with ProgressReporter("synth", len(todo), enabled=progress) as bar:
        if workers > 1:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                workers, mp_context=context, initializer=_init_worker, initargs=(worlds,)
            ) as pool:
                for _ in pool.map(_render, todo, chunksize=8):
                    bar.advance()
        else:
            _init_worker(worlds)
            for job in todo:
                _render(job)
                bar.advance()

    _write_csv(out / "manifest.csv", MANIFEST_FIELDS, manifest)
    _write_csv(out / "truth.csv", ["id", "view", "lon", "lat", "region", "landcover"], truth)
    counts = {v: sum(r["view"] == v for r in manifest) for v in ("ground", "overhead", "map")}
    done_marker.write_text(
        json.dumps(
            {
                "settings": settings,
                "ground": counts["ground"],
                "overhead": counts["overhead"],
                "tiles": counts["map"],
            }
        )
    )
    return SynthSummary(
        out,
        out / "manifest.csv",
        out / "truth.csv",
        counts["ground"],
        counts["overhead"],
        counts["map"],
    )


def _dominant(world: World, x: float, y: float) -> str:
    offs = np.linspace(-TILE_M / 2 + 20, TILE_M / 2 - 20, 12)
    gx, gy = np.meshgrid(x + offs, y + offs)
    return CLASSES[
        int(np.bincount(world.cover_at(gx, gy).ravel(), minlength=len(CLASSES)).argmax())
    ]


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: (f"{v:.7f}" if isinstance(v, float) and k in ("lon", "lat") else v)
                    for k, v in row.items()
                }
            )
    os.replace(tmp, path)
