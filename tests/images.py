"""Small image files and manifests for tests: ordinary ones and every hostile kind."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, TiffImagePlugin


def noise_image(seed: int, size=(48, 64)) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8)
    return Image.fromarray(base).resize((size[1], size[0]), Image.BILINEAR)


def write_images(folder: Path, n: int, start: int = 0, suffix: str = ".png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"img{i:04d}{suffix}"
        noise_image(i).save(path)
        paths.append(path)
    return paths


def write_manifest(path: Path, rows: list[dict]) -> Path:
    fields = ["id", "path", "view", "lon", "lat", "region", "source", "pair", "split"]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def simple_manifest(folder: Path, n: int, view: str = "ground") -> Path:
    paths = write_images(folder / "images", n)
    rows = [
        {
            "id": f"g{i}",
            "path": f"images/{p.name}",
            "view": view,
            "lon": -79.9 + i * 1e-3,
            "lat": 32.8 + i * 1e-3,
            "region": "charleston" if i % 2 else "sf",
        }
        for i, p in enumerate(paths)
    ]
    return write_manifest(folder / "manifest.csv", rows)


def rational(value: float) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(round(value * 10000), 10000)


def write_gps_jpeg(
    path: Path,
    lon: float,
    lat: float,
    seed: int = 0,
    orientation: int = 1,
    image: Image.Image | None = None,
) -> Path:
    """An image (JPEG, or PNG by the suffix) whose EXIF GPS tags hold (lon, lat) as
    degrees/minutes/seconds rationals; pixels from ``image`` or noise of ``seed``."""
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)

    def dms(value):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = (value - d - m / 60) * 3600
        return (rational(d), rational(m), rational(s))

    gps[1], gps[2] = ("N" if lat >= 0 else "S"), dms(lat)
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), dms(lon)
    gps[6] = rational(120.0)  # altitude, ignored
    exif[0x0112] = orientation
    (image or noise_image(seed)).save(path, exif=exif)
    return path


def write_hostile(folder: Path) -> dict[str, tuple[Path, str | None]]:
    """Files of every awkward kind: name -> (path, expected failure stage or None if good)."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = noise_image(99)
    out: dict[str, tuple[Path, str | None]] = {}

    def save(name, img, **kw):
        path = folder / name
        img.save(path, **kw)
        out[name] = (path, None)

    save("cmyk.jpg", rgb.convert("CMYK"))
    save("grey.png", rgb.convert("L"))
    save("grey16.png", Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257))
    save("rgba.png", rgb.convert("RGBA"))
    save("palette.png", rgb.convert("P"))
    save("image.webp", rgb)
    save("anim.gif", rgb.convert("P"), save_all=True, append_images=[rgb.convert("P")])
    save("image.tiff", rgb)
    truncated = folder / "truncated.jpg"
    rgb.resize((400, 300)).save(truncated, quality=95)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 3])
    out["truncated.jpg"] = (truncated, "decode")
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    out["empty.png"] = (empty, "decode")
    text = folder / "notes.jpg"
    text.write_text("this is not an image")
    out["notes.jpg"] = (text, "decode")
    directory = folder / "folder.png"
    directory.mkdir()
    out["folder.png"] = (directory, "manifest")
    bomb = folder / "bomb.png"
    Image.new("1", (9500, 9500)).save(bomb)
    out["bomb.png"] = (bomb, "decode")
    return out
