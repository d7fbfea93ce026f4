"""Train a two-tower head on the stored features of ground/overhead pairs.

Symmetric InfoNCE over in-batch negatives (:mod:`.model`), optax AdamW with a linear
warm-up (5 % of the steps) and cosine decay; a held-out tenth of the training pairs (at
most :data:`MAX_VALIDATION`) picks the best epoch by its loss, and reports its recall@1
among themselves. Which pairs share a batch (each other's negatives): shuffled at random,
or ``negatives="gps"``, pairs taken near each other together (:mod:`.batches`).
Deterministic: the seed fixes the held-out pairs, the initial weights, the batches and
the dropout, so one seed gives one file.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from geovec.counts import count
from geovec.defaults import (
    DEFAULT_EPOCHS,
    DEFAULT_HEAD_BATCH,
    DEFAULT_HEAD_DIM,
    DEFAULT_HEAD_HIDDEN,
    DEFAULT_HEAD_SPLIT,
    DEFAULT_RADIUS_M,
)
from geovec.errors import GeovecError
from geovec.heads.batches import GPS_CELL_M, BatchPlan
from geovec.heads.file import Head, head_name, new_head
from geovec.heads.pairs import PairReader, training_pairs
from geovec.progress import ProgressReporter
from geovec.store import Store

MAX_VALIDATION = 2048
"""Held-out pairs at most (their recall@1 is over a full matrix of them)."""
MIN_HELD_OUT = 10
"""With fewer training pairs than this, none is held out: they validate on themselves."""
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-2
DROPOUT = 0.1


@dataclasses.dataclass
class TrainSummary:
    """What a training run did; ``metrics`` as in the head file's metadata."""

    path: Path
    name: str
    pairs: int  # trained on
    validation: int  # held out
    excluded: dict[str, int]
    epochs: int
    best_epoch: int
    metrics: dict[str, float]
    seconds: float  # all of it: choosing pairs, standardising, compiling, training, saving
    loop_seconds: float = 0.0  # the epochs alone (steps and validation)

    @property
    def pairs_per_second(self) -> float:
        """Training pairs per second of the epochs (each pair counted once per epoch)."""
        return self.pairs * self.epochs / self.loop_seconds if self.loop_seconds > 0 else 0.0

    def line(self) -> str:
        left_out = ", ".join(f"{n} {why}" for why, n in self.excluded.items()) or "none"
        m = self.metrics
        return (
            f"trained {self.name} on {count(self.pairs, 'pair')} ({self.validation} held out); "
            f"best epoch {self.best_epoch} of {self.epochs}: validation R@1 "
            f"{m['validation_r1']:.3f} "
            f"(chance {m['chance_r1']:.3f}), loss {m['validation_loss']:.3f}; left out: "
            f"{left_out}; {self.seconds:.1f} s ({self.pairs_per_second:.0f} pairs/s in "
            f"training) -> {self.path}"
        )


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise GeovecError(f"{name} must be at least 1, got {value}")


def train(
    store: Store,
    *,
    ground_feature: str,
    out: str | Path,
    overhead_feature: str | None = None,
    split: str | None = DEFAULT_HEAD_SPLIT,
    dim: int = DEFAULT_HEAD_DIM,
    hidden: int = DEFAULT_HEAD_HIDDEN,
    epochs: int = DEFAULT_EPOCHS,
    batch: int = DEFAULT_HEAD_BATCH,
    seed: int = 0,
    radius_m: float = DEFAULT_RADIUS_M,
    negatives: str = "random",
    progress: bool = False,
) -> TrainSummary:
    """Train a head mapping ``ground_feature`` (ground) and ``overhead_feature`` (overhead;
    default: the same) into one embedding space, and write it to ``out`` (safetensors;
    its file name, e.g. ``gist_head``, names its feature columns).

    It trains on the pairs of ``split`` (None: every row not in a test set) and never on
    the isolated images, the ``test`` split, nor a pair within ``radius_m`` metres of one
    of them; the head's metadata counts what was left out, and why.

    ``negatives``: "random" (each epoch a new shuffle) or "gps" (pairs within a few tiles
    of each other share a batch: hard negatives by geography, :mod:`.batches`).

    Raises:
      GeovecError: fewer than two training pairs; a feature the store lacks.
    """
    started = time.perf_counter()
    name = head_name(out)
    overhead_feature = overhead_feature or ground_feature
    _check_positive(dim=dim, hidden=hidden, epochs=epochs, batch=batch)
    pairs = training_pairs(store, ground_feature, overhead_feature, split, radius_m)
    if len(pairs) < 2:
        raise GeovecError(
            f"split {split!r} has {len(pairs)} usable training pair(s); a head needs at least "
            f"two (left out: {pairs.excluded or 'none'})"
        )
    rng = np.random.default_rng(seed)
    fit, validation, held = _hold_out(len(pairs), rng)
    batch = min(batch, len(fit))
    plan = BatchPlan(store, fit, batch, negatives, pairs.lonlat)
    reader = PairReader(store, pairs, ground_feature, overhead_feature)
    mean, scale = reader.standardisation(fit)
    head = new_head(
        name,
        (ground_feature, overhead_feature),
        (reader.ground.dim, reader.overhead.dim),
        hidden=hidden,
        dim=dim,
        seed=seed,
        mean=mean,
        scale=scale,
    )
    fitted = _fit(head, reader, plan, validation, epochs, rng, seed, progress)
    head.metadata = {  # what the file records about its training: nothing from the clock
        "split": split,
        "seed": seed,
        "radius_m": radius_m,
        "epochs": epochs,
        "best_epoch": fitted.best_epoch,
        "batch": batch,
        **({"negatives": "gps", "gps_cell_m": GPS_CELL_M} if negatives == "gps" else {}),
        "learning_rate": LEARNING_RATE,
        "weight_decay": WEIGHT_DECAY,
        "dropout": DROPOUT,
        "pairs": len(fit),
        "held_out": held,
        "validated_on": "held-out pairs" if held else "the training pairs (too few to hold out)",
        "validation_pairs": len(validation),
        "excluded": pairs.excluded,
        "isolated_at_training": store.count("ground", "isolated = true"),
        "metrics": fitted.metrics,
    }
    path = head.save(out)
    return TrainSummary(
        path=path,
        name=name,
        pairs=len(fit),
        validation=held,
        excluded=pairs.excluded,
        epochs=epochs,
        best_epoch=fitted.best_epoch,
        metrics=fitted.metrics,
        seconds=time.perf_counter() - started,
        loop_seconds=fitted.seconds,
    )


def _hold_out(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """(positions to fit, positions to validate on, how many are held out): a tenth of the
    pairs, at most MAX_VALIDATION; none below MIN_HELD_OUT (they validate on themselves)."""
    order = rng.permutation(n)
    held = 0 if n < MIN_HELD_OUT else min(MAX_VALIDATION, max(2, n // 10))
    fit = order[held:]
    return fit, (order[:held] if held else fit[:MAX_VALIDATION]), held


def _step_function(head: Head, epochs: int, steps: int):
    """(optimiser, jitted step(params, state, ground, overhead, key) -> (params, state,
    loss)) on raw features: standardisation, dropout, symmetric InfoNCE, AdamW."""
    import jax
    import jax.numpy as jnp
    import optax

    from geovec.heads.model import TwoTower, info_nce

    warmup = max(1, epochs * steps // 20)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, LEARNING_RATE, warmup, max(epochs * steps, warmup + 1)
    )
    optimiser = optax.adamw(schedule, weight_decay=WEIGHT_DECAY)
    model = TwoTower(hidden=head.hidden, dim=head.dim, dropout=DROPOUT)
    mean = {side: jnp.asarray(v) for side, v in head.mean.items()}
    scale = {side: jnp.asarray(v) for side, v in head.scale.items()}

    def loss_of(params, g, o, key):
        eg, eo, logit_scale = model.apply(
            {"params": params},
            (g - mean["ground"]) / scale["ground"],
            (o - mean["overhead"]) / scale["overhead"],
            train=True,
            rngs={"dropout": key},
        )
        return info_nce(eg, eo, logit_scale)

    @jax.jit
    def step(params, state, g, o, key):
        loss, grads = jax.value_and_grad(loss_of)(params, g, o, key)
        updates, state = optimiser.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    return optimiser, step


@dataclasses.dataclass
class _Fitted:
    best_epoch: int
    metrics: dict[str, float]
    seconds: float


def _fit(head, reader, plan: BatchPlan, validation, epochs, rng, seed, progress) -> _Fitted:
    """Train ``head`` in place: every epoch the plan's batches (a new shuffle, or gps
    batches), read ahead from the store, then the held-out loss; ``head.params`` ends as
    the best epoch's."""
    import jax
    import jax.numpy as jnp

    started = time.perf_counter()
    steps, batch = plan.steps, plan.batch  # per epoch; the remainder waits for another
    optimiser, step = _step_function(head, epochs, steps)
    params = jax.tree_util.tree_map(jnp.asarray, head.params)
    state = optimiser.init(params)
    key = jax.random.PRNGKey(seed + 1)
    best_loss, best_epoch, best_params, best_metrics = np.inf, 0, head.params, {}
    total = epochs * steps * batch
    with ProgressReporter(f"train {head.name}", total, enabled=progress, unit="pairs") as bar:
        for epoch in range(1, epochs + 1):
            losses = []
            for g, o in reader.batches(plan.epoch(rng)):
                key, sub = jax.random.split(key)
                params, state, loss = step(params, state, g, o, sub)
                losses.append(loss)
                bar.advance(batch)
            head.params = jax.tree_util.tree_map(np.asarray, params)
            val_loss, val_r1 = _validate(head, reader, validation, params["logit_scale"])
            train_loss = float(np.mean(jax.device_get(losses)))
            if val_loss < best_loss:
                best_loss, best_epoch, best_params = val_loss, epoch, head.params
                best_metrics = {"train_loss": train_loss, "validation_r1": val_r1}
            bar.describe(f"epoch {epoch}: loss {train_loss:.3f}, validation R@1 {val_r1:.3f}")
    head.params = best_params
    metrics = {
        "validation_loss": float(best_loss),
        "chance_r1": 1.0 / len(validation),
        **best_metrics,
    }
    return _Fitted(best_epoch, metrics, time.perf_counter() - started)


def _validate(head: Head, reader: PairReader, positions: np.ndarray, logit_scale) -> tuple:
    """(symmetric InfoNCE loss over all held-out pairs at once, their recall@1: how often
    a ground image's nearest held-out overhead embedding is its own pair's)."""
    from geovec.heads.model import info_nce

    g, o = reader.take(np.sort(positions))
    eg, eo = head.embed_ground(g), head.embed_overhead(o)
    loss = float(info_nce(eg, eo, logit_scale))
    r1 = float(np.mean(np.argmax(eg @ eo.T, axis=1) == np.arange(len(eg))))
    return loss, r1
