"""Small ONNX image encoders written with the ``onnx`` package, and a numpy reference of
the same graph, for tests only.

The encoder: Conv (3 -> 4 channels, 3x3, stride 2, pad 1) -> Relu -> GlobalAveragePool ->
Flatten -> Gemm (4 -> dim), fixed random weights. Variants: a dynamic or fixed batch,
a fixed or free side, a second output, a wrong input rank, two inputs, a uint8 input, an
output left 4-D.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8


@dataclasses.dataclass
class Weights:
    conv_w: np.ndarray  # (4, 3, 3, 3)
    conv_b: np.ndarray  # (4,)
    fc_w: np.ndarray  # (dim, 4)
    fc_b: np.ndarray  # (dim,)


def random_weights(dim: int = 5, seed: int = 0) -> Weights:
    rng = np.random.default_rng(seed)
    return Weights(
        conv_w=rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
        conv_b=rng.normal(0, 0.1, 4).astype(np.float32),
        fc_w=rng.normal(0, 1.0, (dim, 4)).astype(np.float32),
        fc_b=rng.normal(0, 0.1, dim).astype(np.float32),
    )


def reference(x: np.ndarray, w: Weights, *, pooled: bool = False) -> np.ndarray:
    """The graph in numpy, float64: (N, 3, H, W) -> (N, dim) (or the (N, 4) pool)."""
    x = np.asarray(x, np.float64)
    n, _, h, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out_h, out_w = (h + 2 - 3) // 2 + 1, (width + 2 - 3) // 2 + 1
    conv = np.zeros((n, 4, out_h, out_w))
    for dy in range(3):
        for dx in range(3):
            window = padded[:, :, dy : dy + 2 * out_h - 1 : 2, dx : dx + 2 * out_w - 1 : 2]
            conv += np.einsum("nchw,oc->nohw", window, w.conv_w[:, :, dy, dx])
    conv += w.conv_b[None, :, None, None]
    pool = np.maximum(conv, 0).mean(axis=(2, 3))
    return pool if pooled else pool @ w.fc_w.T.astype(np.float64) + w.fc_b


def encoder_model(
    path: Path,
    weights: Weights,
    *,
    batch: int | str = "N",
    side: int | str = "S",
    two_outputs: bool = False,
    input_rank: int = 4,
    inputs: int = 1,
    input_type: int = TensorProto.FLOAT,
    flatten: bool = True,
    channels: int = 3,
) -> Path:
    """Write the encoder as an ONNX file at ``path``; returns ``path``."""
    dim = weights.fc_w.shape[0]
    shape = [batch, channels, side, side][:input_rank]
    graph_inputs = [helper.make_tensor_value_info("image", input_type, shape)]
    if inputs == 2:
        graph_inputs.append(helper.make_tensor_value_info("extra", TensorProto.FLOAT, [batch, 1]))
    init = [
        numpy_helper.from_array(weights.conv_w, "conv_w"),
        numpy_helper.from_array(weights.conv_b, "conv_b"),
        numpy_helper.from_array(weights.fc_w, "fc_w"),
        numpy_helper.from_array(weights.fc_b, "fc_b"),
    ]
    source = "image"
    nodes = []
    if input_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT))
        source = "image_f"
    if input_rank == 3:
        nodes.append(helper.make_node("Unsqueeze", [source, "axis0"], ["image4"]))
        init.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
        source = "image4"
    nodes += [
        helper.make_node(
            "Conv", [source, "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1], strides=[2, 2]
        ),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
    ]
    if flatten:
        nodes += [
            helper.make_node("Flatten", ["pool"], ["pooled"], axis=1),
            helper.make_node("Gemm", ["pooled", "fc_w", "fc_b"], ["embedding"], transB=1),
        ]
        outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [batch, dim])]
        if two_outputs:
            outputs.append(helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [batch, 4]))
    else:
        outputs = [helper.make_tensor_value_info("pool", TensorProto.FLOAT, [batch, 4, 1, 1])]
    graph = helper.make_graph(nodes, "tiny_encoder", graph_inputs, outputs, init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
