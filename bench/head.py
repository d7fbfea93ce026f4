"""Learned head training and embedding throughput: geovec's Flax/optax two-tower loop
against the equivalent PyTorch loop (same towers, symmetric InfoNCE with a learnable
temperature, AdamW with warm-up and cosine decay, same batch, same threads), same run,
each in its own process; then ``geovec.train`` end to end from a store (pairs streamed
from Lance) and ``geovec.embed`` into it.

Like with like: each child process may run on the same ``--threads`` cores (its CPU
affinity, set before JAX or torch loads: XLA sizes its pool to the cores it may use) and
torch is given that many intra-op threads (``torch.set_num_threads``); one warm-up step
each (geovec's compiles), the same steps after it; the two run in turn (geovec, torch,
geovec, torch ...) for ``--rounds`` and the best kept. torch's OpenMP threads wait
passively by default (``--omp-wait``): spinning ones lose their core on a shared machine.

N random pairs of D-d features (ground = overhead + noise, so the loss falls).

    python bench/head.py [--pairs 20000] [--dim 512] [--batch 256] [--epochs 3]
                         [--threads os.cpu_count()] [--rounds 2] [--omp-wait passive]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import cores, report  # noqa: E402


def pin(threads: int) -> int:
    """Keep this process to its first ``threads`` allowed cores (before JAX or torch is
    imported: both size their pools from it); returns the cores it may use."""
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[:threads])
    return len(os.sched_getaffinity(0))


def data(args):
    import numpy as np

    rng = np.random.default_rng(0)
    overhead = rng.standard_normal((args.pairs, args.dim), np.float32)
    ground = overhead + rng.standard_normal((args.pairs, args.dim), np.float32)
    return ground, overhead


def run_geovec(args) -> dict:
    """geovec's own jitted training step (geovec.heads.training), on features in memory."""
    import jax
    import numpy as np

    from geovec.heads.file import new_head
    from geovec.heads.training import _step_function

    ground, overhead = data(args)
    head = new_head(
        "bench", ("g", "o"), (args.dim, args.dim), hidden=args.hidden, dim=args.out_dim, seed=0
    )
    steps = args.epochs * (args.pairs // args.batch)
    optimiser, step = _step_function(head, args.epochs, args.pairs // args.batch)
    params = jax.tree_util.tree_map(jax.numpy.asarray, head.params)
    state = optimiser.init(params)
    rng, key = np.random.default_rng(1), jax.random.PRNGKey(1)
    b = args.batch
    params, state, loss = step(params, state, ground[:b], overhead[:b], key)  # compile
    loss.block_until_ready()
    first = float(loss)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        order = rng.permutation(args.pairs)
        for i in range(args.pairs // b):
            idx = order[i * b : (i + 1) * b]
            key, sub = jax.random.split(key)
            params, state, loss = step(params, state, ground[idx], overhead[idx], sub)
    loss.block_until_ready()
    return {
        "seconds": time.perf_counter() - t0,
        "steps": steps,
        "first": first,
        "last": float(loss),
    }


def run_torch(args) -> dict:
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ground, overhead = (torch.from_numpy(x) for x in data(args))

    def tower():
        return nn.Sequential(
            nn.Linear(args.dim, args.hidden),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(args.hidden, args.out_dim),
        )

    g_tower, o_tower = tower(), tower()
    logit_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
    params = [*g_tower.parameters(), *o_tower.parameters(), logit_scale]
    steps = args.epochs * (args.pairs // args.batch)
    optimiser = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2)
    warm = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.SequentialLR(
        optimiser,
        [
            torch.optim.lr_scheduler.LinearLR(optimiser, 1e-8, 1.0, warm),
            torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps - warm),
        ],
        [warm],
    )

    def step(g, o):
        eg = nn.functional.normalize(g_tower(g), dim=-1)
        eo = nn.functional.normalize(o_tower(o), dim=-1)
        logits = logit_scale.clamp(max=float(np.log(100))).exp() * eg @ eo.T
        labels = torch.arange(len(g))
        loss = (
            nn.functional.cross_entropy(logits, labels)
            + nn.functional.cross_entropy(logits.T, labels)
        ) / 2
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        return loss

    b = args.batch
    first = float(step(ground[:b], overhead[:b]))  # warm-up step, as geovec's compile
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(args.pairs)
        for i in range(args.pairs // b):
            idx = order[i * b : (i + 1) * b]
            loss = step(ground[idx], overhead[idx])
    return {
        "seconds": time.perf_counter() - t0,
        "steps": steps,
        "first": first,
        "last": float(loss),
    }


def run_store(args) -> dict:
    """geovec.train from a store (streamed pairs, validation every epoch), then embed."""
    import numpy as np

    import geovec
    from tests.stores import add_rows

    ground, overhead = data(args)
    with tempfile.TemporaryDirectory() as tmp:
        store = geovec.open(Path(tmp) / "db")
        rng = np.random.default_rng(2)
        lonlat = rng.uniform(-1, 1, (args.pairs, 2))
        rows = [
            {"id": f"g{i}", "lon": lo, "lat": la, "split": "train", "pair": f"o{i}"}
            for i, (lo, la) in enumerate(lonlat)
        ]
        add_rows(store, "ground", rows, {"feat": ground})
        aerial = [{"id": f"o{i}", "lon": lo, "lat": la} for i, (lo, la) in enumerate(lonlat)]
        add_rows(store, "overhead", aerial, {"feat": overhead})
        t0 = time.perf_counter()
        summary = geovec.train(
            store,
            ground_feature="feat",
            out=Path(tmp) / "bench_head.safetensors",
            epochs=args.epochs,
            batch=args.batch,
            dim=args.out_dim,
            hidden=args.hidden,
        )
        total = time.perf_counter() - t0
        done = geovec.embed(store, summary.path)
    rows = sum(done.rows.values())
    return {
        "seconds": summary.loop_seconds,
        "total": total,
        "pairs": summary.pairs,
        "embed_rows": rows,
        "embed_seconds": done.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--out-dim", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=cores(), help="cores and threads of each side"
    )
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each side, in turn")
    parser.add_argument(
        "--omp-wait",
        choices=["passive", "active"],
        default="passive",
        help="OMP_WAIT_POLICY of torch's threads: passive (waiting threads sleep, as XLA's "
        "pool does; spinning ones lose their core on a shared machine) or active",
    )
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        used = pin(args.threads)
        run = {"geovec": run_geovec, "torch": run_torch, "store": run_store}[args.child]
        print(json.dumps({**run(args), "threads": used}))
        return
    base = [sys.executable, __file__] + [
        f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k != "child"
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OMP_WAIT_POLICY": args.omp_wait}

    def child(name: str) -> dict | None:
        out = subprocess.run([*base, "--child", name], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            print(f"{name}: failed ({(out.stderr.strip().splitlines() or [out.returncode])[-1]})")
            return None
        return json.loads(out.stdout.strip().splitlines()[-1])

    results = {}
    for _ in range(args.rounds):
        for name in ("geovec", "torch"):
            r = child(name)
            if r and (name not in results or r["seconds"] < results[name]["seconds"]):
                results[name] = r
    store = child("store")
    print(
        f"{args.pairs} pairs of {args.dim}-d features, towers {args.dim}->{args.hidden}->"
        f"{args.out_dim}, batch {args.batch}, {args.epochs} epochs; warm-up 1 step each, "
        f"best of {args.rounds} in turn; torch OMP_WAIT_POLICY={args.omp_wait}"
    )
    rate = {}
    for name in ("geovec", "torch"):
        if name in results:
            r = results[name]
            rate[name] = r["steps"] * args.batch / r["seconds"]
            print(f"  {name:<7} {r['seconds']:.2f} s; loss {r['first']:.3f} -> {r['last']:.3f}")
    if len(rate) == 2:
        report(
            "training throughput",
            "pairs/s",
            ("geovec (Flax/optax)", rate["geovec"], results["geovec"]["threads"]),
            ("PyTorch", rate["torch"], results["torch"]["threads"]),
        )
    if store:
        s = store
        print(
            f"geovec.train from the store: {s['pairs'] * args.epochs / s['seconds']:.0f} pairs/s "
            f"in its epochs (streamed from Lance, validated each epoch; {s['total']:.1f} s in "
            f"all); geovec.embed: {s['embed_rows'] / s['embed_seconds']:.0f} rows/s into the store"
        )


if __name__ == "__main__":
    main()
