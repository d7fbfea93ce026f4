"""Map decoded Caffe layers onto the Flax AlexNet's parameters, strictly.

Caffe keeps convolution weights as (out, in/groups, kh, kw) and inner-product weights as
(out, in), with fc6's input being pool5 flattened in (C, H, W) order. The Flax network is
NHWC, so conv kernels become (kh, kw, in/groups, out) and fc6's rows are permuted to
(H, W, C) order; the outputs are then the same numbers. Every layer is checked against
the architecture: a missing, extra-shaped or wrongly sized blob fails loudly.
"""

from __future__ import annotations

import math

import numpy as np

from geovec.errors import ArchitectureMismatchError
from geovec.nets.alexnet import AlexNet, param_shapes, pool5_shape
from geovec.nets.caffe import CaffeLayer

CONV_LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5")
FC_LAYERS = ("fc6", "fc7", "fc8")


def _squeeze_legacy(blob: np.ndarray, ndim: int) -> np.ndarray:
    """Drop the leading 1s that legacy 4-d blob headers add (e.g. fc weights (1,1,out,in))."""
    while blob.ndim > ndim and blob.shape[0] == 1:
        blob = blob[0]
    return blob


def _layer_blobs(layers: list[CaffeLayer], name: str) -> tuple[np.ndarray, np.ndarray]:
    found = [layer for layer in layers if layer.name == name and layer.blobs]
    if not found:
        raise ArchitectureMismatchError(
            f"layer {name!r} with weights is missing from the caffemodel"
        )
    layer = found[0]
    if len(layer.blobs) != 2:
        raise ArchitectureMismatchError(
            f"layer {name!r} has {len(layer.blobs)} blobs; expected weights and bias"
        )
    return layer.blobs[0], layer.blobs[1]


def _check(name: str, what: str, got: tuple, want: tuple) -> None:
    if tuple(got) != tuple(want):
        raise ArchitectureMismatchError(
            f"{name} {what} has shape {tuple(got)}, the architecture needs {tuple(want)}"
        )


def caffe_to_flax(layers: list[CaffeLayer], model: AlexNet) -> dict[str, dict[str, np.ndarray]]:
    """Convert decoded caffemodel layers into the Flax parameter tree of ``model``.

    Raises:
      ArchitectureMismatchError: a layer is missing or a blob's shape does not fit.
    """
    expected = param_shapes(model)
    params: dict[str, dict[str, np.ndarray]] = {}
    for name in CONV_LAYERS:
        weight, bias = _layer_blobs(layers, name)
        kh, kw, cin, cout = expected[name]["kernel"]
        weight = _squeeze_legacy(weight, 4)
        _check(name, "weights", weight.shape, (cout, cin, kh, kw))
        bias = bias.reshape(-1) if bias.size == cout else bias
        _check(name, "bias", bias.shape, (cout,))
        params[name] = {"kernel": weight.transpose(2, 3, 1, 0), "bias": bias}

    h, w, c = pool5_shape(model)
    for name in FC_LAYERS:
        weight, bias = _layer_blobs(layers, name)
        fan_in, out = expected[name]["kernel"]
        weight = _squeeze_legacy(weight, 2)
        if weight.ndim == 4 and name == "fc6":  # some writers keep (out, C, H, W)
            weight = weight.reshape(weight.shape[0], -1)
        _check(name, "weights", weight.shape, (out, fan_in))
        bias = bias.reshape(-1) if bias.size == out else bias
        _check(name, "bias", bias.shape, (out,))
        if name == "fc6":
            assert math.prod((h, w, c)) == fan_in
            weight = weight.reshape(out, c, h, w).transpose(0, 2, 3, 1).reshape(out, fan_in)
        params[name] = {"kernel": weight.T, "bias": bias}
    return {
        layer: {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in blobs.items()}
        for layer, blobs in params.items()
    }


def check_params(params: dict, model: AlexNet) -> None:
    """Fail unless ``params`` has exactly the layers and shapes ``model`` needs."""
    expected = param_shapes(model)
    if set(params) != set(expected):
        missing, extra = sorted(set(expected) - set(params)), sorted(set(params) - set(expected))
        raise ArchitectureMismatchError(
            f"parameter layers differ: missing {missing}, extra {extra}"
        )
    for layer, shapes in expected.items():
        if set(params[layer]) != set(shapes):
            raise ArchitectureMismatchError(f"{layer} has parameters {sorted(params[layer])}")
        for key, shape in shapes.items():
            _check(layer, key, params[layer][key].shape, shape)
