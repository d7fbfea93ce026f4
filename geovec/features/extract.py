"""Batched, jit-compiled feature extraction: CNN layers of the networks, GIST, and added
ONNX encoders.

Features are named ``<network prefix>_<layer>`` (``places_fc7``, ``imagenet_prob``),
``gist``, or by an added ONNX encoder's name. One :class:`FeatureExtractor` computes any
set of them in one pass: images are prepared on the CPU (``prepare``, thread-safe, for
decode threads), then batches of a fixed shape run through one jit-compiled function
(``run``), so XLA compiles once and the same code runs on a GPU when jax sees one; each
ONNX encoder runs on the same batch in onnxruntime (:mod:`geovec.encoders.runtime`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from geovec.defaults import DEFAULT_BATCH_SIZE, __version__
from geovec.encoders.runtime import Encoder, load_encoder
from geovec.errors import GeovecError
from geovec.features.gist import IMAGE_SIZE, gist_batch, gist_input
from geovec.features.names import GIST, parse_features
from geovec.features.preprocess import caffe_crop
from geovec.nets.alexnet import INPUT_SIZE
from geovec.nets.alexnet import run as run_network
from geovec.nets.weights import LoadedWeights, load_weights

CNN_PREPROCESSING = (
    "caffe classifier: RGB resized to 256x256 bilinear, centre crop 227x227, 0-255, BGR, "
    "minus per-channel mean"
)
GIST_PREPROCESSING = (
    "LMgist: grey, shorter side 256 + centre crop, 0-255, prefilter fc=4, Gabor 4 scales x 8 "
    "orientations, 4x4 blocks"
)


@dataclasses.dataclass
class PreparedImage:
    """An image made ready for the extractor: the CNN crop, the GIST input and/or each
    ONNX encoder's input."""

    crop: np.ndarray | None  # (227, 227, 3) float32 BGR 0-255, mean not subtracted
    grey: np.ndarray | None  # (256, 256) float32 0-255
    encoded: dict[str, np.ndarray] | None = None  # encoder name -> (3, S, S) float32


def prepare_image(
    rgb: np.ndarray, *, crop: bool, gist: bool, encoders: Sequence[Encoder] = ()
) -> PreparedImage:
    """CPU preprocessing of one (H, W, 3) uint8 RGB image: the CNN crop, the GIST input
    and each encoder's input. Needs no weights, so it runs where the images are
    (threads, Ray tasks)."""
    return PreparedImage(
        crop=caffe_crop(rgb) if crop else None,
        grey=gist_input(rgb) if gist else None,
        encoded={e.name: e.prepare(rgb) for e in encoders} if encoders else None,
    )


class FeatureExtractor:
    """Computes a fixed set of features for batches of RGB images.

    >>> ex = FeatureExtractor(["gist"], batch_size=4)
    >>> ex.extract([np.zeros((64, 96, 3), np.uint8)])["gist"].shape
    (1, 512)

    Args:
      features: names like ``places_fc7``, ``imagenet_fc8``, ``gist`` or an added ONNX
        encoder's name.
      batch_size: images per forward pass; the last batch is padded to this size.
      weights: already loaded weights by network name (default: from the weights dir).

    Raises:
      WeightsNotFoundError: a CNN feature is asked for without converted weights; raised
        here, before any image is read.
      EncoderError: an ONNX encoder's model file is gone, changed or unloadable.
    """

    def __init__(
        self,
        features: str | Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        weights: dict[str, LoadedWeights] | None = None,
    ):
        if batch_size < 1:
            raise GeovecError(f"batch size must be at least 1, got {batch_size}")
        self.specs = parse_features(features)
        self.batch_size = batch_size
        nets = sorted({s.net for s in self.specs if s.net})
        weights = dict(weights or {})
        for net in nets:
            if net not in weights:
                weights[net] = load_weights(net)
        self.weights = {net: weights[net] for net in nets}
        self.needs_crop = bool(nets)
        self.needs_gist = any(s.name == GIST for s in self.specs)
        self.encoders = {s.name: load_encoder(s.name) for s in self.specs if s.encoder}
        self._params = {
            net: (jax.device_put(w.params), jnp.asarray(w.mean_bgr))
            for net, w in self.weights.items()
        }
        self._forward = jax.jit(self._build_forward())

    @property
    def features(self) -> list[str]:
        """Names of the features this extractor computes, in order."""
        return [s.name for s in self.specs]

    def provenance(self, feature: str) -> dict[str, str]:
        """How ``feature`` is computed: geovec version, weights file, its source's sha256,
        mean and preprocessing (stored in the feature column's metadata)."""
        spec = next((s for s in self.specs if s.name == feature), None)
        if spec is None:
            raise GeovecError(f"this extractor does not compute {feature!r}")
        if spec.encoder:
            return self.encoders[spec.name].provenance()
        out = {"geovec_version": __version__}
        if spec.net is None:
            out["preprocessing"] = GIST_PREPROCESSING
            return out
        w = self.weights[spec.net]
        out.update(
            network=spec.net,
            layer=spec.layer,
            weights=str(w.path),
            source_file=w.metadata.get("source_file", ""),
            source_sha256=w.metadata.get("source_sha256", ""),
            mean_bgr=",".join(f"{v:.4f}" for v in w.mean_bgr),
            preprocessing=CNN_PREPROCESSING,
        )
        return out

    def _build_forward(self):
        modules = {net: w.net.model() for net, w in self.weights.items()}
        wanted = [(s.name, s.net, s.layer) for s in self.specs]

        def forward(params, crops, greys):
            out = {}
            for net, module in modules.items():
                net_params, mean = params[net]
                _, blobs = run_network(module, net_params, crops - mean)
                for name, spec_net, layer in wanted:
                    if spec_net == net:
                        out[name] = blobs[layer]
            if greys is not None:
                out[GIST] = gist_batch(greys)
            return out

        return forward

    def prepare(self, rgb: np.ndarray) -> PreparedImage:
        """CPU preprocessing of one (H, W, 3) uint8 RGB image; safe to call from threads."""
        return prepare_image(
            rgb,
            crop=self.needs_crop,
            gist=self.needs_gist,
            encoders=tuple(self.encoders.values()),
        )

    def run(self, prepared: Sequence[PreparedImage]) -> dict[str, np.ndarray]:
        """Features of prepared images, in chunks of ``batch_size`` (last chunk padded)."""
        results: dict[str, list[np.ndarray]] = {s.name: [] for s in self.specs}
        for start in range(0, len(prepared), self.batch_size):
            chunk = prepared[start : start + self.batch_size]
            out = self._run_fixed(chunk)
            for name in results:
                results[name].append(out[name][: len(chunk)])
        return {
            s.name: np.concatenate(results[s.name])
            if results[s.name]
            else np.zeros((0, s.dim), np.float32)
            for s in self.specs
        }

    def _run_fixed(self, chunk: Sequence[PreparedImage]) -> dict[str, np.ndarray]:
        out = {
            name: encoder.run(np.stack([p.encoded[name] for p in chunk]))
            for name, encoder in self.encoders.items()
        }
        if not (self.needs_crop or self.needs_gist):
            return out
        crops = greys = None
        if self.needs_crop:
            crops = np.zeros((self.batch_size, INPUT_SIZE, INPUT_SIZE, 3), np.float32)
            crops[: len(chunk)] = [p.crop for p in chunk]
        if self.needs_gist:
            greys = np.zeros((self.batch_size, IMAGE_SIZE, IMAGE_SIZE), np.float32)
            greys[: len(chunk)] = [p.grey for p in chunk]
        values = self._forward(self._params, crops, greys)
        return {**out, **{name: np.asarray(value) for name, value in values.items()}}

    def extract(self, images: Iterable[np.ndarray]) -> dict[str, np.ndarray]:
        """Features of RGB images (each (H, W, 3) uint8): {feature name: (N, dim) float32}."""
        return self.run([self.prepare(img) for img in images])
