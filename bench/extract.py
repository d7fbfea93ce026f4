"""Forward-pass throughput: geovec's jit-compiled Flax CaffeNet against PyTorch.

Same random CaffeNet weights, same batch, same input, same threads (torch gets
``--threads``, the machine's core count by default, which is what XLA:CPU uses), same
warm-up, one process. Each round times, in turn, every geovec variant, torch and a numpy
sgemm (2048 x 2048), so all see the same load on a shared machine; the medians over the
rounds are printed: images/s of each side, the ratio geovec / torch (of the medians, and
the median of the per-round ratios), the sgemm rate of the same rounds and the share of
it each side reaches (CaffeNet is 0.724 G multiply-adds = 1.45 GFLOP per image), the
largest relative difference of fc7 against torch, the cores and the load average.

    python bench/extract.py [--batch 64] [--rounds 9] [--threads N] [--omp-wait passive]
    python bench/extract.py --variants shipped,ynn:4,plain:8   # what each XLA choice gives
    python bench/extract.py --device gpu --batch 256 --peak-tflops 67   # bench/gpu.sh
    python bench/extract.py --profile   # each layer jitted alone against torch's same layer

A variant is ``OPTIONS:MICRO_BATCH`` (or ``shipped``, geovec as it runs: the network's
compile options and micro-batch). OPTIONS: ``shipped`` (alexnet.compiler_options()),
``ynn`` (jax's default: convolutions and dots in YNNPACK), ``plain`` (every op on
XLA's own Eigen kernels), ``dot-ynn`` (only dots in YNNPACK), ``onednn`` (dots in
oneDNN). MICRO_BATCH is the trunk's micro-batch (alexnet.run), or ``all``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GFLOP_PER_IMAGE = 1.45
SGEMM_N = 2048
YNN = "xla_cpu_experimental_ynn_fusion_type"
OPTIONS = {
    "ynn": {},
    "plain": {YNN: ""},
    "dot-ynn": {YNN: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"},
    "onednn": {
        YNN: "",
        "xla_cpu_use_onednn": True,
        "xla_cpu_experimental_onednn_fusion_type": "LIBRARY_FUSION_TYPE_DOT",
    },
}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--variants", default="shipped", help="comma-separated, see above")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="the device's FP32 peak, for its share"
    )
    parser.add_argument("--no-torch", action="store_true", help="time geovec only")
    parser.add_argument("--profile", action="store_true", help="time each layer alone")
    parser.add_argument(
        "--omp-wait",
        choices=("passive", "active"),
        default="passive",
        help="OMP_WAIT_POLICY of torch's threads: passive (waiting threads sleep, as XLA's "
        "do; the default) or active (they spin: libgomp's own default)",
    )
    args = parser.parse_args()
    if args.batch < 1 or args.rounds < 1 or args.threads < 1:
        parser.error("--batch, --rounds and --threads must be at least 1")
    os.environ["OMP_WAIT_POLICY"] = args.omp_wait.upper()  # read when torch loads libgomp

    import jax
    import numpy as np

    from geovec.nets.alexnet import CaffeNet, compiler_options, run
    from geovec.nets.caffe import CaffeLayer
    from geovec.nets.caffe_to_flax import caffe_to_flax
    from tests.reference_alexnet import CAFFENET_CONVS, random_params

    try:
        device = jax.devices(args.device)[0]
    except RuntimeError as exc:
        parser.exit(1, f"error: jax sees no {args.device}: {exc}\n")
    caffe = random_params(CAFFENET_CONVS, 4096, 1000, seed=0)
    layers = [CaffeLayer(name, "", [w, b]) for name, (w, b) in caffe.items()]
    model = CaffeNet()
    params = jax.device_put(caffe_to_flax(layers, model), device)
    x = np.random.default_rng(0).uniform(-120, 130, (args.batch, 227, 227, 3)).astype(np.float32)
    xj = jax.device_put(x, device)

    if args.profile:
        profile(args, model, params, caffe, device)
        return
    sides: dict[str, object] = {}
    outputs: dict[str, np.ndarray] = {}
    for variant in args.variants.split(","):
        opts_name, _, micro = variant.partition(":")
        if opts_name == "shipped":
            opts = compiler_options(device.platform)
        elif opts_name in OPTIONS and device.platform == "cpu":
            opts = OPTIONS[opts_name]
        else:
            parser.error(f"unknown variant {variant!r} for {device.platform}")
        micro_batch = (
            None if micro in ("", "shipped") else args.batch if micro == "all" else int(micro)
        )
        fn = jax.jit(lambda p, xb, mb=micro_batch: run(model, p, xb, mb)[1]["fc7"])
        compiled = fn.lower(params, xj).compile(compiler_options=opts)
        label = "geovec" if variant == "shipped" else f"geovec {variant}"
        outputs[label] = np.asarray(compiled(params, xj))
        sides[label] = lambda c=compiled: c(params, xj).block_until_ready()

    torch_version = None
    if not args.no_torch:
        import torch

        torch_version = torch.__version__
        torch.set_num_threads(args.threads)
        tdev = "cuda" if args.device == "gpu" else "cpu"
        if tdev == "cuda" and not torch.cuda.is_available():
            print("torch: no CUDA in this torch build; the peer is skipped")
        else:
            sides["torch"] = torch_side(torch, caffe, x, tdev, outputs)
    sgemm_a = np.random.default_rng(1).standard_normal((SGEMM_N, SGEMM_N)).astype(np.float32)
    sides["sgemm"] = lambda: sgemm_a @ sgemm_a

    times: dict[str, list[float]] = {name: [] for name in sides}
    for run_side in sides.values():  # the same warm-up for each
        run_side()
    for _ in range(args.rounds):
        for name, run_side in sides.items():
            started = time.perf_counter()
            run_side()
            times[name].append(time.perf_counter() - started)

    sgemm = statistics.median(2 * SGEMM_N**3 / t / 1e9 for t in times.pop("sgemm"))
    rate = {name: args.batch / statistics.median(t) for name, t in times.items()}
    cores = os.cpu_count()
    print(
        f"CaffeNet forward to fc7, device {device.platform} ({device.device_kind}), batch "
        f"{args.batch}, {args.rounds} rounds (medians), {cores} cores, torch threads "
        f"{args.threads} (OMP_WAIT_POLICY {args.omp_wait}), XLA threads {cores}"
    )
    width = max(len(n) for n in rate) + 1
    for name, ips in rate.items():
        gflops = ips * GFLOP_PER_IMAGE
        share = f"{gflops / sgemm:4.0%} of sgemm" if device.platform == "cpu" else ""
        if args.peak_tflops:
            share += (
                f" {gflops / 1e3 / args.peak_tflops:.1%} of the {args.peak_tflops} TFLOP/s peak"
            )
        print(f"  {name:<{width}} {ips:8.1f} images/s  {gflops:7.1f} GFLOP/s  {share}")
    print(f"  numpy sgemm {SGEMM_N}: {sgemm:.1f} GFLOP/s (same rounds)")
    if "torch" in times:
        theirs = outputs.pop("torch")
        for name in outputs:
            per_round = statistics.median(t / o for t, o in zip(times["torch"], times[name]))
            diff = np.abs(outputs[name] - theirs).max() / np.abs(theirs).max()
            print(
                f"  ratio {name} / torch {torch_version}: {rate[name] / rate['torch']:.2f} "
                f"(per-round median {per_round:.2f}); fc7 max relative difference {diff:.1e}"
            )
    print(f"  {cores} cores, {load()}")


def alternate(sides, rounds):
    """Each side once untimed, then all in turn ``rounds`` times: wall seconds of each."""
    for run_side in sides.values():
        run_side()
    times = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run_side in sides.items():
            started = time.perf_counter()
            run_side()
            times[name].append(time.perf_counter() - started)
    return times


def profile(args, model, params, caffe, device) -> None:
    """Each layer (conv + bias + ReLU, pool + LRN, fc + ReLU) jitted alone on the whole
    batch with each variant's compile options (``--variants``' OPTIONS), against torch's
    same layer, alternated; the medians in ms, torch's time over the first variant's and
    each layer's share of the first variant's sum."""
    import flax.linen as nn
    import jax
    import numpy as np
    import torch
    import torch.nn.functional as F

    from geovec.nets.alexnet import caffe_max_pool, compiler_options, local_response_norm
    from tests.reference_alexnet import CAFFENET_CONVS

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(2)
    b = args.batch
    variants = [v.partition(":")[0] for v in args.variants.split(",")]
    opts = {
        v: compiler_options(device.platform) if v == "shipped" else OPTIONS[v] for v in variants
    }
    tp = {k: (torch.from_numpy(w), torch.from_numpy(b_)) for k, (w, b_) in caffe.items()}
    conv = {name: (stride, pad, groups) for name, _, _, stride, pad, groups in CAFFENET_CONVS}

    def lrn_pool(m, h):
        return local_response_norm(caffe_max_pool(h))

    def torch_lrn_pool(h):
        return F.local_response_norm(F.max_pool2d(h, 3, 2, ceil_mode=True), 5, 1e-4, 0.75, 1.0)

    layers = [
        ("conv1", (227, 227, 3), lambda m, h: nn.relu(m.conv1(h))),
        ("pool1+norm1", (55, 55, 96), lrn_pool),
        ("conv2", (27, 27, 96), lambda m, h: nn.relu(m.conv2(h))),
        ("pool2+norm2", (27, 27, 256), lrn_pool),
        ("conv3", (13, 13, 256), lambda m, h: nn.relu(m.conv3(h))),
        ("conv4", (13, 13, 384), lambda m, h: nn.relu(m.conv4(h))),
        ("conv5", (13, 13, 384), lambda m, h: nn.relu(m.conv5(h))),
        ("pool5", (13, 13, 256), lambda m, h: caffe_max_pool(h)),
        ("fc6", (9216,), lambda m, h: nn.relu(m.fc6(h))),
        ("fc7", (4096,), lambda m, h: nn.relu(m.fc7(h))),
    ]
    rows = []
    for name, shape, layer in layers:
        x = np.abs(rng.standard_normal((b, *shape))).astype(np.float32) * 20
        xj = jax.device_put(x, device)
        fn = jax.jit(lambda p, h, layer=layer: model.apply({"params": p}, h, method=layer))
        sides = {
            v: lambda c=fn.lower(params, xj).compile(compiler_options=o), xj=xj: c(
                params, xj
            ).block_until_ready()
            for v, o in opts.items()
        }
        xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy() if x.ndim == 4 else x)
        if name.startswith("conv"):
            stride, pad, groups = conv[name]
            w, bias = tp[name]

            def theirs(xt=xt, w=w, bias=bias, stride=stride, pad=pad, groups=groups):
                return F.relu(F.conv2d(xt, w, bias, stride=stride, padding=pad, groups=groups))
        elif name.startswith("fc"):

            def theirs(xt=xt, name=name):
                return F.relu(F.linear(xt, *tp[name]))
        elif name == "pool5":

            def theirs(xt=xt):
                return F.max_pool2d(xt, 3, 2, ceil_mode=True)
        else:

            def theirs(xt=xt):
                return torch_lrn_pool(xt)

        with torch.inference_mode():
            times = alternate({**sides, "torch": theirs}, args.rounds)
        rows.append((name, *(statistics.median(times[v]) for v in [*opts, "torch"])))
    total = sum(r[1] for r in rows)
    print(
        f"per layer, batch {b}, {args.rounds} rounds (medians), {os.cpu_count()} cores, "
        f"torch threads {args.threads}"
    )
    heads = "".join(f" {v + ' ms':>12}" for v in opts)
    print(f"  {'layer':<12}{heads} {'torch ms':>10} {'torch/' + variants[0]:>14} {'share':>6}")
    sums = [sum(r[i] for r in rows) for i in range(1, len(opts) + 2)]
    for name, *ms in [*rows, ("sum", *sums)]:
        cols = "".join(f" {t * 1e3:12.1f}" for t in ms[:-1])
        print(
            f"  {name:<12}{cols} {ms[-1] * 1e3:10.1f} {ms[-1] / ms[0]:14.2f} {ms[0] / total:6.0%}"
        )
    print(f"  {os.cpu_count()} cores, {load()}")


def torch_side(torch, caffe, x, device, outputs):
    """Caffe's CaffeNet in torch.nn.functional on ``device``; stores its fc7 in outputs."""
    import torch.nn.functional as F

    from tests.reference_alexnet import CAFFENET_CONVS

    tp = {
        k: (torch.from_numpy(w).to(device), torch.from_numpy(b).to(device))
        for k, (w, b) in caffe.items()
    }
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).to(device)

    @torch.inference_mode()
    def forward():
        h = xt
        for name, _, _, stride, pad, groups in CAFFENET_CONVS:
            w, b = tp[name]
            h = F.relu(F.conv2d(h, w, b, stride=stride, padding=pad, groups=groups))
            if name in ("conv1", "conv2"):
                h = F.local_response_norm(F.max_pool2d(h, 3, 2, ceil_mode=True), 5, 1e-4, 0.75, 1.0)
        h = F.max_pool2d(h, 3, 2, ceil_mode=True).flatten(1)
        h = F.relu(F.linear(h, *tp["fc6"]))
        h = F.relu(F.linear(h, *tp["fc7"]))
        if device == "cuda":
            torch.cuda.synchronize()
        return h

    outputs["torch"] = forward().cpu().numpy()
    return forward


if __name__ == "__main__":
    main()
