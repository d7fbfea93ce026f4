"""Images located by their EXIF GPS tags: one image's position, and a whole folder as
ingest records."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from geovec.ingestion.records import Failure, Record

GPS_IFD = 0x8825
# GPSLatitudeRef=1, GPSLatitude=2, GPSLongitudeRef=3, GPSLongitude=4
LAT_REF, LAT, LON_REF, LON = 1, 2, 3, 4


class UnreadableImageError(ValueError):
    """The file's EXIF cannot be read at all (not an image): a ``decode`` failure, where
    any other ValueError of :func:`exif_position` is a ``location`` one."""


def _dms_to_degrees(dms, ref, tag: str, signs: dict[str, int]) -> float:
    """Decimal degrees from (degrees, minutes, seconds) and a hemisphere reference
    (``N``/``S`` or ``E``/``W``); ValueError naming the tag when the reference is
    missing or not one of ``signs``: a missing one is never taken as north or east."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = str(ref).strip("\x00 ").upper() if ref is not None else ""
    if ref not in signs:
        what = f"{ref!r} is not {' or '.join(signs)}" if ref else "is missing"
        raise ValueError(f"GPS position without its hemisphere: {tag} {what}")
    try:
        degrees, minutes, seconds = (float(v) for v in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError("unreadable GPS position") from None
    return signs[ref] * (degrees + minutes / 60 + seconds / 3600)


def exif_position(path: Path) -> tuple[float, float]:
    """(lon, lat) in decimal degrees from an image's EXIF GPS tags.

    Raises:
      UnreadableImageError: the file cannot be read as an image.
      ValueError: no GPS position, or one without its N/S or E/W reference (never
        returns 0, 0 for a missing position, nor a guessed hemisphere).
    """
    try:
        with Image.open(path) as img:
            gps = img.getexif().get_ifd(GPS_IFD)
    except (UnidentifiedImageError, OSError) as exc:
        raise UnreadableImageError(f"cannot read the image ({exc.__class__.__name__})") from None
    if not gps or LAT not in gps or LON not in gps:
        raise ValueError("no GPS position")
    lat = _dms_to_degrees(gps[LAT], gps.get(LAT_REF), "GPSLatitudeRef", {"N": 1, "S": -1})
    lon = _dms_to_degrees(gps[LON], gps.get(LON_REF), "GPSLongitudeRef", {"E": 1, "W": -1})
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"GPS position out of range ({lon}, {lat})")
    return lon, lat


def read_folder(folder: Path, view: str) -> tuple[list[Record], list[Failure]]:
    """Records for every file under ``folder``, located by EXIF GPS; id = relative path."""
    records, failures = [], []
    for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        if path.name.startswith("."):
            continue
        try:
            lon, lat = exif_position(path)
        except ValueError as exc:
            stage = "decode" if isinstance(exc, UnreadableImageError) else "location"
            failures.append(Failure(str(path.resolve()), view, stage, str(exc)))
            continue
        ident = path.relative_to(folder).as_posix()
        records.append(
            Record(id=ident, path=path.resolve(), view=view, lon=lon, lat=lat, source="exif")
        )
    return records, failures
