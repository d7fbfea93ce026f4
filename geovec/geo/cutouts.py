"""Perspective cutouts from equirectangular panoramas (the paper's two side-facing
Street View views).

A panorama is W x H with W = 2H; its centre column looks along the car (heading 0), column
0 backwards; rows run from +90 degrees (up) to -90 (down). A cutout at heading h (degrees
clockwise from the car's direction), field of view f and size w x h is sampled bilinearly
for all pixels at once, wrapping around the 360 degree seam.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from geovec.errors import GeovecError
from geovec.features.decode import load_rgb

SIDE_HEADINGS = (-90.0, 90.0)
CUTOUT_SIZE = (800, 600)  # width, height
CUTOUT_FOV = 90.0


def cutout(
    panorama: np.ndarray,
    heading_deg: float,
    size: tuple[int, int] = CUTOUT_SIZE,
    fov_deg: float = CUTOUT_FOV,
    pitch_deg: float = 0.0,
) -> np.ndarray:
    """A perspective view (height, width, 3) uint8 of an equirectangular panorama.

    Args:
      heading_deg: view direction, degrees clockwise from the car's direction.
      size: (width, height) in pixels.
      fov_deg: horizontal field of view in degrees.
      pitch_deg: view elevation in degrees (positive up).
    """
    pano = np.asarray(panorama)
    ph, pw = pano.shape[:2]
    if pano.ndim != 3 or abs(pw - 2 * ph) > 1:
        raise GeovecError(f"a panorama must be equirectangular (2:1), got {pw}x{ph}")
    if not 0 < fov_deg < 180:
        raise GeovecError(f"field of view must be in (0, 180) degrees, got {fov_deg}")
    taps, weights = _sampling(ph, pw, float(heading_deg), tuple(size), float(fov_deg), pitch_deg)
    flat = pano.reshape(-1, pano.shape[2])
    out = np.zeros((taps.shape[1], pano.shape[2]), np.float32)
    for index, weight in zip(taps, weights):
        out += flat[index] * weight[:, None]
    width, height = size
    return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(height, width, pano.shape[2])


@functools.lru_cache(maxsize=4)
def _sampling(ph: int, pw: int, heading_deg: float, size, fov_deg: float, pitch_deg: float):
    """Flat indices (4, pixels) into a ph x pw panorama of the four pixels around each
    cutout pixel's ray, and their bilinear weights (4, pixels) float32; wraps around the
    360 degree seam. The same for every panorama of a size, so computed once."""
    width, height = size
    f = (width / 2) / np.tan(np.radians(fov_deg) / 2)
    u = np.arange(width) + 0.5 - width / 2
    v = height / 2 - (np.arange(height) + 0.5)
    u, v = np.meshgrid(u, v)
    # camera frame: x right, y up, z forward; rotate by pitch then heading
    x, y, z = u, v, np.full_like(u, f)
    p = np.radians(pitch_deg)
    y, z = y * np.cos(p) + z * np.sin(p), -y * np.sin(p) + z * np.cos(p)
    lon = np.radians(heading_deg) + np.arctan2(x, z)
    lat = np.arctan2(y, np.hypot(x, z))
    col = ((lon / (2 * np.pi) + 0.5) * pw - 0.5).ravel()
    row = ((0.5 - lat / np.pi) * ph - 0.5).ravel()
    r0, c0 = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
    fr, fc = (row - r0).astype(np.float32), (col - c0).astype(np.float32)
    rows = np.clip(r0, 0, ph - 1), np.clip(r0 + 1, 0, ph - 1)
    cols = c0 % pw, (c0 + 1) % pw
    taps = np.stack([rows[i] * pw + cols[j] for i in (0, 1) for j in (0, 1)]).astype(np.int32)
    weights = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc]).astype(
        np.float32
    )
    return taps, weights


def parse_headings(text: str) -> tuple[float, ...]:
    """ "-90,90" → (-90.0, 90.0): headings in degrees clockwise from the car's direction."""
    try:
        return tuple(float(h) for h in str(text).split(","))
    except ValueError:
        raise GeovecError(f"headings are degrees like -90,90, got {text!r}") from None


def parse_size(text: str) -> tuple[int, int]:
    """ "800x600" → (800, 600): width and height in pixels."""
    try:
        width, height = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise GeovecError(f"a size is WxH in pixels like 800x600, got {text!r}") from None
    if width < 1 or height < 1:
        raise GeovecError(f"a size needs positive width and height, got {text!r}")
    return width, height


def write_cutouts(
    panoramas: list[Path],
    out: Path,
    headings: tuple[float, ...] = SIDE_HEADINGS,
    size: tuple[int, int] = CUTOUT_SIZE,
    fov_deg: float = CUTOUT_FOV,
) -> list[Path]:
    """Cut every panorama at every heading; files named <stem>_h<heading>.jpg in ``out``."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in panoramas:
        pano = load_rgb(path)
        for heading in headings:
            target = out / f"{path.stem}_h{heading:+04.0f}.jpg"
            Image.fromarray(cutout(pano, heading, size, fov_deg)).save(target, quality=92)
            written.append(target)
    return written
