"""Batched, jit-compiled feature extraction: CNN layers of the networks, GIST, and added
ONNX encoders.

Features are named ``<network prefix>_<layer>`` (``places_fc7``, ``imagenet_prob``),
``gist``, or by an added ONNX encoder's name. One :class:`FeatureExtractor` computes any
set of them in one pass: images are prepared on the CPU (``prepare``, thread-safe, for
decode threads), then batches run through one jit-compiled function (``run``), so the
same code runs on a GPU when jax sees one; each ONNX encoder runs on the same batch in
onnxruntime (:mod:`geovec.encoders.runtime`).

Compile once: a batch is padded to the next of a few fixed sizes (powers of two up to the
batch size, :func:`padded_size`), each network's program returns all its feature layers
(any set of them is one program), and compiled programs are kept on disk between
processes (:mod:`geovec.compile_cache`), so a new batch size, the last partial batch or a
one-photo search compiles nothing once its size has been seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from geovec.compile_cache import enable as enable_compile_cache
from geovec.defaults import DEFAULT_BATCH_SIZE, __version__
from geovec.encoders.runtime import Encoder, load_encoder
from geovec.errors import GeovecError
from geovec.features.gist import IMAGE_SIZE, gist_batch, gist_input
from geovec.features.names import GIST, parse_features
from geovec.features.preprocess import caffe_crop
from geovec.nets.alexnet import FEATURE_LAYERS, INPUT_SIZE, compiler_options
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


def padded_size(rows: int, batch_size: int) -> int:
    """The batch shape that ``rows`` images (1 <= rows <= batch_size) run at: the next power
    of two, or ``batch_size`` itself above the largest power of two below it.

    >>> [padded_size(n, 48) for n in (1, 3, 17, 33, 48)]
    [1, 4, 32, 48, 48]
    """
    if not 1 <= rows <= batch_size:
        raise ValueError(f"rows must be within 1..{batch_size}, got {rows}")
    return min(batch_size, 1 << (rows - 1).bit_length())


def padded_sizes(batch_size: int) -> list[int]:
    """Every batch shape an extractor of ``batch_size`` compiles, smallest first."""
    return sorted({padded_size(n, batch_size) for n in range(1, batch_size + 1)})


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
      batch_size: images per forward pass; a smaller batch (the last one, a single
        photo) is padded to :func:`padded_size`; the rows of a padded batch are those of
        an unpadded one.
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
        self.compile_cache = enable_compile_cache()  # before jax compiles anything here
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
        self._forwards = {net: self._build_forward(net) for net in self.weights}

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

    def _build_forward(self, net: str):
        module = self.weights[net].net.model()

        def forward(params, mean, crops):
            # every feature layer: one program per network and batch shape, whatever
            # layers are asked for (and shared by every command that runs this network)
            _, blobs = run_network(module, params, crops - mean)
            return {layer: blobs[layer] for layer in FEATURE_LAYERS}

        return jax.jit(forward, compiler_options=compiler_options())  # CPU: off YNNPACK

    def prepare(self, rgb: np.ndarray) -> PreparedImage:
        """CPU preprocessing of one (H, W, 3) uint8 RGB image; safe to call from threads."""
        return prepare_image(
            rgb,
            crop=self.needs_crop,
            gist=self.needs_gist,
            encoders=tuple(self.encoders.values()),
        )

    def _inputs(self, rows: int):
        crops = greys = None
        if self.needs_crop:
            crops = np.zeros((rows, INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        if self.needs_gist:
            greys = np.zeros((rows, IMAGE_SIZE, IMAGE_SIZE), np.float32)
        return crops, greys

    def warm(self, sizes: Iterable[int] | None = None) -> list[int]:
        """Compile the network's programs for these batch shapes (default: 1 and
        ``batch_size``) without running them; with the compilation cache on, later
        processes load them instead of compiling. Returns the shapes compiled."""
        if not (self.needs_crop or self.needs_gist):
            return []
        sizes = sorted(
            {
                padded_size(min(max(1, n), self.batch_size), self.batch_size)
                for n in (sizes or (1, self.batch_size))
            }
        )
        for rows in sizes:
            crops, greys = self._inputs(rows)
            for net, forward in self._forwards.items():
                forward.lower(*self._params[net], crops).compile()
            if greys is not None:
                gist_batch.lower(greys).compile()
        return sizes

    def run(self, prepared: Sequence[PreparedImage]) -> dict[str, np.ndarray]:
        """Features of prepared images, in chunks of ``batch_size`` (a smaller chunk padded
        to :func:`padded_size`)."""
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
        crops, greys = self._inputs(padded_size(len(chunk), self.batch_size))
        if crops is not None:
            crops[: len(chunk)] = [p.crop for p in chunk]
        if greys is not None:
            greys[: len(chunk)] = [p.grey for p in chunk]
        # dispatched together (jax runs them asynchronously), then read
        blobs = {net: forward(*self._params[net], crops) for net, forward in self._forwards.items()}
        grey = gist_batch(greys) if greys is not None else None
        for spec in self.specs:
            if spec.net is not None:
                out[spec.name] = np.asarray(blobs[spec.net][spec.layer])
        if grey is not None:
            out[GIST] = np.asarray(grey)
        return out

    def extract(self, images: Iterable[np.ndarray]) -> dict[str, np.ndarray]:
        """Features of RGB images (each (H, W, 3) uint8): {feature name: (N, dim) float32}."""
        return self.run([self.prepare(img) for img in images])


def warm_network(
    net: str, path: str | Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> tuple[Path | None, list[int]]:
    """Compile ``net``'s program for batches of 1 (a search, a localize) and
    ``batch_size`` (ingest) into the compilation cache, so that the first command need
    not. Returns the cache folder and the batch shapes compiled (nothing where the cache
    is off: a compiled program would not outlive this process)."""
    folder = enable_compile_cache()
    if folder is None:
        return None, []
    weights = load_weights(net, path)
    feature = f"{weights.net.feature_prefix}_fc8"
    extractor = FeatureExtractor([feature], batch_size=batch_size, weights={net: weights})
    return folder, extractor.warm()
