"""``geovec weights convert``, ``geovec weights add-onnx`` and ``geovec weights list``."""

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
    net: Annotated[str, typer.Option(help="Architecture: caffenet, places205 or places365.")],
    mean: Annotated[
        Path | None,
        typer.Option(
            help="Mean image (.binaryproto or .npy, BGR); required for places205 and places365."
        ),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="Category names: categoryIndex_places205.csv, synset_words.txt, "
            "categories_places365.txt or IO_places365.txt (places365 has its own by default)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output file (default: <weights dir>/<net>.safetensors).")
    ] = None,
    compile_network: Annotated[
        bool,
        typer.Option(
            "--compile/--no-compile",
            help="Compile the network for batches of 1 and 64 into the compiled-program "
            "cache, so the first search or ingest need not.",
        ),
    ] = True,
) -> None:
    """Convert Caffe weights to safetensors, checking layer shapes.

    The file geovec's networks read."""
    from geovec.nets.convert import convert_caffemodel

    result = convert_caffemodel(caffemodel, net, mean=mean, labels=labels, out=out)
    typer.echo(f"wrote {result.path} ({result.net}, source sha256 {result.source_sha256[:16]}...)")
    typer.echo(f"checksum: {result.checksum} ({result.checksum_note})")
    if result.checksum == "mismatch":
        typer.echo("warning: the source file differs from the published release", err=True)
    typer.echo(f"labels: {result.labels or 'none (pass --labels to name classes)'}")
    if compile_network:
        from geovec.features.extract import warm_network

        folder, sizes = warm_network(result.net, result.path)
        if sizes:
            shapes = " and ".join(str(n) for n in sizes)
            typer.echo(f"compiled for batches of {shapes} into {folder}")


@command(weights_app, "add-onnx")
def weights_add_onnx(
    model: Annotated[
        Path,
        typer.Argument(
            help="The .onnx file: one NCHW float32 image input, one [batch, dim] output."
        ),
    ],
    name: Annotated[str, typer.Option(help="Feature name for its vectors, e.g. dinov2_small.")],
    size: Annotated[
        int | None,
        typer.Option(help="Input side S in pixels (default: the model's fixed side, else 224)."),
    ] = None,
    mean: Annotated[
        str | None,
        typer.Option(help="R,G,B mean on the --scale (default ImageNet's: 0.485,0.456,0.406)."),
    ] = None,
    std: Annotated[
        str | None,
        typer.Option(help="R,G,B standard deviation (default ImageNet's: 0.229,0.224,0.225)."),
    ] = None,
    scale: Annotated[int, typer.Option(help="1: pixels / 255 (0-1 values); 255: keep 0-255.")] = 1,
    channels: Annotated[str, typer.Option(help="Channel order the model expects: rgb or bgr.")] = (
        "rgb"
    ),
    crop: Annotated[
        str,
        typer.Option(
            help="none: resize the whole image to S x S; centre: shorter side to S, centre crop."
        ),
    ] = "none",
    output: Annotated[
        str | None, typer.Option(help="The output to read, where the model has several.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an ONNX image encoder as a feature (then --features NAME).

    The model is checked with onnxruntime and copied into the weights directory with its
    sha256 and preprocessing."""
    import geovec
    from geovec.encoders.preprocessing import parse_triple

    info = geovec.add_onnx(
        model,
        name,
        size=size,
        mean=parse_triple(mean, "--mean") if mean is not None else None,
        std=parse_triple(std, "--std") if std is not None else None,
        scale=scale,
        channels=channels.lower(),
        crop=crop.lower(),
        output=output,
    )
    facts = info.facts
    if as_json:
        print_json(
            {
                "name": info.name,
                "dim": info.dim,
                "path": str(info.path),
                "sha256": info.sha256,
                "input": facts.input,
                "output": facts.output,
                "batch": facts.batch,
                "preprocessing": info.preprocessing.as_dict(),
                "preprocessing_text": info.preprocessing.describe(),
            }
        )
        return
    batch = "dynamic batch" if facts.batch is None else f"fixed batch {facts.batch}"
    typer.echo(
        f"added encoder {info.name}: {info.dim}-d from output {facts.output!r}, input "
        f"{facts.input!r} ({batch}), sha256 {info.sha256[:16]}..., at {info.path}"
    )
    typer.echo(f"preprocessing: {info.preprocessing.describe()}")
    typer.echo(f"use it: geovec ingest DB SOURCE --features {info.name}")


@command(weights_app, "list")
def weights_list(as_json: JsonOption = False) -> None:
    """Show the converted networks and the added ONNX encoders.

    Where each network's file is, and the verdict of its checksum."""
    from geovec.encoders.registry import list_encoders
    from geovec.nets.weights import list_weights, weights_dir

    rows = list_weights()
    encoders = list_encoders()
    if as_json:
        print_json({"weights_dir": str(weights_dir()), "networks": rows, "encoders": encoders})
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
    for row in encoders:
        if "error" in row:
            typer.echo(f"  {row['name']:<10} damaged    {row['error']}")
        else:
            typer.echo(
                f"  {row['name']:<10} onnx       {row['path']}  ({row['dim']}-d, source "
                f"{row['source_file']}, sha256 {str(row['sha256'])[:16]}...)"
            )
