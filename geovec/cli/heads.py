"""Learned cross-view heads on the command line: ``train`` and ``embed`` (evaluation and
localisation take ``--head`` in :mod:`.analyses`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import DbArgument, JsonOption, app, command, open_existing, print_json
from geovec.cli.helptext import HEADS
from geovec.defaults import (
    DEFAULT_EPOCHS,
    DEFAULT_HEAD_BATCH,
    DEFAULT_HEAD_DIM,
    DEFAULT_HEAD_HIDDEN,
    DEFAULT_HEAD_SPLIT,
    DEFAULT_RADIUS_M,
)

HeadArgument = Annotated[Path, typer.Argument(help="The head file (safetensors).")]


@command(app, "train", panel=HEADS)
def train_command(
    db: DbArgument,
    ground_feature: Annotated[str, typer.Option(help="The ground images' input feature.")],
    out: Annotated[
        Path, typer.Option(help="Head file to write; its name names the embedding columns.")
    ],
    overhead_feature: Annotated[
        str | None, typer.Option(help="The overhead images' input feature (default: the same).")
    ] = None,
    split: Annotated[
        str, typer.Option(help="Train on this split's pairs ('all': every non-test pair).")
    ] = DEFAULT_HEAD_SPLIT,
    dim: Annotated[int, typer.Option(help="Embedding length.")] = DEFAULT_HEAD_DIM,
    hidden: Annotated[int, typer.Option(help="Hidden width of each tower.")] = DEFAULT_HEAD_HIDDEN,
    epochs: Annotated[int, typer.Option(help="Passes over the pairs.")] = DEFAULT_EPOCHS,
    batch: Annotated[int, typer.Option(help="Pairs per step (in-batch negatives).")] = (
        DEFAULT_HEAD_BATCH
    ),
    seed: Annotated[int, typer.Option(help="Seed: one seed gives one file.")] = 0,
    radius_m: Annotated[
        float, typer.Option(help="Leave out pairs within this many metres of a test image.")
    ] = DEFAULT_RADIUS_M,
    negatives: Annotated[
        str,
        typer.Option(
            help="Which pairs share a batch (each other's negatives): random (a new shuffle "
            "each epoch), or gps (pairs taken within a few tiles of each other together: "
            "hard negatives by geography)."
        ),
    ] = "random",
    as_json: JsonOption = False,
) -> None:
    """Train a head mapping ground and overhead features to one space.

    A two-tower head, one tower per view, trained on the stored pairs."""
    from geovec.heads import train

    summary = train(
        open_existing(db),
        ground_feature=ground_feature,
        overhead_feature=overhead_feature,
        out=out,
        split=None if split == "all" else split,
        dim=dim,
        hidden=hidden,
        epochs=epochs,
        batch=batch,
        seed=seed,
        radius_m=radius_m,
        negatives=negatives,
        progress=not as_json,
    )
    if as_json:
        print_json({k: v for k, v in vars(summary).items()} | {"path": str(summary.path)})
    else:
        typer.echo(summary.line())


@command(app, "embed", panel=HEADS)
def embed_command(db: DbArgument, head: HeadArgument, as_json: JsonOption = False) -> None:
    """Write a head's embeddings as two feature columns.

    <head>_ground and <head>_overhead."""
    from geovec.heads import embed

    summary = embed(open_existing(db), head, progress=not as_json)
    if as_json:
        print_json(vars(summary))
    else:
        typer.echo(summary.line())
