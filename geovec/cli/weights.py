"""``geovec weights convert`` and ``geovec weights list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import JsonOption, command, print_json, weights_app


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
    from geovec.nets.convert import convert_caffemodel

    result = convert_caffemodel(caffemodel, net, mean=mean, labels=labels, out=out)
    typer.echo(f"wrote {result.path} ({result.net}, source sha256 {result.source_sha256[:16]}...)")
    typer.echo(f"checksum: {result.checksum} ({result.checksum_note})")
    if result.checksum == "mismatch":
        typer.echo("warning: the source file differs from the published release", err=True)
    typer.echo(f"labels: {result.labels or 'none (pass --labels to name classes)'}")


@command(weights_app, "list")
def weights_list(as_json: JsonOption = False) -> None:
    """Show which networks are converted, where, and their checksum verdict."""
    from geovec.nets.weights import list_weights, weights_dir

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
