"""The Ray engine of ingest and extract: the same records, features and writes as the
local engine (:mod:`.stream`), with the work spread over a Ray cluster by Ray Data.

- Decoding and CPU preprocessing run as Ray tasks (``map_batches`` with a function);
- the jit-compiled networks and GIST run in a pool of actors (``ActorPoolStrategy``), one
  model load per actor, one CPU each, XLA kept to that CPU;
- the rows come back to the driver, which writes them through the same store code as the
  local engine (one Lance commit per chunk), so a killed run resumes the same way and
  failures are recorded the same way.

The driver writes rather than Ray's Lance datasink: that sink needs pylance beside
LanceDB's own Lance and storage that every node reaches; the tables here are one local
directory. Features are computed where the CPUs (or GPUs: ``num_gpus``) are; rows of
float32 features are small next to the images.

Ray is an optional extra: ``pip install 'geovec[ray]'``; the session (started before JAX,
joined or local) is :mod:`geovec.engines`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from geovec.errors import GeovecError
from geovec.ingestion.records import (
    PREPARE_ERRORS,
    Failure,
    Record,
    failure_reason,
    failure_stage,
)
from geovec.progress import ProgressReporter

PREPARE_CPUS = 0.5
"""CPUs a decode task reserves: the actors never take the whole cluster from them."""
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _prepare(batch: dict, needs_crop: bool, needs_gist: bool) -> dict:
    """Ray task: decode and preprocess a batch of paths as the local engine does; a failed
    image keeps its row with its stage (never empty: what marks it failed) and error, and
    zero arrays."""
    from geovec.features.decode import load_rgb
    from geovec.features.extract import prepare_image
    from geovec.features.gist import IMAGE_SIZE
    from geovec.nets.alexnet import INPUT_SIZE

    n = len(batch["index"])
    crops = np.zeros((n, INPUT_SIZE, INPUT_SIZE, 3) if needs_crop else (n, 1), np.float32)
    greys = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE) if needs_gist else (n, 1), np.float32)
    stages, errors = [""] * n, [""] * n
    for i, path in enumerate(batch["path"]):
        try:
            prepared = prepare_image(load_rgb(Path(path)), crop=needs_crop, gist=needs_gist)
        except PREPARE_ERRORS as exc:
            stages[i], errors[i] = failure_stage(exc), failure_reason(exc)
            continue
        if needs_crop:
            crops[i] = prepared.crop
        if needs_gist:
            greys[i] = prepared.grey
    return {
        "index": batch["index"],
        "crop": crops,
        "grey": greys,
        "stage": np.array(stages, object),
        "error": np.array(errors, object),
    }


def _failed(batch: dict) -> np.ndarray:
    """(N,) bool: the rows of a batch whose preparation failed, by their stage (a failure
    always has one; its message may be empty)."""
    return np.array([stage != "" for stage in batch["stage"]], bool)


def _hand_over(
    batch: dict,
    records: Sequence[Record],
    features: Sequence[str],
    write: Callable[[list[Record], dict], None],
    fail: Callable[[list[Failure]], None],
) -> tuple[int, int]:
    """On the driver: the good rows of a finished batch to ``write``, the failed ones (by
    stage) to ``fail``. Returns (rows written, rows failed)."""
    bad = _failed(batch)
    good = np.flatnonzero(~bad)
    if len(good):
        chunk = [records[int(i)] for i in batch["index"][good]]
        write(chunk, {name: batch[name][good] for name in features})
    failures = [
        Failure(str(records[int(i)].path), records[int(i)].view, str(stage), str(error))
        for i, stage, error in zip(batch["index"][bad], batch["stage"][bad], batch["error"][bad])
    ]
    if failures:
        fail(failures)
    return len(good), len(failures)


class _Extract:
    """Ray actor: one FeatureExtractor (weights loaded once), run on prepared batches."""

    def __init__(self, features: list[str], batch_size: int, weights: dict[str, str]):
        from geovec.features.extract import FeatureExtractor, PreparedImage
        from geovec.nets.weights import load_weights

        loaded = {net: load_weights(net, path) for net, path in weights.items()}
        self.extractor = FeatureExtractor(features, batch_size=batch_size, weights=loaded)
        self.prepared = PreparedImage

    def __call__(self, batch: dict) -> dict:
        ex = self.extractor
        ok = np.flatnonzero(~_failed(batch))
        prepared = [
            self.prepared(
                crop=batch["crop"][i] if ex.needs_crop else None,
                grey=batch["grey"][i] if ex.needs_gist else None,
            )
            for i in ok
        ]
        values = ex.run(prepared)
        out = {"index": batch["index"], "stage": batch["stage"], "error": batch["error"]}
        for spec in ex.specs:
            column = np.zeros((len(batch["index"]), spec.dim), np.float32)
            column[ok] = values[spec.name]
            out[spec.name] = column
        return out


def ray_stream_features(
    extractor,
    records: Sequence[Record],
    write: Callable[[list[Record], dict], None],
    fail: Callable[[list[Failure]], None],
    *,
    workers: int | None = None,
    chunk_rows: int | None = None,
    progress: ProgressReporter | None = None,
    gpus_per_worker: float | None = None,
) -> tuple[int, int]:
    """:func:`geovec.ingestion.stream.stream_features` on Ray (Ray started already):
    chunks of rows handed to ``write`` on the driver as the actors finish them.

    Where the cluster has GPUs, each actor takes one (``num_gpus=1``; default workers: one
    per GPU) and runs the networks there, given jax's CUDA build on the nodes
    (``pip install 'geovec[cuda]'``)."""
    import ray

    if getattr(extractor, "encoders", None):  # their sessions live in this process
        raise GeovecError(
            f"ONNX encoder features ({', '.join(extractor.encoders)}) run on the local engine "
            "only: leave out --engine ray"
        )
    if not records:
        return 0, 0
    chunk_rows = chunk_rows or extractor.batch_size * 4
    resources = ray.cluster_resources()
    cpus, gpus = float(resources.get("CPU", 1)), int(resources.get("GPU", 0))
    if gpus and gpus_per_worker is None:  # one GPU per actor (jax's CUDA build on the nodes)
        gpus_per_worker, workers = 1, workers or gpus
    workers = workers or max(1, int(cpus) - 1)
    # the decode tasks keep half a CPU; the actors share the rest, one CPU each at most
    actor_cpus = max(0.1, min(1.0, (cpus - PREPARE_CPUS) / workers))
    items = [{"index": i, "path": str(r.path)} for i, r in enumerate(records)]
    blocks = -(-len(items) // extractor.batch_size)  # one decode task per batch
    weights = {net: str(w.path) for net, w in extractor.weights.items()}
    ds = ray.data.from_items(items, override_num_blocks=blocks)
    ds = ds.map_batches(
        _prepare,
        batch_size=extractor.batch_size,
        fn_kwargs={"needs_crop": extractor.needs_crop, "needs_gist": extractor.needs_gist},
        num_cpus=PREPARE_CPUS,
    )
    ds = ds.map_batches(
        _Extract,
        fn_constructor_kwargs={
            "features": extractor.features,
            "batch_size": extractor.batch_size,
            "weights": weights,
        },
        batch_size=extractor.batch_size,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=actor_cpus,
        num_gpus=gpus_per_worker or 0,
        runtime_env={"env_vars": {"XLA_FLAGS": XLA_ONE_THREAD, "OMP_NUM_THREADS": "1"}},
    )
    done = failed = 0
    for batch in ds.iter_batches(batch_size=chunk_rows, batch_format="numpy"):
        wrote, bad = _hand_over(batch, records, extractor.features, write, fail)
        done, failed = done + wrote, failed + bad
        if progress:
            progress.advance(len(batch["index"]))
    return done, failed
