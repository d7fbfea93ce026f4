"""Aerial cutting throughput: geovec aerial against a plain rasterio/PIL loop that reads
the same windows and writes the same PNGs, same run, same points.

A 4 km x 4 km orthophoto at 0.5 m per pixel (8000 x 8000 RGB, tiled, overviews 2-16) in
UTM, and the same area as a gdal2tiles XYZ folder (zooms 14-17; skipped when GDAL's
command-line tools are missing). Points are 480 m squares at 256 px (the paper's tiles),
scattered over the area. The peer loop is what one writes by hand: project the centre to
the raster's CRS, read the window around it resampled to 256 x 256 (GDAL picks the
overview), save; for tiles, fetch the tiles under the square, paste them with Pillow,
crop and resize. geovec also handles rotation between CRSs, true metres at any latitude,
masks and nodata, which the peer ignores.

Like with like: both read on the main thread and hand each PNG to the same number of
writer threads (geovec's ``PNG_WRITERS``), both are warmed once on the same points, then
run in turn (geovec, peer, geovec, peer ...) and the best of ``--rounds`` kept.

    python bench/aerial.py [--points 200] [--rounds 2] [--workdir /tmp/geovec-bench-aerial]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mercantile  # noqa: E402
import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from PIL import Image  # noqa: E402
from pyproj import Transformer  # noqa: E402
from rasterio.enums import Resampling  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402
from rasterio.windows import from_bounds  # noqa: E402

from bench.common import alternate, report  # noqa: E402
from geovec.ingestion.aerial import PNG_WRITERS, cut_aerial  # noqa: E402

CENTRE = (-79.94, 32.78)
UTM = "EPSG:32617"
SIDE_PX, METRES_PER_PX = 8000, 0.5
SIZE_M, PX = 480.0, 256


def build(work: Path) -> tuple[Path, Path | None]:
    tif = work / "ortho.tif"
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    cx, cy = to_utm.transform(*CENTRE)
    half = SIDE_PX * METRES_PER_PX / 2
    if not tif.exists():
        profile = dict(
            driver="GTiff",
            width=SIDE_PX,
            height=SIDE_PX,
            count=3,
            dtype="uint8",
            crs=UTM,
            transform=from_origin(cx - half, cy + half, METRES_PER_PX, METRES_PER_PX),
            tiled=True,
            blockxsize=512,
            blockysize=512,
            photometric="RGB",
        )
        rng = np.random.default_rng(0)
        with rasterio.open(tif, "w", **profile) as dst:
            for top in range(0, SIDE_PX, 1000):
                y, x = np.mgrid[top : top + 1000, 0:SIDE_PX] / 400.0
                block = np.stack(
                    [
                        120 + 60 * np.sin(x + np.cos(y)),
                        110 + 50 * np.cos(y - x),
                        90 + 40 * np.sin(x * y / 10),
                    ]
                )
                block += rng.normal(0, 12, block.shape)
                dst.write(
                    np.clip(block, 0, 255).astype(np.uint8),
                    window=rasterio.windows.Window(0, top, SIDE_PX, 1000),
                )
            dst.build_overviews([2, 4, 8, 16], Resampling.average)
    tiles = work / "xyz"
    if shutil.which("gdal2tiles.py") and not tiles.exists():
        subprocess.run(
            [
                "gdal2tiles.py",
                "--xyz",
                "-q",
                "-z",
                "14-17",
                "-w",
                "none",
                "--processes=2",
                str(tif),
                str(tiles),
            ],
            check=True,
        )
    return tif, tiles if tiles.exists() else None


def points(path: Path, n: int) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(1)
    span = 0.016  # degrees: inside the 4 km square with room for 480 m
    pts = [
        (f"p{i:05d}", CENTRE[0] + rng.uniform(-span, span), CENTRE[1] + rng.uniform(-span, span))
        for i in range(n)
    ]
    path.write_text("id,lon,lat\n" + "".join(f"{i},{lo},{la}\n" for i, lo, la in pts))
    return pts


def peer_raster(tif: Path, pts, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    with rasterio.open(tif) as src, ThreadPoolExecutor(PNG_WRITERS) as writers:
        pending = []
        for ident, lon, lat in pts:
            x, y = to_utm.transform(lon, lat)
            window = from_bounds(
                x - SIZE_M / 2, y - SIZE_M / 2, x + SIZE_M / 2, y + SIZE_M / 2, src.transform
            )
            data = src.read(window=window, out_shape=(3, PX, PX), resampling=Resampling.bilinear)
            image = Image.fromarray(np.moveaxis(data, 0, -1))
            pending.append(writers.submit(image.save, out / f"{ident}.png"))
        for future in pending:
            future.result()


def peer_tiles(folder: Path, pts, out: Path, z: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(PNG_WRITERS) as writers:
        pending = []
        for ident, lon, lat in pts:
            image = _peer_square(folder, lon, lat, z)
            pending.append(writers.submit(image.save, out / f"{ident}.png"))
        for future in pending:
            future.result()


def _peer_square(folder: Path, lon: float, lat: float, z: int) -> Image.Image:
    """The square around (lon, lat) from a tile folder: fetch, paste, crop and resize."""
    dlat = math.degrees(SIZE_M / 2 / 6_371_008.8)
    dlon = dlat / math.cos(math.radians(lat))
    tiles = list(mercantile.tiles(lon - dlon, lat - dlat, lon + dlon, lat + dlat, zooms=z))
    x0, y0 = min(t.x for t in tiles), min(t.y for t in tiles)
    canvas = Image.new(
        "RGB",
        ((max(t.x for t in tiles) - x0 + 1) * 256, (max(t.y for t in tiles) - y0 + 1) * 256),
    )
    for t in tiles:
        path = folder / str(z) / str(t.x) / f"{t.y}.png"
        if path.exists():
            with Image.open(path) as tile:
                canvas.paste(tile.convert("RGB"), ((t.x - x0) * 256, (t.y - y0) * 256))
    origin = mercantile.xy_bounds(mercantile.Tile(x0, y0, z))
    m = (origin.right - origin.left) / 256
    left, top = mercantile.xy(lon - dlon, lat + dlat)
    right, bottom = mercantile.xy(lon + dlon, lat - dlat)
    box = (
        (left - origin.left) / m,
        (origin.top - top) / m,
        (right - origin.left) / m,
        (origin.top - bottom) / m,
    )
    return canvas.resize((PX, PX), Image.Resampling.BILINEAR, box=box)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each side, in turn")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/geovec-bench-aerial"))
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    tif, tiles = build(work)
    pts = points(work / "points.csv", args.points)
    n = args.points
    threads = f"1 reading + {PNG_WRITERS} PNG writer"
    print(
        f"{n} squares of {SIZE_M:g} m at {PX} px; raster {SIDE_PX}^2 px at "
        f"{METRES_PER_PX} m; warm-up 1, best of {args.rounds} in turn"
    )
    seconds = alternate(
        {
            "geovec": lambda: cut_aerial(
                tif, work / "points.csv", work / "out_geovec", size_m=SIZE_M, px=PX
            ),
            "peer": lambda: peer_raster(tif, pts, work / "out_peer"),
        },
        rounds=args.rounds,
    )
    report(
        "GeoTIFF with overviews",
        "images/s",
        ("geovec aerial", n / seconds["geovec"], threads),
        ("rasterio/PIL loop", n / seconds["peer"], threads),
    )
    if tiles is None:
        print("tile folder: skipped (no gdal2tiles.py)")
        return
    seconds = alternate(
        {
            "geovec": lambda: cut_aerial(
                tiles, work / "points.csv", work / "out_geovec_t", size_m=SIZE_M, px=PX, zoom=17
            ),
            "peer": lambda: peer_tiles(tiles, pts, work / "out_peer_t", 17),
        },
        rounds=args.rounds,
    )
    report(
        "XYZ tile folder at z17",
        "images/s",
        ("geovec aerial", n / seconds["geovec"], threads),
        ("PIL loop", n / seconds["peer"], threads),
    )


if __name__ == "__main__":
    main()
