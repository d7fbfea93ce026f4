"""Image preprocessing exactly as Caffe's Python classifier does it, and for GIST.

CNN input (caffe.Classifier with caffe.io.Transformer): RGB as float, resized to 256x256
(bilinear, no aspect preservation), centre crop 227x227 (offset 14), scaled to 0-255,
channels swapped to BGR. The network subtracts its own per-channel mean, so one crop
serves both networks.
"""

from __future__ import annotations

import numpy as np

RESIZE = 256
"""Side in pixels that images are resized to before the centre crop."""

CROP = 227
"""Side in pixels of the centre crop that the network sees."""


def _axis_weights(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of 1-d linear interpolation with half-pixel centres."""
    src = (np.arange(size_out, dtype=np.float64) + 0.5) * (size_in / size_out) - 0.5
    src = np.clip(src, 0, size_in - 1)
    lo = np.floor(src).astype(np.intp)
    hi = np.minimum(lo + 1, size_in - 1)
    return lo, hi, (src - lo).astype(np.float32)


def bilinear_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an (H, W) or (H, W, C) array with bilinear interpolation, no antialiasing.

    Pixel centres are aligned (as skimage.transform.resize(order=1), which
    caffe.io.resize_image uses); samples beyond the border clamp to the edge pixel.
    Returns float32.
    """
    return _bilinear_window(image, height, width, slice(None), slice(None))


def _bilinear_window(
    image: np.ndarray, height: int, width: int, rows: slice, cols: slice
) -> np.ndarray:
    """``bilinear_resize(image, height, width)[rows, cols]``, computing only that window
    (the same float32 operations on the same values, so the same numbers)."""
    image = np.asarray(image)
    r0, r1, rw = (a[rows] for a in _axis_weights(image.shape[0], height))
    c0, c1, cw = (a[cols] for a in _axis_weights(image.shape[1], width))
    shape = (-1,) + (1,) * (image.ndim - 1)
    rw = rw.reshape(shape)
    top = image[r0].astype(np.float32, copy=False)  # only the rows used, then as float32
    bottom = image[r1].astype(np.float32, copy=False)
    blended = top * (1 - rw) + bottom * rw
    cw = cw.reshape((1, -1) + (1,) * (image.ndim - 2))
    return blended[:, c0] * (1 - cw) + blended[:, c1] * cw


def caffe_crop(rgb: np.ndarray) -> np.ndarray:
    """Caffe classifier input without the mean: (227, 227, 3) float32, BGR, 0-255.

    Args:
      rgb: (H, W, 3) uint8 RGB pixels (0-255), or float RGB in [0, 1].
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    scale = 1.0 if rgb.dtype == np.uint8 else 255.0
    offset = int(RESIZE / 2.0 - CROP / 2.0)  # Caffe: int(128 - 113.5) = 14
    window = slice(offset, offset + CROP)  # of the 256 x 256 resize, computed alone
    crop = _bilinear_window(rgb, RESIZE, RESIZE, window, window)
    return np.ascontiguousarray(crop[:, :, ::-1] * np.float32(scale))
