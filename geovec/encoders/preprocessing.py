"""The preprocessing of an ONNX encoder's input, stated exactly and applied to one image.

From an (H, W, 3) uint8 RGB image to the model's (3, S, S) float32 input:

1. resize with Pillow's bilinear filter (``Image.BILINEAR``, which Pillow antialiases when
   it shrinks): ``crop="none"`` resizes the whole image to S x S; ``crop="centre"`` resizes
   the shorter side to S (the longer one to ``int(S * longer / shorter)``) and cuts the
   centre S x S square at offsets ``round((side - S) / 2)`` (the pixels of torchvision's
   ``Resize(S)`` then ``CenterCrop(S)`` on a Pillow image);
2. float32, divided by 255 when ``scale=1`` (values 0-1), kept 0-255 when ``scale=255``;
3. minus ``mean``, divided by ``std`` (both given for R, G, B);
4. channels reordered to B, G, R when ``channels="bgr"``;
5. channels first (C, H, W); a batch stacks them (N, C, H, W).

>>> prep = Preprocessing(size=4)
>>> encoder_input(np.full((6, 9, 3), 255, np.uint8), prep)[:, 0, 0].round(4)  # (1 - mean) / std
array([2.2489, 2.4286, 2.64  ], dtype=float32)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from geovec.errors import EncoderError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
"""Default mean (R, G, B, 0-1 scale): ImageNet's, as torchvision, timm and DINOv2 use it."""

IMAGENET_STD = (0.229, 0.224, 0.225)
"""Default standard deviation (R, G, B, 0-1 scale), ImageNet's."""

DEFAULT_SIZE = 224
"""Input side in pixels for a model whose input height and width are not fixed."""

SCALES = (1, 255)
CHANNELS = ("rgb", "bgr")
CROPS = ("none", "centre")


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How an image becomes an encoder's input: side ``size`` in pixels, ``scale`` 1 (0-1)
    or 255 (0-255), ``mean`` and ``std`` per R, G, B channel on that scale, ``channels``
    "rgb" or "bgr", ``crop`` "none" (resize the whole image) or "centre"."""

    size: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    scale: int = 1
    channels: str = "rgb"
    crop: str = "none"

    def __post_init__(self):
        if not isinstance(self.size, int) or self.size < 1:
            raise EncoderError(f"size must be a positive number of pixels, got {self.size!r}")
        if self.scale not in SCALES:
            raise EncoderError(f"scale must be 1 (0-1 values) or 255 (0-255), got {self.scale}")
        if self.channels not in CHANNELS:
            raise EncoderError(f"channels must be rgb or bgr, got {self.channels!r}")
        if self.crop not in CROPS:
            raise EncoderError(f"crop must be centre or none, got {self.crop!r}")
        for what, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != 3 or not all(np.isfinite(v) for v in values):
                raise EncoderError(f"{what} must be three finite numbers R,G,B, got {values}")
        if min(self.std) <= 0:
            raise EncoderError(f"std must be positive, got {self.std}")

    def describe(self) -> str:
        """The exact preprocessing, in words (stored with every feature column it makes)."""
        s = self.size
        if self.crop == "centre":
            resize = (
                f"Pillow bilinear resize of the shorter side to {s} (longer side "
                f"int({s} * longer / shorter)), centre crop {s}x{s} at round((side - {s}) / 2)"
            )
        else:
            resize = f"Pillow bilinear resize of the whole image to {s}x{s}"
        scale = "0-1 (pixel / 255)" if self.scale == 1 else "0-255"
        order = "BGR" if self.channels == "bgr" else "RGB"
        return (
            f"{resize}, {scale}, minus mean {_triple(self.mean)}, divided by std "
            f"{_triple(self.std)} (R,G,B), channels {order}, NCHW float32"
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, facts: dict) -> Preprocessing:
        return cls(
            size=int(facts["size"]),
            mean=tuple(float(v) for v in facts["mean"]),
            std=tuple(float(v) for v in facts["std"]),
            scale=int(facts["scale"]),
            channels=str(facts["channels"]),
            crop=str(facts["crop"]),
        )


def _triple(values) -> str:
    return ",".join(f"{v:g}" for v in values)


def default_mean_std(scale: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """ImageNet's mean and std on the given scale (1: 0-1 values, 255: 0-255)."""
    factor = 255.0 if scale == 255 else 1.0
    return (
        tuple(round(v * factor, 6) for v in IMAGENET_MEAN),
        tuple(round(v * factor, 6) for v in IMAGENET_STD),
    )


def parse_triple(text: str, what: str) -> tuple[float, float, float]:
    """ "R,G,B" as three floats; an EncoderError naming ``what`` otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise EncoderError(f"{what} must be three numbers R,G,B, got {text!r}") from None
    if len(values) != 3:
        raise EncoderError(f"{what} must be three numbers R,G,B, got {text!r}")
    return values  # type: ignore[return-value]


def _resized(img: Image.Image, prep: Preprocessing) -> Image.Image:
    s = prep.size
    if prep.crop == "none":
        return img.resize((s, s), Image.BILINEAR)
    width, height = img.size
    if width <= height:
        new_w, new_h = s, int(s * height / width)
    else:
        new_w, new_h = int(s * width / height), s
    img = img.resize((new_w, new_h), Image.BILINEAR)
    left, top = int(round((new_w - s) / 2.0)), int(round((new_h - s) / 2.0))
    return img.crop((left, top, left + s, top + s))


def encoder_input(rgb: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """One (H, W, 3) uint8 RGB image as the encoder's (3, S, S) float32 input.

    Raises:
      ValueError: not an (H, W, 3) image (ingest records it as a preprocess failure).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        rgb = np.clip(np.round(rgb.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    x = np.asarray(_resized(Image.fromarray(rgb, "RGB"), prep), dtype=np.float32)
    if prep.scale == 1:
        x = x / np.float32(255.0)
    x = (x - np.asarray(prep.mean, np.float32)) / np.asarray(prep.std, np.float32)
    if prep.channels == "bgr":
        x = x[:, :, ::-1]
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)
