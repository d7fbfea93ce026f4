"""Cutting aerial images for a table of points: the paper's map tiles (``view="map"``, one
per reference-grid cell) and the aerial image centred on each ground photo
(``view="overhead"``), from any aerial source (:func:`geovec.geo.aerial.open_source`).

Writes DIR/<id>.png, DIR/manifest.csv (ready for ``geovec ingest``) and DIR/failures.csv
(points outside the source, or over no data for more than half of their square); a bad
point never stops the others. An overhead image takes its point's id, and its manifest row's
``pair`` names the photo it is centred on (the point's id), so ingesting the manifest sets
that photo's ``ground.pair``, whichever of the two is ingested first
(:mod:`geovec.ingestion.links`).

The synthetic world's own map tiles, cut again from its land-cover raster (a PNG with a
world file and a .prj):

>>> tiles = demo_store.sql("SELECT id, lon, lat, region FROM map WHERE region = 'charleston'")
>>> tiles.write_csv(str(demo_tmp / "tiles.csv"))
>>> raster = demo_world.directory / "charleston" / "landcover.png"
>>> summary = cut_aerial(raster, demo_tmp / "tiles.csv", demo_tmp / "aerial", px=64)
>>> summary.written == len(tiles.fetchall()), summary.failed
(True, 0)
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from geovec.counts import count
from geovec.errors import GeovecError
from geovec.geo.aerial import open_source
from geovec.geo.grid import TILE_M
from geovec.ingestion.sources import coordinate, optional_number, read_rows
from geovec.progress import ProgressReporter
from geovec.store.regions import stored_region

if TYPE_CHECKING:
    from geovec.analyses.region_rules import RegionAssignment, RegionRule

DEFAULT_PX = 256
"""Pixels on a side of a cut aerial image (the paper's tiles: 256)."""
MAX_NODATA = 0.5
"""A square with more than this share of pixels without data is not written."""
MANIFEST_FIELDS = ["id", "path", "view", "lon", "lat", "region", "size_m", "pair"]
FAILURE_FIELDS = ["id", "lon", "lat", "stage", "error"]
PNG_WRITERS = 2
"""Threads that encode and write the PNGs while the main thread reads the next square."""
MAX_UPSAMPLING = 2.0
"""A square whose pixels are more than this many times finer than the source's there (output
pixels per source pixel along a side) is written, and warned about and counted: its detail
is interpolation (480 m at 256 px from 300 m pixels: 1.6 source pixels a side, 160x)."""


@dataclasses.dataclass
class AerialSummary:
    """What :func:`cut_aerial` wrote."""

    written: int
    failed: int
    out: Path
    manifest: Path
    failures: Path
    seconds: float
    upsampled: int = 0  # written squares more than MAX_UPSAMPLING finer than the source
    fewest_source_px: float | None = None  # source pixels across the most upsampled one
    px: int = DEFAULT_PX
    size_m: float = TILE_M  # of the most upsampled square
    regions: RegionAssignment | None = None  # the regions --region/--regions gave

    def line(self) -> str:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        finer = (
            f", {self.upsampled} more than {MAX_UPSAMPLING:g}x finer than the source"
            if self.upsampled
            else ""
        )
        return (
            f"wrote {count(self.written, 'image')} to {self.out} ({rate:.1f} images/s){finer}, "
            f"failed {self.failed}; manifest {self.manifest}"
            + (f", failures {self.failures}" if self.failed else "")
        )

    def upsampling_warning(self) -> str | None:
        """One line on the squares cut finer than the source, or None when none was."""
        if not self.upsampled:
            return None
        fewest = self.fewest_source_px
        return (
            f"{self.upsampled} of {count(self.written, 'square')} "
            f"{'is' if self.upsampled == 1 else 'are'} more than "
            f"{MAX_UPSAMPLING:g}x finer than the source (as few as {fewest:.1f} source pixels, "
            f"about {self.size_m / fewest:.3g} m each, across {self.px} px): their detail is "
            f"interpolated; give a larger --size-m or a smaller --px "
            f"(at most {MAX_UPSAMPLING * fewest:.0f} px for these)"
        )


def file_name(ident: str) -> str:
    """A file name for an id: letters, digits, '.', '_' and '-' kept, the rest '_', and,
    where anything was replaced, 8 hex digits of the id's sha1, so two ids never share a
    file ('東京1.jpg' and '大阪1.jpg', 'IMG 1.jpg' and 'IMG_1.jpg')."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", ident)
    if safe != ident or not safe.strip("."):
        safe += "-" + hashlib.sha1(ident.encode()).hexdigest()[:8]
    return safe + ".png"


def read_points(path: str | Path) -> tuple[list[dict], list[dict]]:
    """(points, failures) from a table with id, lon, lat (optional region, size_m)."""
    rows = read_rows(Path(path))
    if rows and not {"id", "lon", "lat"} <= set(rows[0]):
        raise GeovecError(f"{path}: a points table needs id, lon and lat columns")
    points, failures, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        ident = str(row.get("id") or "").strip()
        try:
            if not ident:
                raise ValueError(f"row {number}: empty id")
            if ident in seen:
                raise ValueError(f"id {ident!r} repeated")
            lon = coordinate(row.get("lon"), -180, 180, "lon")
            lat = coordinate(row.get("lat"), -90, 90, "lat")
            size_m = optional_number(row.get("size_m"), "size_m")
        except ValueError as exc:
            failures.append(
                dict(
                    id=ident, lon=row.get("lon"), lat=row.get("lat"), stage="points", error=str(exc)
                )
            )
            continue
        seen.add(ident)
        points.append(
            dict(
                id=ident,
                lon=lon,
                lat=lat,
                region=stored_region(row.get("region")),
                size_m=size_m,
            )
        )
    return points, failures


def _verdict(cut, px: int) -> str | None:
    """Why a cut is not written, or None when it is good."""
    middle = slice((px - 1) // 2, px // 2 + 1)
    if cut is None or not cut.valid[middle, middle].any():
        return "outside the source's coverage"
    missing = 1.0 - cut.valid_fraction
    if missing > MAX_NODATA:
        return f"no data (nodata or transparent) under {missing:.0%} of its square"
    return None


def cut_aerial(
    source,
    points: str | Path,
    out: str | Path,
    *,
    size_m: float = TILE_M,
    px: int = DEFAULT_PX,
    view: str = "map",
    crs: str | None = None,
    zoom: int | None = None,
    scheme: str | None = None,
    progress: bool = False,
    regions: RegionRule | None = None,
) -> AerialSummary:
    """Cut one north-up square per point from an aerial source.

    Args:
      source: what :func:`geovec.geo.aerial.open_source` opens (a raster, folder of
        rasters or tiles, MBTiles, world-file image, or a list of rasters).
      points: a table with id, lon, lat (decimal degrees); optional region, and size_m
        (metres) that overrides ``size_m`` for that point.
      out: the folder for the images, manifest.csv and failures.csv.
      size_m: ground size of a square in metres; px: its pixels on a side.
      view: "map" (reference tiles) or "overhead" (centred on ground photos: each takes
        the point's id, and its ``pair`` names the photo, the point's id again).
      regions: a region for the points that have none (one name, or by a polygon layer:
        :class:`~geovec.analyses.region_rules.RegionRule`), written to the manifest.

    A square more than :data:`MAX_UPSAMPLING` times finer than the source where it is cut
    is written, and counted in the summary (``upsampled``, ``upsampling_warning()``).
    """
    if view not in ("map", "overhead"):
        raise GeovecError(f"view must be map or overhead, got {view!r}")
    if not size_m > 0 or px < 2:
        raise GeovecError(f"size_m must be positive metres and px at least 2, got {size_m}, {px}")
    started = time.perf_counter()
    source = open_source(source, crs=crs, zoom=zoom, scheme=scheme)
    try:
        todo, failures = read_points(points)
        assigned = None
        if regions is not None:  # the points without a region get one by the rule
            bare = [p for p in todo if p["region"] is None]
            assigned = regions.assign([p["lon"] for p in bare], [p["lat"] for p in bare])
            for p, region in zip(bare, assigned.regions):
                p["region"] = region
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        upsampled = []  # (source pixels across, size_m) of the squares finer than the source
        with (
            ThreadPoolExecutor(PNG_WRITERS, thread_name_prefix="geovec-png") as writers,
            ProgressReporter("aerial", len(todo), enabled=progress) as bar,
        ):
            pending = []
            for p in todo:
                size = p["size_m"] or size_m
                cut = source.cut(p["lon"], p["lat"], size, px)
                reason = _verdict(cut, px)
                if reason:
                    failures.append(
                        dict(id=p["id"], lon=p["lon"], lat=p["lat"], stage="aerial", error=reason)
                    )
                else:
                    if cut.upsampling > MAX_UPSAMPLING:
                        upsampled.append((cut.source_px, size))
                    name = file_name(p["id"])
                    image = Image.fromarray(cut.rgb)
                    pending.append(writers.submit(image.save, out / name))
                    rows.append(
                        dict(
                            id=p["id"],
                            path=name,
                            view=view,
                            lon=p["lon"],
                            lat=p["lat"],
                            region=p["region"],
                            size_m=size,
                            pair=p["id"] if view == "overhead" else None,
                        )
                    )
                bar.advance()
            for future in pending:
                future.result()
    finally:
        source.close()
    manifest = _write_csv(out / "manifest.csv", MANIFEST_FIELDS, rows)
    failed = _write_csv(out / "failures.csv", FAILURE_FIELDS, failures)
    fewest = min(upsampled, default=(None, size_m))
    return AerialSummary(
        len(rows),
        len(failures),
        out,
        manifest,
        failed,
        time.perf_counter() - started,
        upsampled=len(upsampled),
        fewest_source_px=fewest[0],
        px=px,
        size_m=fewest[1],
        regions=assigned,
    )


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> Path:
    """Write through a temporary file and a rename: never half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path
