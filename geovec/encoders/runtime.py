"""An added ONNX encoder, loaded: its input prepared per image, its model run per batch.

The model file is checked against its record before it is used (size and modification
time; where either changed, its sha256), so features are never computed by a model other
than the one whose sha256 their column records. A model with a fixed batch size runs on
chunks of that size, the last one padded with zeros; a dynamic one on the batch as given.
"""

from __future__ import annotations

import numpy as np

from geovec.defaults import __version__
from geovec.encoders.model import onnxruntime, open_session
from geovec.encoders.preprocessing import encoder_input
from geovec.encoders.registry import EncoderInfo, encoder_info, sha256_of
from geovec.errors import EncoderError


def verify_file(info: EncoderInfo) -> None:
    """Fail unless the encoder's model file is the one that was added."""
    path = info.path
    if not path.is_file():
        raise EncoderError(
            f"the model file of encoder {info.name!r} is gone ({path}); add it again with "
            f"geovec weights add-onnx MODEL.onnx --name {info.name}"
        )
    if path.stat().st_size != info.size_bytes or sha256_of(path) != info.sha256:
        raise EncoderError(
            f"{path} changed since it was added as encoder {info.name!r} (its sha256 is no "
            f"longer {info.sha256[:16]}...); add the model again under a new --name"
        )


class Encoder:
    """One added ONNX encoder, ready to run.

    Args:
      info: its record (:func:`~geovec.encoders.registry.encoder_info`).

    Raises:
      EncoderError: the model file is gone or changed, or onnxruntime cannot load it.
    """

    def __init__(self, info: EncoderInfo):
        verify_file(info)
        self.info = info
        self.session = open_session(info.path)
        self.provider = self.session.get_providers()[0]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def dim(self) -> int:
        return self.info.dim

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """One (H, W, 3) uint8 RGB image as this model's (3, S, S) float32 input."""
        return encoder_input(rgb, self.info.preprocessing)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Features of an (N, 3, S, S) float32 batch of prepared images: (N, dim) float32."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if len(batch) == 0:
            return np.zeros((0, self.dim), np.float32)
        fixed = self.info.facts.batch
        if fixed is None:
            return self._call(batch)
        out = []
        for start in range(0, len(batch), fixed):
            chunk = batch[start : start + fixed]
            if len(chunk) < fixed:
                padded = np.zeros((fixed, *chunk.shape[1:]), np.float32)
                padded[: len(chunk)] = chunk
                out.append(self._call(padded)[: len(chunk)])
            else:
                out.append(self._call(chunk))
        return np.concatenate(out)

    def _call(self, batch: np.ndarray) -> np.ndarray:
        facts = self.info.facts
        (value,) = self.session.run([facts.output], {facts.input: batch})
        value = np.asarray(value, dtype=np.float32)
        if value.shape != (len(batch), self.dim):
            raise EncoderError(
                f"encoder {self.name!r} gave {list(value.shape)} for a batch of {len(batch)}; "
                f"expected [{len(batch)}, {self.dim}]"
            )
        return value

    def provenance(self) -> dict[str, str]:
        """How this encoder's feature is computed (stored in the column's metadata)."""
        info = self.info
        return {
            "geovec_version": __version__,
            "network": "onnx",
            "encoder": info.name,
            "weights": str(info.path),
            "source_file": info.source_file,
            "source_sha256": info.sha256,
            "input": info.facts.input,
            "output": info.facts.output,
            "batch": "dynamic" if info.facts.batch is None else str(info.facts.batch),
            "preprocessing": info.preprocessing.describe(),
            "runtime": f"onnxruntime {onnxruntime().__version__} ({self.provider})",
        }


def load_encoder(name: str) -> Encoder:
    """The added encoder ``name``, loaded (see :class:`Encoder`)."""
    return Encoder(encoder_info(name))
