"""The GIST descriptor of Oliva & Torralba (2001), as their LMgist.m computes it.

Greyscale (mean of R, G, B), resized (aspect kept) and centre-cropped to 256x256, scaled
to 0-255, prefiltered (log, whitening and local contrast normalisation, fc = 4 cycles per
image), filtered by a Gabor bank of 4 scales x 8 orientations in the frequency domain
(32-pixel symmetric boundary extension), and the filter magnitudes averaged over a 4x4
grid: 4 x 8 x 16 = 512 values, in LMgist's order (filter, then grid column, then row).
Batched and jit-compiled in JAX; runs on the GPU when there is one.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

IMAGE_SIZE = 256
"""Side in pixels of the square image GIST describes."""
ORIENTATIONS_PER_SCALE = (8, 8, 8, 8)
NUMBER_BLOCKS = 4
FC_PREFILT = 4.0
BOUNDARY_EXTENSION = 32
PREFILT_PAD = 5
GIST_DIM = sum(ORIENTATIONS_PER_SCALE) * NUMBER_BLOCKS**2
"""Length of the descriptor: 512."""


def gist_input(rgb: np.ndarray) -> np.ndarray:
    """LMgist's input image: (256, 256) float32 greyscale, stretched to 0-255.

    Resized with Pillow's bilinear filter (which, like MATLAB's imresize, antialiases when
    shrinking) so the shorter side is 256, then centre-cropped.
    """
    grey = np.asarray(rgb, dtype=np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    h, w = grey.shape
    scale = IMAGE_SIZE / min(h, w)
    new_w, new_h = max(IMAGE_SIZE, round(w * scale)), max(IMAGE_SIZE, round(h * scale))
    resized = np.asarray(Image.fromarray(grey, mode="F").resize((new_w, new_h), Image.BILINEAR))
    top, left = (new_h - IMAGE_SIZE) // 2, (new_w - IMAGE_SIZE) // 2
    img = resized[top : top + IMAGE_SIZE, left : left + IMAGE_SIZE].astype(np.float32)
    img = img - img.min()
    peak = img.max()
    return img * np.float32(255.0 / peak) if peak > 0 else img


def _centred_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(-n // 2, n // 2), np.arange(-n // 2, n // 2))


@functools.cache
def gabor_bank(n: int = IMAGE_SIZE + 2 * BOUNDARY_EXTENSION) -> np.ndarray:
    """LMgist's createGabor transfer functions, (filters, n, n) float32, DC at [0, 0]."""
    fx, fy = _centred_grid(n)
    fr = np.fft.fftshift(np.sqrt(fx**2.0 + fy**2.0))
    theta = np.fft.fftshift(np.angle(fx + 1j * fy))
    filters = []
    for scale, orientations in enumerate(ORIENTATIONS_PER_SCALE):
        for j in range(orientations):
            p1, p2 = 0.35, 0.3 / 1.85**scale
            p3, p4 = 16 * orientations**2 / 32**2, np.pi / orientations * j
            tr = theta + p4
            tr = tr + 2 * np.pi * (tr < -np.pi) - 2 * np.pi * (tr > np.pi)
            filters.append(np.exp(-10 * p1 * (fr / n / p2 - 1) ** 2 - 2 * p3 * np.pi * tr**2))
    return np.stack(filters).astype(np.float32)


@functools.cache
def _prefilter_gaussian(n: int) -> np.ndarray:
    s1 = FC_PREFILT / np.sqrt(np.log(2))
    fx, fy = _centred_grid(n)
    return np.fft.fftshift(np.exp(-(fx**2.0 + fy**2.0) / s1**2)).astype(np.float32)


def _prefilter(img: jax.Array) -> jax.Array:
    """LMgist's prefilt: log, whitening, local contrast normalisation; (B, 256, 256)."""
    w = PREFILT_PAD
    x = jnp.log(img + 1.0)
    x = jnp.pad(x, ((0, 0), (w, w), (w, w)), mode="symmetric")
    n = x.shape[-1] + x.shape[-1] % 2
    x = jnp.pad(x, ((0, 0), (0, n - x.shape[-2]), (0, n - x.shape[-1])), mode="symmetric")
    gf = jnp.asarray(_prefilter_gaussian(n))
    out = x - jnp.real(jnp.fft.ifft2(jnp.fft.fft2(x) * gf))
    local_std = jnp.sqrt(jnp.abs(jnp.fft.ifft2(jnp.fft.fft2(out**2) * gf)))
    out = out / (0.2 + local_std)
    return out[:, w : w + img.shape[-2], w : w + img.shape[-1]]


def _gabor_energy(img: jax.Array, bank: jax.Array) -> jax.Array:
    """One prefiltered image (256, 256) -> its 512 values."""
    be = BOUNDARY_EXTENSION
    spectrum = jnp.fft.fft2(jnp.pad(img, be, mode="symmetric"))
    mag = jnp.abs(jnp.fft.ifft2(spectrum[None] * bank))[:, be:-be, be:-be]
    f, h, w = mag.shape
    b = NUMBER_BLOCKS
    blocks = mag.reshape(f, b, h // b, b, w // b).mean(axis=(2, 4))  # (filter, row, col)
    return blocks.transpose(0, 2, 1).reshape(-1)  # MATLAB column-major: rows vary fastest


@jax.jit
def gist_batch(images: jax.Array) -> jax.Array:
    """GIST of a batch of ``gist_input`` images: (B, 256, 256) -> (B, 512) float32."""
    bank = jnp.asarray(gabor_bank())
    pre = _prefilter(images.astype(jnp.float32))
    return jax.lax.map(lambda im: _gabor_energy(im, bank), pre)


def gist(rgb: np.ndarray) -> np.ndarray:
    """GIST of one RGB (or greyscale) image: (512,) float32."""
    return np.asarray(gist_batch(gist_input(rgb)[None]))[0]
