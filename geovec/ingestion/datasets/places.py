"""Visual place recognition datasets in the layout of the widely used VPR benchmark code
(gmberton's deep-visual-geo-localization-benchmark and VPR-methods-evaluation: Pitts30k,
Tokyo 24/7, MSLS, SF-XL, St Lucia, ... as its download scripts format them).

Layout: ``ROOT/database/**/*.jpg`` and ``ROOT/queries/**/*.jpg``, or the same two folders
under ``ROOT/images/test/``. Where ``<folder>_images_paths.txt`` sits beside a folder
(``ROOT/database_images_paths.txt``), it lists that folder's images instead, one path a
line, relative to the folder, as the benchmark code reads it; otherwise every ``*.jpg``
below the folder is an image (the benchmark's recursive glob, sorted).

Positions are in the file names, fields separated by ``@``:
``@utm_east@utm_north@utm_zone_number@utm_zone_letter@lat@lon@pano_id@...@.jpg``
(e.g. ``@0549766.43@4178826.10@10@S@037.75632@-122.43521@...@.jpg``; the benchmark code
itself reads only the first two). Easting and northing are needed. With a zone (in the
name, or ``utm_zone`` for names without one, such as MSLS's) the position is the UTM
point's, to the centimetre the names give; the name's latitude and longitude, when it has
them too, must agree within :data:`AGREE_M` metres (else the name is refused). Without a
zone, the name's latitude and longitude are the position (to the 1 m of their 5 decimals).
The zone letter is the latitude band (C to M south of the equator, N to X north): ``10S``
is San Francisco's zone.

Rows: one ground image each, split ``database`` or ``queries``, region the ROOT folder's
name, id the file's stem (or, where two stems are equal, every image's path below the
layout's folder without ``.jpg``). A malformed name stops the import with the file named;
an image a list names that is not there is left out and reported.
"""

from __future__ import annotations

import glob
import math
import os
import re
from pathlib import Path

import numpy as np
from pyproj import Transformer

from geovec.errors import DatasetError
from geovec.geodesy import distance_m
from geovec.ingestion.datasets.manifest import Missing

SPLITS = ("database", "queries")
LAYOUTS = (".", "images/test")  # folders below ROOT that may hold database/ and queries/
AGREE_M = 100.0
"""Metres within which a name's UTM position and its latitude/longitude must agree: far
above their rounding (about 1 m), far below a wrong zone or band (hundreds of km)."""
BANDS = "CDEFGHJKLMNPQRSTUVWX"  # UTM latitude bands, south to north (no I, no O)
NAME = "@utm_east@utm_north@[zone_number@zone_letter@lat@lon@]...@.jpg"
_ZONE = re.compile(r"^(\d{1,2})([A-Za-z])$")


def parse_zone(text: str) -> tuple[int, str]:
    """(zone number, band letter) of a UTM zone written like ``10S`` (number 1-60, then
    the latitude band letter C-X, as the VPR file names write them)."""
    match = _ZONE.match(text.strip())
    zone = _zone(*match.groups()) if match else None
    if zone is None:
        raise DatasetError(
            f"UTM zone {text!r}: expected a number 1-60 and a latitude band letter C-X "
            "(e.g. 10S for San Francisco; C-M are south of the equator)"
        )
    return zone


def _zone(number: str, letter: str) -> tuple[int, str] | None:
    if not number.isdigit() or len(letter) != 1 or letter.upper() not in BANDS:
        return None
    n = int(number)
    return (n, letter.upper()) if 1 <= n <= 60 else None


def utm_crs(zone: tuple[int, str]) -> str:
    """The EPSG code of a UTM zone on WGS84: 326zz north of the equator, 327zz south."""
    number, band = zone
    return f"EPSG:{32600 + number if band >= 'N' else 32700 + number}"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_name(name: str, where: str) -> dict:
    """The position fields of a place-recognition file name: ``east``, ``north`` (metres),
    ``zone`` ((number, band) or None) and ``lonlat`` ((lon, lat) or None)."""
    fields = name.split("@")
    east = _number(fields[1]) if len(fields) > 2 else None
    north = _number(fields[2]) if len(fields) > 2 else None
    if east is None or north is None:
        raise DatasetError(f"{where}: the name is not {NAME} (no UTM easting and northing)")
    zone = _zone(fields[3], fields[4]) if len(fields) > 5 else None
    lonlat = None
    if len(fields) > 7:
        lat, lon = _number(fields[5]), _number(fields[6])
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
            lonlat = (lon, lat)
    return {"east": east, "north": north, "zone": zone, "lonlat": lonlat}


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def _layout(root: Path) -> Path:
    for sub in LAYOUTS:
        base = root / sub
        if all((base / s).is_dir() for s in SPLITS):
            return base
    raise DatasetError(
        f"{root}: no database/ and queries/ folders (nor images/test/database and "
        "images/test/queries): is this a place-recognition dataset in the VPR layout?"
    )


def _images(root: Path, base: Path, split: str, missing: list[Missing]) -> list[Path]:
    """The split's image files: its list's, or every .jpg below its folder."""
    folder = base / split
    listing = base / f"{split}_images_paths.txt"
    if not listing.is_file():
        pattern = os.path.join(glob.escape(str(folder)), "**", "*.jpg")
        found = [Path(p) for p in sorted(glob.glob(pattern, recursive=True))]
        if not found:
            raise DatasetError(f"{folder}: no JPEG images (*.jpg) in it")
        return found
    where = _relative(listing, root)
    paths = []
    for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        path = folder / line.strip()
        if path.is_file():
            paths.append(path)
        else:
            missing.append(Missing(_relative(path, root), f"{where}:{number}"))
    if not paths:
        raise DatasetError(
            f"{listing}: none of the images it lists is there (paths relative to {folder})"
        )
    return paths


def _positions(parsed: list[dict], where: list[str], utm_zone) -> np.ndarray:
    """(n, 2) lon, lat of the parsed names (see the module for which field wins)."""
    out = np.full((len(parsed), 2), np.nan)
    by_crs: dict[str, list[int]] = {}
    for i, p in enumerate(parsed):
        zone = p["zone"] or utm_zone
        if zone is not None:
            by_crs.setdefault(utm_crs(zone), []).append(i)
        elif p["lonlat"] is not None:
            out[i] = p["lonlat"]
        else:
            raise DatasetError(
                f"{where[i]}: the name has no UTM zone nor latitude/longitude; give the "
                "zone of its easting/northing (--utm-zone, e.g. 10S)"
            )
    for crs, rows in by_crs.items():
        to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        east = np.array([parsed[i]["east"] for i in rows])
        north = np.array([parsed[i]["north"] for i in rows])
        lon, lat = to_lonlat.transform(east, north)
        out[rows] = np.column_stack([lon, lat])
        named = [(k, i) for k, i in enumerate(rows) if parsed[i]["lonlat"] is not None]
        if named:
            k, i = zip(*named)
            given = np.array([parsed[j]["lonlat"] for j in i])
            apart = distance_m(lon[list(k)], lat[list(k)], given[:, 0], given[:, 1])
            bad = np.flatnonzero(~(apart <= AGREE_M))
            if len(bad):
                j = i[bad[0]]
                raise DatasetError(
                    f"{where[j]}: its UTM position ({crs}) and its latitude/longitude are "
                    f"{apart[bad[0]]:.0f} m apart; the name is not {NAME}"
                )
        if not np.isfinite(out[rows]).all():
            j = rows[int(np.flatnonzero(~np.isfinite(out[rows]).all(axis=1))[0])]
            raise DatasetError(f"{where[j]}: its easting/northing is outside UTM ({crs})")
    return out


def read(root: Path, utm_zone: str | None = None) -> tuple[list[dict], list[Missing]]:
    zone = parse_zone(utm_zone) if utm_zone else None
    base = _layout(root)
    missing: list[Missing] = []
    files = [(split, path) for split in SPLITS for path in _images(root, base, split, missing)]
    where = [_relative(path, root) for _, path in files]
    parsed = [parse_name(path.name, w) for (_, path), w in zip(files, where)]
    lonlat = _positions(parsed, where, zone)
    stems = [path.stem for _, path in files]
    if len(set(stems)) < len(stems):  # ids are unique in a table: fall back to paths
        stems = [_relative(path.with_suffix(""), base) for _, path in files]
    region = root.resolve().name
    rows = [
        dict(
            id=ident,
            path=w,
            view="ground",
            lon=float(lon),
            lat=float(lat),
            region=region,
            pair=None,
            split=split,
            semi_pairs=None,
        )
        for ident, w, (split, _), (lon, lat) in zip(stems, where, files, lonlat)
    ]
    return rows, missing
