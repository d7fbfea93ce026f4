"""An independent numpy implementation of Caffe's AlexNet forward pass, for tests.

Works in Caffe's own layout: NCHW activations, conv weights (out, in/group, kh, kw),
fc weights (out, in) over pool5 flattened in (C, H, W) order. float64 throughout.
"""

from __future__ import annotations

import math

import numpy as np

# (name, outputs, kernel, stride, pad, groups) as in bvlc_reference_caffenet/deploy.prototxt
CAFFENET_CONVS = [
    ("conv1", 96, 11, 4, 0, 1),
    ("conv2", 256, 5, 1, 2, 2),
    ("conv3", 384, 3, 1, 1, 1),
    ("conv4", 384, 3, 1, 1, 2),
    ("conv5", 256, 3, 1, 1, 2),
]
TINY_CONVS = [
    ("conv1", 8, 11, 4, 0, 1),
    ("conv2", 8, 5, 1, 2, 2),
    ("conv3", 12, 3, 1, 1, 1),
    ("conv4", 12, 3, 1, 1, 2),
    ("conv5", 8, 3, 1, 1, 2),
]


def conv(x, w, b, stride, pad, groups):
    n, c, h, wd = x.shape
    out_c, in_per_group, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    out = np.empty((n, out_c, oh, ow))
    per_out = out_c // groups
    for g in range(groups):
        xs = x[:, g * in_per_group : (g + 1) * in_per_group]
        cols = np.empty((n, in_per_group, kh, kw, oh, ow))
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = xs[
                    :, :, i : i + stride * oh : stride, j : j + stride * ow : stride
                ]
        wg = w[g * per_out : (g + 1) * per_out].reshape(per_out, -1)
        out[:, g * per_out : (g + 1) * per_out] = np.einsum(
            "ok,nkhw->nohw", wg, cols.reshape(n, -1, oh, ow)
        )
    return out + b[None, :, None, None]


def max_pool(x, k=3, s=2):
    """Caffe's pooling: output size rounds up, windows clipped at the border."""
    n, c, h, w = x.shape
    oh, ow = math.ceil((h - k) / s) + 1, math.ceil((w - k) / s) + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s : min(i * s + k, h), j * s : min(j * s + k, w)].max(
                axis=(2, 3)
            )
    return out


def lrn(x, size=5, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    sq = np.pad(x * x, ((0, 0), (size // 2, size // 2), (0, 0), (0, 0)))
    total = sum(sq[:, i : i + c] for i in range(size))
    return x / (k + alpha / size * total) ** beta


def forward(x_nchw, params, convs, norm_before_pool=False):
    """Blobs fc6 (after ReLU), fc7 (after ReLU), fc8 and prob for a mean-subtracted batch."""
    x = np.asarray(x_nchw, np.float64)
    for name, _, _, stride, pad, groups in convs:
        w, b = params[name]
        x = np.maximum(conv(x, w.astype(np.float64), b.astype(np.float64), stride, pad, groups), 0)
        if name in ("conv1", "conv2"):
            x = max_pool(lrn(x)) if norm_before_pool else lrn(max_pool(x))
    x = max_pool(x).reshape(x.shape[0], -1)
    blobs = {}
    for name in ("fc6", "fc7", "fc8"):
        w, b = params[name]
        x = x @ w.astype(np.float64).T + b
        if name != "fc8":
            x = np.maximum(x, 0)
        blobs[name] = x
    e = np.exp(x - x.max(axis=1, keepdims=True))
    blobs["prob"] = e / e.sum(axis=1, keepdims=True)
    return blobs


def random_params(convs, fc_features, num_classes, seed=0, input_size=227):
    """He-scaled random weights in Caffe's layout, so activations stay O(1) through the net."""
    rng = np.random.default_rng(seed)
    params, channels, size = {}, 3, input_size
    for name, out, k, stride, pad, groups in convs:
        fan_in = channels // groups * k * k
        params[name] = (
            (rng.standard_normal((out, channels // groups, k, k)) * math.sqrt(2 / fan_in)).astype(
                np.float32
            ),
            (rng.standard_normal(out) * 0.1).astype(np.float32),
        )
        size = (size + 2 * pad - k) // stride + 1
        if name in ("conv1", "conv2"):
            size = math.ceil((size - 3) / 2) + 1
        channels = out
    size = math.ceil((size - 3) / 2) + 1
    fan_in = channels * size * size
    for name, out in (("fc6", fc_features), ("fc7", fc_features), ("fc8", num_classes)):
        params[name] = (
            (rng.standard_normal((out, fan_in)) * math.sqrt(2 / fan_in)).astype(np.float32),
            (rng.standard_normal(out) * 0.1).astype(np.float32),
        )
        fan_in = out
    return params
