"""Tiny copies of the cross-view datasets' folders, with exactly their names and formats:
CVUSA's split CSVs, CVACT's ACT_data.mat (written with scipy, as MATLAB structs), VIGOR's
cities in both layouts with its split files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from pyproj import Transformer

VIGOR_CITIES = {  # city: (lat, lon) of its centre
    "Chicago": (41.88, -87.63),
    "NewYork": (40.71, -74.0),
    "SanFrancisco": (37.77, -122.42),
    "Seattle": (47.61, -122.33),
}


def _image(path: Path, seed: int, size=(32, 16)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (*size[::-1], 3), dtype=np.uint8)).save(path)


def cvusa(root: Path, train: int = 4, test: int = 3) -> Path:
    (root / "splits").mkdir(parents=True)
    number = 0
    for name, n in (("train-19zl.csv", train), ("val-19zl.csv", test)):
        lines = []
        for _ in range(n):
            number += 1
            aerial, ground = f"bingmap/19/{number:07d}.jpg", f"streetview/panos/{number:07d}.jpg"
            _image(root / aerial, number)
            _image(root / ground, 1000 + number, (64, 16))
            lines.append(f"{aerial},{ground},annotations/{number:07d}.png")
        (root / "splits" / name).write_text("\n".join(lines) + "\n")
    return root


def cvact(root: Path, n: int = 6, train: tuple = (1, 2, 3, 4), val: tuple = (5, 6)) -> Path:
    from scipy.io import savemat

    ids = [f"pano{i:03d}xyz_-abc" for i in range(n)]
    easting = 690_000 + 100 * np.arange(n)
    northing = 6_090_000 + 50 * np.arange(n)
    for i, ident in enumerate(ids):
        _image(root / "ANU_data_small" / "streetview" / f"{ident}_grdView.jpg", i, (64, 16))
        _image(root / "ANU_data_small" / "satview_polish" / f"{ident}_satView_polish.jpg", 50 + i)
    savemat(
        root / "ACT_data.mat",
        {
            "panoIds": np.array(ids),
            "utm": np.column_stack([easting, northing]).astype(float),
            "trainSet": {"trainInd": np.array(train, float).reshape(-1, 1)},
            "valSet": {"valInd": np.array(val, float).reshape(-1, 1)},
        },
    )
    return root


def cvact_lonlat(i: int) -> tuple[float, float]:
    to = Transformer.from_crs("EPSG:32755", "EPSG:4326", always_xy=True)
    return to.transform(690_000 + 100 * i, 6_090_000 + 50 * i)


def vigor(root: Path, layout: str = "city", panos: int = 3) -> Path:
    """Each city: 4 satellites, ``panos`` training and ``panos`` test panoramas (same-area
    lists) and all of them in pano_label_balanced.txt (cross-area)."""
    seed = 0
    for city, (lat0, lon0) in VIGOR_CITIES.items():
        if layout == "city":
            ground_dir, aerial_dir = root / city / "panorama", root / city / "satellite"
        else:
            ground_dir, aerial_dir = root / "ground" / city, root / "satellite" / city
        sats = [f"satellite_{lat0 + 0.001 * k:.6f}_{lon0 + 0.001 * k:.6f}.png" for k in range(4)]
        for s in sats:
            seed += 1
            _image(aerial_dir / s, seed)
        splits = root / "splits" / city
        splits.mkdir(parents=True)
        (splits / "satellite_list.txt").write_text("".join(s + "\n" for s in sats))
        lines = {"train": [], "test": []}
        for split in lines:
            for k in range(panos):
                seed += 1
                name = f"p{seed}x,{lat0 + 0.0001 * seed:.6f},{lon0 - 0.0001 * seed:.6f},.jpg"
                _image(ground_dir / name, seed, (64, 16))
                order = [sats[(k + j) % 4] for j in range(4)]  # positive, then 3 semi
                offsets = " ".join(f"{o} {1.5 * j:.1f} {-2.0 * j:.1f}" for j, o in enumerate(order))
                lines[split].append(f"{name} {offsets}")
        (splits / "same_area_balanced_train.txt").write_text("\n".join(lines["train"]) + "\n")
        (splits / "same_area_balanced_test.txt").write_text("\n".join(lines["test"]) + "\n")
        (splits / "pano_label_balanced.txt").write_text(
            "\n".join(lines["train"] + lines["test"]) + "\n"
        )
    return root


SF_UTM = (549_766.43, 4_178_826.10)  # easting, northing in UTM 10S (San Francisco)
UTM_10N = "EPSG:32610"


def places_name(east: float, north: float, fields: str = "full", note: str = "") -> str:
    """A file name in the VPR benchmark's format (its download scripts' format_location_info:
    easting/northing with 2 decimals, zone, band, latitude/longitude with 5 decimals, then
    pano id, tile, heading, pitch, roll, height, timestamp, note). ``fields``: "full",
    "no_lonlat" (zone but empty latitude/longitude fields) or "msls" (Mapillary SLS's, as
    the benchmark formats it: no zone, no latitude/longitude)."""
    lon, lat = Transformer.from_crs(UTM_10N, "EPSG:4326", always_xy=True).transform(east, north)
    e, n = f"{east:010.2f}", f"{north:010.2f}"
    if fields == "msls":
        return f"@{e}@{n}@seq{note}@0001@pano{note}@sf@20190101_120000@.jpg"
    latlon = "@@" if fields == "no_lonlat" else f"@{lat:09.5f}@{lon:010.5f}"
    return f"@{e}@{n}@10@S{latlon}@pano{note}@00@090@000@@@201901@{note}@.jpg"


def places(
    root: Path,
    database: list[tuple[float, float, int]],
    queries: list[tuple[float, float, int]],
    layout: str = "plain",
    fields: str = "full",
    lists: bool = False,
) -> Path:
    """A place-recognition tree in the VPR layout: ``database`` and ``queries`` are
    (east offset m, north offset m, pixel seed) from :data:`SF_UTM`; images with the same
    seed are the same picture. ``layout``: "plain" (ROOT/database, ROOT/queries, the
    database split into two subfolders) or "images/test"; ``lists`` writes
    <folder>_images_paths.txt (paths relative to the folder, as the benchmark reads them)
    and an unlisted decoy image in each folder."""
    base = root / "images" / "test" if layout == "images/test" else root
    for split, items in (("database", database), ("queries", queries)):
        listed = []
        for k, (de, dn, seed) in enumerate(items):
            sub = f"part{k % 2}/" if split == "database" else ""
            name = places_name(SF_UTM[0] + de, SF_UTM[1] + dn, fields, note=f"{split[0]}{k}")
            _image(base / split / f"{sub}{name}", seed, (48, 32))
            listed.append(f"{sub}{name}")
        if lists:
            (base / f"{split}_images_paths.txt").write_text("\n".join(listed) + "\n")
            _image(base / split / places_name(*SF_UTM, fields, note="decoy"), 999, (48, 32))
    return root
