"""Images located by their EXIF GPS tags: one image's position, and a whole folder as
ingest records."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from geovec.ingestion.records import Failure, Record

GPS_IFD = 0x8825


def _dms_to_degrees(dms, ref: str) -> float:
    degrees, minutes, seconds = (float(v) for v in dms)
    value = degrees + minutes / 60 + seconds / 3600
    return -value if ref.upper() in ("S", "W") else value


def exif_position(path: Path) -> tuple[float, float]:
    """(lon, lat) in decimal degrees from an image's EXIF GPS tags.

    Raises:
      ValueError: no GPS position (never returns 0, 0 for a missing one).
    """
    try:
        with Image.open(path) as img:
            gps = img.getexif().get_ifd(GPS_IFD)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"cannot read the image ({exc.__class__.__name__})") from None
    # GPSLatitudeRef=1, GPSLatitude=2, GPSLongitudeRef=3, GPSLongitude=4
    if not gps or 2 not in gps or 4 not in gps:
        raise ValueError("no GPS position")
    try:
        lat = _dms_to_degrees(gps[2], str(gps.get(1, "N")))
        lon = _dms_to_degrees(gps[4], str(gps.get(3, "E")))
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError("unreadable GPS position") from None
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
            stage = "location" if "GPS" in str(exc) else "decode"
            failures.append(Failure(str(path), view, stage, str(exc)))
            continue
        ident = path.relative_to(folder).as_posix()
        records.append(
            Record(id=ident, path=path.resolve(), view=view, lon=lon, lat=lat, source="exif")
        )
    return records, failures
