"""Decode any image file Pillow reads into an upright uint8 RGB array.

EXIF orientation is applied; every mode becomes RGB correctly (CMYK through Pillow's
conversion, 16-bit greyscale rescaled from its 0-65535 range, palette and alpha images
composited on white); decompression bombs are refused. Every problem raises
:class:`~geovec.errors.ImageDecodeError` with a short reason.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from geovec.errors import ImageDecodeError

MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
"""Larger images are refused as decompression bombs (Pillow's limit, as an error)."""

# load_rgb refuses such images itself, before decoding; Pillow's warning would be noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _to_rgb(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        grey = np.clip(np.asarray(img, dtype=np.float64), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if mode in ("RGBA", "LA", "PA") or img.mode == "RGBA":
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def load_rgb(
    path: str | Path, max_pixels: int = MAX_PIXELS, draft: tuple[int, int] | None = None
) -> np.ndarray:
    """Read ``path`` as an (H, W, 3) uint8 RGB array, upright per its EXIF orientation.

    ``draft`` (width, height in pixels): a JPEG is decoded at the smallest scale of 1/2,
    1/4 or 1/8 that is still at least this large (Pillow's ``Image.draft``: faster for
    large photos, but the pixels are the JPEG decoder's reduction, not the full image
    resized as Caffe does); other formats and smaller JPEGs are decoded in full.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageDecodeError("is a directory")
    try:
        if path.stat().st_size == 0:
            raise ImageDecodeError("empty file")
    except FileNotFoundError:
        raise ImageDecodeError("file not found") from None
    try:
        with Image.open(path) as img:  # reads the header only
            if img.width * img.height > max_pixels:
                raise ImageDecodeError(
                    f"decompression bomb refused ({img.width}x{img.height} pixels)"
                )
            img.seek(0)  # first frame of a GIF or multi-page TIFF
            if draft is not None and img.format == "JPEG":
                img.draft(None, draft)
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb(img)
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"decompression bomb refused ({exc})") from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageDecodeError(f"corrupt or truncated image ({exc})") from None
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ImageDecodeError(f"image too small ({rgb.shape[1]}x{rgb.shape[0]} pixels)")
    return rgb
