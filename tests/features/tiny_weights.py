"""Converted weights of a network with TinyAlexNet's shapes in place of the real ones, so
FeatureExtractor runs a CNN in a fraction of a second (fc6/fc7 have 16 values)."""

from __future__ import annotations

import dataclasses

import numpy as np

from geovec.nets.alexnet import TinyAlexNet, param_shapes
from geovec.nets.registry import NetworkInfo, network
from geovec.nets.weights import LoadedWeights


@dataclasses.dataclass(frozen=True)
class TinyInfo(NetworkInfo):
    def model(self):
        return TinyAlexNet(num_classes=self.num_classes, norm_before_pool=self.norm_before_pool)


def tiny_weights(net: str = "caffenet", seed: int = 0) -> LoadedWeights:
    """Random TinyAlexNet weights standing in for ``net``'s (7 classes)."""
    info = network(net)
    fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(NetworkInfo)}
    tiny = TinyInfo(**{**fields, "num_classes": 7})
    rng = np.random.default_rng(seed)  # numpy, not flax's init: nothing to compile
    params = {
        layer: {
            name: (rng.standard_normal(shape) * np.sqrt(2 / np.prod(shape[:-1]))).astype(np.float32)
            if name == "kernel"
            else np.full(shape, 0.1, np.float32)
            for name, shape in shapes.items()
        }
        for layer, shapes in param_shapes(TinyAlexNet(num_classes=7)).items()
    }
    mean = np.array([104.0, 117.0, 123.0], np.float32)
    return LoadedWeights(tiny, params, mean, None, {}, None)
