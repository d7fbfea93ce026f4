"""Forward-pass throughput: geovec's jit-compiled Flax CaffeNet against PyTorch (CPU).

Same random CaffeNet weights, same batch size, same thread count, same input, one run.
Prints images/s of each, the ratio geovec / torch, the largest relative difference of
fc7, and how much of the machine's matmul peak (numpy sgemm GFLOP/s) each reaches
(CaffeNet is about 0.72 G multiply-adds = 1.45 GFLOP per image).

    python bench/extract.py [--batch 32] [--threads 2] [--repeats 5]

XLA uses every core of the machine; give --threads the machine's core count so torch does
too. Timing rounds alternate the two, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GFLOP_PER_IMAGE = 1.45


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import jax
    import numpy as np
    import torch
    import torch.nn.functional as F

    from geovec.nets.alexnet import CaffeNet, run
    from geovec.nets.caffe import CaffeLayer
    from geovec.nets.caffe_to_flax import caffe_to_flax
    from tests.reference_alexnet import CAFFENET_CONVS, random_params

    torch.set_num_threads(args.threads)
    caffe = random_params(CAFFENET_CONVS, 4096, 1000, seed=0)
    layers = [CaffeLayer(name, "", [w, b]) for name, (w, b) in caffe.items()]
    params = jax.device_put(caffe_to_flax(layers, CaffeNet()))
    x = np.random.default_rng(0).uniform(-120, 130, (args.batch, 227, 227, 3)).astype(np.float32)

    model = CaffeNet()
    flax_fn = jax.jit(lambda p, xb: run(model, p, xb)[1]["fc7"])
    xj = jax.device_put(x)

    tp = {k: (torch.from_numpy(w), torch.from_numpy(b)) for k, (w, b) in caffe.items()}

    def torch_forward(xb):
        h = xb
        for name, _, _, stride, pad, groups in CAFFENET_CONVS:
            w, b = tp[name]
            h = F.relu(F.conv2d(h, w, b, stride=stride, padding=pad, groups=groups))
            if name in ("conv1", "conv2"):
                h = F.local_response_norm(F.max_pool2d(h, 3, 2, ceil_mode=True), 5, 1e-4, 0.75, 1.0)
        h = F.max_pool2d(h, 3, 2, ceil_mode=True).flatten(1)
        h = F.relu(F.linear(h, *tp["fc6"]))
        return F.relu(F.linear(h, *tp["fc7"]))

    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def interleaved(*fns):
        """Best time of each function over rounds that alternate them (fair under noise)."""
        for fn in fns:
            fn()
        best = [float("inf")] * len(fns)
        for _ in range(args.repeats):
            for i, fn in enumerate(fns):
                t0 = time.perf_counter()
                fn()
                best[i] = min(best[i], time.perf_counter() - t0)
        return [args.batch / b for b in best]

    with torch.inference_mode():
        ours = np.asarray(flax_fn(params, xj))
        theirs = torch_forward(xt).numpy()
        geovec_ips, torch_ips = interleaved(
            lambda: flax_fn(params, xj).block_until_ready(), lambda: torch_forward(xt)
        )

    a = np.random.default_rng(1).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    t0 = time.perf_counter()
    for _ in range(5):
        a @ a
    sgemm = 5 * 2 * 2048**3 / (time.perf_counter() - t0) / 1e9

    diff = np.abs(ours - theirs).max() / np.abs(theirs).max()
    print(f"device: {jax.devices()[0].platform}, batch {args.batch}, threads {args.threads}")

    def line(label, ips):
        gflops = ips * GFLOP_PER_IMAGE
        share = gflops / sgemm
        return f"{label:<20} {ips:8.1f} images/s ({gflops:6.1f} GFLOP/s, {share:.0%} of sgemm)"

    print(line("geovec (Flax, jit):", geovec_ips))
    print(line(f"torch {torch.__version__}:", torch_ips))
    print(f"numpy sgemm peak:    {sgemm:8.1f} GFLOP/s")
    print(f"ratio geovec/torch:  {geovec_ips / torch_ips:.2f}")
    print(f"fc7 max relative difference: {diff:.1e}")


if __name__ == "__main__":
    main()
