"""The ``geovec`` command line: a thin Typer layer over the library.

Every user error is a :class:`~geovec.errors.GeovecError`; it is printed as one line on
stderr and the command exits with status 1, never with a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from geovec.errors import GeovecError

app = typer.Typer(
    help="geovec: location dependence of CNN features (Workman & Jacobs, CVPRW 2015).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
weights_app = typer.Typer(help="Convert and list Caffe weights.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")


def fail(message: str) -> None:
    """Print a one-line error and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def user_errors(func: Callable) -> Callable:
    """Turn a GeovecError (or a missing file) into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except GeovecError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def command(group: typer.Typer, name: str | None = None) -> Callable:
    """Register ``func`` on ``group`` with user-error handling."""

    def register(func: Callable) -> Callable:
        return group.command(name)(user_errors(func))

    return register


def print_json(obj: object) -> None:
    """One JSON object on stdout (for ``--json``)."""
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


@command(weights_app, "convert")
def weights_convert(
    caffemodel: Annotated[
        Path, typer.Argument(help="The .caffemodel file (current or V1 format).")
    ],
    net: Annotated[str, typer.Option(help="Architecture: caffenet or places205.")],
    mean: Annotated[
        Path | None,
        typer.Option(help="Mean image (.binaryproto or .npy, BGR); required for places205."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="Category names: categoryIndex_places205.csv or synset_words.txt."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output file (default: <weights dir>/<net>.safetensors).")
    ] = None,
) -> None:
    """Convert Caffe weights to geovec's safetensors file, checking every layer's shape."""
    from geovec.weights import convert_caffemodel

    result = convert_caffemodel(caffemodel, net, mean=mean, labels=labels, out=out)
    typer.echo(f"wrote {result.path} ({result.net}, source sha256 {result.source_sha256[:16]}...)")
    typer.echo(f"checksum: {result.checksum} ({result.checksum_note})")
    if result.checksum == "mismatch":
        typer.echo("warning: the source file differs from the published release", err=True)
    typer.echo(f"labels: {result.labels or 'none (pass --labels to name classes)'}")


@command(weights_app, "list")
def weights_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show which networks are converted, where, and their checksum verdict."""
    from geovec.weights import list_weights, weights_dir

    rows = list_weights()
    if as_json:
        print_json({"weights_dir": str(weights_dir()), "networks": rows})
        return
    typer.echo(f"weights directory: {weights_dir()}")
    for row in rows:
        if row["converted"]:
            typer.echo(
                f"  {row['net']:<10} converted  {row['path']}  ({row['size_mb']} MB, "
                f"source {row['source_file']}, checksum {row['checksum']})"
            )
        else:
            typer.echo(
                f"  {row['net']:<10} missing    run: geovec weights convert FILE --net {row['net']}"
            )


@command(app, "demo")
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo's outputs.")] = Path(
        "demo"
    ),
) -> None:
    """Run the end-to-end path that exists so far and say what it did."""
    import numpy as np

    from geovec.extract import FeatureExtractor
    from geovec.weights import available_networks, network

    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(4)]
    features = ["gist"] + [f"{network(n).feature_prefix}_fc7" for n in available_networks()]
    out = FeatureExtractor(features, batch_size=4).extract(images)
    np.savez(directory / "features.npz", **out)
    for name, value in out.items():
        typer.echo(f"{name}: {value.shape[0]} images x {value.shape[1]} values")
    if len(features) == 1:
        typer.echo(
            "CNN features skipped: no converted weights (geovec weights convert FILE --net NET)"
        )
    typer.echo(f"wrote {directory / 'features.npz'}")
