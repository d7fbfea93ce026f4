"""Rendering the planned images in worker processes: aerial tiles and images, photos,
indoor rooms and panoramas with their side cutouts; and the land-cover raster.

The workers are loky's: spawned processes that do not run the caller's main module again
(multiprocessing's spawn and forkserver start methods do, so a script calling
:func:`geovec.synth` without an ``if __name__ == "__main__":`` guard would start itself
again in every worker and never return). They need only geovec's own modules."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
from loky import ProcessPoolExecutor
from PIL import Image

from geovec.geo.cutouts import SIDE_HEADINGS, cutout
from geovec.geo.grid import TILE_M
from geovec.geo.ortho import write_world_file
from geovec.progress import ProgressReporter
from geovec.synthetic.aerial import render_aerial
from geovec.synthetic.ground import render_indoor, render_panorama, render_photo
from geovec.synthetic.regions import CLASS_COLOURS, CLASSES
from geovec.synthetic.world import CELL_M, World


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


def render_jobs(jobs, worlds: dict[str, World], workers: int | None, progress: bool) -> None:
    """Render the jobs whose image is not there yet, in worker processes (safe to call from
    a script without a main guard: the workers never import the caller's ``__main__``)."""
    todo = [j for j in jobs if not Path(j[0].path).exists()]
    workers = workers or min(len(todo), os.cpu_count() or 1, 8) or 1
    with ProgressReporter("synth", len(todo), enabled=progress) as bar:
        if workers > 1:
            with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(worlds,)) as pool:
                for _ in pool.map(_render, todo, chunksize=8):
                    bar.advance()
        else:
            _init_worker(worlds)
            for job in todo:
                _render(job)
                bar.advance()


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
