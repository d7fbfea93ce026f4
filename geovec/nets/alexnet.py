"""The AlexNet family as Caffe defines it, in Flax: ImageNet CaffeNet and Places205.

Layer names match Caffe's (``conv1`` ... ``fc8``) so converted parameters map one to one.
The network takes NHWC float32 batches that :mod:`geovec.preprocess` made (BGR, 0-255,
mean subtracted, 227x227) and returns ``(prob, blobs)`` where ``blobs`` holds the
features as Caffe's blobs hold them: Caffe's ReLU and Dropout run in place, so ``fc6``
and ``fc7`` are after ReLU; ``fc8`` is before the softmax and ``prob`` after it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

FEATURE_LAYERS = ("fc6", "fc7", "fc8", "prob")
"""Blobs that feature extraction can return, in network order."""

INPUT_SIZE = 227
"""Side of the square network input in pixels (Caffe's centre crop)."""


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """One Caffe convolution layer: ``features`` outputs, square ``kernel``, etc."""

    features: int
    kernel: int
    stride: int = 1
    pad: int = 0
    groups: int = 1


def caffe_max_pool(x: jax.Array, window: int = 3, stride: int = 2) -> jax.Array:
    """Max pooling with Caffe's output size, which rounds up: ceil((H - k) / s) + 1.

    The extra bottom/right windows that rounding up adds see -inf padding, exactly like
    Caffe's clipped windows. Pools rows, then columns (the same maxima as one 2-D window,
    in 2k comparisons instead of k^2: 1.5x faster on XLA:CPU).
    """
    for axis in (1, 2):
        size = x.shape[axis]
        out = math.ceil((size - window) / stride) + 1
        pad = max(0, (out - 1) * stride + window - size)
        dims, strides, pads = [1] * 4, [1] * 4, [(0, 0)] * 4
        dims[axis], strides[axis], pads[axis] = window, stride, (0, pad)
        x = lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, pads)
    return x


def local_response_norm(
    x: jax.Array, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> jax.Array:
    """Caffe's across-channel LRN: x / (k + alpha/size * sum of x^2 over size channels)^beta.

    The window sum is ``size`` shifted slices of the zero-padded squares (one fused loop on
    XLA:CPU) and beta 0.75 is rsqrt(t) * rsqrt(sqrt(t)) rather than a pow: with the
    separable pooling, pool + LRN run 2.7 to 3.5x faster; equal to float rounding.
    """
    half, channels = size // 2, x.shape[-1]
    squares = jnp.pad(x * x, [(0, 0)] * (x.ndim - 1) + [(half, half)])
    window_sum = sum(squares[..., i : i + channels] for i in range(size))
    t = k + (alpha / size) * window_sum
    if beta == 0.75:
        return x * lax.rsqrt(t) * lax.rsqrt(jnp.sqrt(t))
    return x * t**-beta


class CaffeConv(nn.Module):
    """Caffe convolution; groups run as separate convolutions (faster on XLA:CPU than
    ``feature_group_count``) over one kernel of shape (kh, kw, in/groups, out)."""

    spec: ConvSpec

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        s = self.spec
        in_per_group = x.shape[-1] // s.groups
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (s.kernel, s.kernel, in_per_group, s.features)
        )
        bias = self.param("bias", nn.initializers.zeros, (s.features,))
        conv = functools.partial(
            lax.conv_general_dilated,
            window_strides=(s.stride, s.stride),
            padding=[(s.pad, s.pad), (s.pad, s.pad)],
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
        if s.groups == 1:
            y = conv(x, kernel)
        else:
            xs = jnp.split(x, s.groups, axis=-1)
            ks = jnp.split(kernel, s.groups, axis=-1)
            y = jnp.concatenate([conv(a, b) for a, b in zip(xs, ks)], axis=-1)
        return y + bias


class AlexNet(nn.Module):
    """AlexNet as in Caffe's deploy prototxts (bvlc_reference_caffenet, places205CNN).

    Calling the module runs :meth:`trunk` (conv1 ... pool5) then :meth:`head` (fc6 ... prob);
    :func:`run` does the same with the trunk over micro-batches where that is faster.

    Attributes:
      num_classes: fc8 outputs (1000 for ImageNet CaffeNet, 205 for Places205).
      convs: the five convolutions, conv1 ... conv5.
      fc_features: outputs of fc6 and fc7.
      norm_before_pool: False is CaffeNet's order (pool, then LRN); True is the original
        AlexNet order (LRN, then pool).
    """

    num_classes: int = 1000
    convs: Sequence[ConvSpec] = (
        ConvSpec(96, 11, stride=4),
        ConvSpec(256, 5, pad=2, groups=2),
        ConvSpec(384, 3, pad=1),
        ConvSpec(384, 3, pad=1, groups=2),
        ConvSpec(256, 3, pad=1, groups=2),
    )
    fc_features: int = 4096
    norm_before_pool: bool = False

    def setup(self):
        for i, spec in enumerate(self.convs, start=1):
            setattr(self, f"conv{i}", CaffeConv(spec))
        self.fc6 = nn.Dense(self.fc_features)
        self.fc7 = nn.Dense(self.fc_features)
        self.fc8 = nn.Dense(self.num_classes)

    def trunk(self, x: jax.Array) -> jax.Array:
        """conv1 ... pool5: (B, 227, 227, 3) -> (B, 6, 6, 256) for the full-size networks."""
        for i in range(1, len(self.convs) + 1):
            x = nn.relu(getattr(self, f"conv{i}")(x))
            if i in (1, 2):
                if self.norm_before_pool:
                    x = caffe_max_pool(local_response_norm(x))
                else:
                    x = local_response_norm(caffe_max_pool(x))
        return caffe_max_pool(x)  # pool5

    def head(self, pool5: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        """fc6 ... prob on pool5: ``(prob, blobs)``."""
        blobs: dict[str, jax.Array] = {}
        x = pool5.reshape(pool5.shape[0], -1)  # (H, W, C) order; the converter permutes fc6
        x = blobs["fc6"] = nn.relu(self.fc6(x))
        x = blobs["fc7"] = nn.relu(self.fc7(x))
        x = blobs["fc8"] = self.fc8(x)
        prob = blobs["prob"] = jax.nn.softmax(x, axis=-1)
        return prob, blobs

    def __call__(self, x: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        return self.head(self.trunk(x))


CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}
"""XLA options for the network's programs on the CPU: every convolution and dot on XLA's
own (Eigen) kernels. jax 0.10 hands both to YNNPACK by default; on this 2-core AVX-512
machine, each layer alone (bench/extract.py --profile, batch 4 and 16, in turn) ran its
convolutions 1.1 to 2.5x faster on Eigen (conv1 2.2-2.5x) and fc6 1.2-1.3x; across the
whole network the gain was 1.0 to 1.3x depending on the run (bench/extract.py --variants
shipped,ynn:4). Results agree to float rounding (the fidelity tests hold)."""


def compiler_options(backend: str | None = None) -> dict[str, str]:
    """XLA compile options for programs that run the network on ``backend`` (default:
    jax's default backend): :data:`CPU_COMPILER_OPTIONS` on the CPU, none elsewhere. Pass
    them to ``jax.jit(..., compiler_options=...)``; they join the persistent compilation
    cache's key like any option."""
    backend = backend or jax.default_backend()
    return dict(CPU_COMPILER_OPTIONS) if backend == "cpu" else {}


CPU_MICRO_BATCH = 4
"""Images per step of the convolutional trunk on the CPU: XLA:CPU's convolutions keep
their temporaries in cache at this size (batch 32 on 2 cores: 0.56 -> 0.46 s)."""


def run(
    model: AlexNet, params, x: jax.Array, micro_batch: int | None = None
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``model.apply`` with the trunk over micro-batches (``lax.map``) and the fully connected
    head on the whole batch, whose weights are then read once. ``micro_batch`` defaults to
    CPU_MICRO_BATCH on the CPU and the whole batch elsewhere; results agree to float
    rounding."""
    variables = {"params": params}
    batch = x.shape[0]
    if micro_batch is None:
        micro_batch = CPU_MICRO_BATCH if jax.default_backend() == "cpu" else batch
    micro_batch = max(1, min(micro_batch, batch))
    if micro_batch == batch:
        return model.apply(variables, x)
    steps = -(-batch // micro_batch)
    padded = jnp.pad(x, [(0, steps * micro_batch - batch)] + [(0, 0)] * (x.ndim - 1))
    pool5 = lax.map(
        lambda xs: model.apply(variables, xs, method=AlexNet.trunk),
        padded.reshape(steps, micro_batch, *x.shape[1:]),
    )
    pool5 = pool5.reshape(steps * micro_batch, *pool5.shape[2:])[:batch]
    return model.apply(variables, pool5, method=AlexNet.head)


CaffeNet = functools.partial(AlexNet, num_classes=1000)
Places205Net = functools.partial(AlexNet, num_classes=205)

# Used for testing only: the same topology, a fraction of the width.
TinyAlexNet = functools.partial(
    AlexNet,
    num_classes=7,
    convs=(
        ConvSpec(8, 11, stride=4),
        ConvSpec(8, 5, pad=2, groups=2),
        ConvSpec(12, 3, pad=1),
        ConvSpec(12, 3, pad=1, groups=2),
        ConvSpec(8, 3, pad=1, groups=2),
    ),
    fc_features=16,
)


def pool5_shape(model: AlexNet, input_size: int = INPUT_SIZE) -> tuple[int, int, int]:
    """(height, width, channels) of pool5 for a square input of ``input_size`` pixels."""
    size = input_size
    for i, spec in enumerate(model.convs, start=1):
        size = (size + 2 * spec.pad - spec.kernel) // spec.stride + 1
        if i in (1, 2):
            size = math.ceil((size - 3) / 2) + 1
    size = math.ceil((size - 3) / 2) + 1
    return size, size, model.convs[-1].features


def param_shapes(model: AlexNet, input_size: int = INPUT_SIZE) -> dict[str, dict[str, tuple]]:
    """Expected Flax parameter shapes of ``model``, layer by layer, without running it."""
    shapes: dict[str, dict[str, tuple]] = {}
    channels = 3
    for i, spec in enumerate(model.convs, start=1):
        shapes[f"conv{i}"] = {
            "kernel": (spec.kernel, spec.kernel, channels // spec.groups, spec.features),
            "bias": (spec.features,),
        }
        channels = spec.features
    h, w, c = pool5_shape(model, input_size)
    fan_in = h * w * c
    for name, out in (
        ("fc6", model.fc_features),
        ("fc7", model.fc_features),
        ("fc8", model.num_classes),
    ):
        shapes[name] = {"kernel": (fan_in, out), "bias": (out,)}
        fan_in = out
    return shapes
