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


FeaturesOption = Annotated[
    str | None,
    typer.Option(help="Comma-separated features, e.g. gist,places_fc8,imagenet_fc7."),
]
BatchOption = Annotated[int, typer.Option(help="Images per forward pass.")]


@command(app, "ingest")
def ingest_command(
    db: Annotated[Path, typer.Argument(help="Database directory (created if new).")],
    source: Annotated[
        Path, typer.Argument(help="Manifest (.csv, .parquet, .geojson) or folder of images.")
    ],
    view: Annotated[
        str | None, typer.Option(help="ground, overhead or map (default: the manifest's).")
    ] = None,
    features: FeaturesOption = None,
    batch_size: BatchOption = 32,
    outdoor_only: Annotated[
        bool, typer.Option(help="Drop ground images Places205 calls indoor (needs weights).")
    ] = False,
) -> None:
    """Ingest images with locations: decode, extract features, append to LanceDB."""
    import geovec
    from geovec.ingestion import default_features

    chosen = features.split(",") if features else default_features()
    typer.echo(f"features: {', '.join(chosen)}", err=True)
    summary = geovec.ingest(
        geovec.open(db),
        source,
        view=view,
        features=chosen,
        batch_size=batch_size,
        progress=True,
        outdoor_only=outdoor_only,
    )
    typer.echo(summary.line())


@command(app, "extract")
def extract_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    features: Annotated[str, typer.Option(help="Comma-separated features to fill in.")],
    view: Annotated[str | None, typer.Option(help="Only this view (default: all).")] = None,
    batch_size: BatchOption = 32,
) -> None:
    """Compute feature columns that stored rows lack (e.g. add imagenet_fc7 later)."""
    import geovec

    summary = geovec.extract_missing(
        geovec.open(db, create=False), features, view=view, batch_size=batch_size, progress=True
    )
    typer.echo(summary.line("extracted"))


@command(app, "sql")
def sql_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    query: Annotated[str, typer.Argument(help="DuckDB SQL; tables by name, spatial loaded.")],
    format: Annotated[str, typer.Option(help="table, csv or json.")] = "table",
    write: Annotated[bool, typer.Option(help="Allow statements that change the tables.")] = False,
) -> None:
    """Run ad hoc DuckDB SQL over the tables (ground, overhead, map, failures)."""
    import geovec
    from geovec.formatting import format_table

    result = geovec.open(db, create=False).sql(query, write=write)
    typer.echo(format_table(result, format))


@command(app, "synth")
def synth_command(
    directory: Annotated[Path, typer.Argument(help="Folder to write the world into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same world.")] = 0,
    ground: Annotated[int, typer.Option(help="Ground locations per region.")] = 150,
    extent_km: Annotated[float, typer.Option(help="Side of each square region, km.")] = 6.0,
) -> None:
    """Write the synthetic two-region world: land cover, tiles, photos, manifests."""
    from geovec.synth.build import synth

    summary = synth(directory, seed=seed, ground=ground, extent_km=extent_km, progress=True)
    state = "reused" if summary.reused else "wrote"
    typer.echo(
        f"{state} {summary.ground} ground, {summary.overhead} overhead, {summary.tiles} map "
        f"images; manifest {summary.manifest}, truth {summary.truth}"
    )


@command(app, "grid")
def grid_command(
    bbox: Annotated[str, typer.Option(help="Region as W,S,E,N in decimal degrees.")],
    tile_m: Annotated[float, typer.Option(help="Tile side in metres.")] = 480.0,
    spacing_m: Annotated[
        float | None, typer.Option(help="Distance between centres, m (default: tile side).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write CSV here (default: stdout).")] = None,
) -> None:
    """Aerial reference grid: tile centres (lon, lat) and footprints over a bbox."""
    import csv
    import io

    from geovec.grid import parse_bbox, reference_grid

    grid = reference_grid(parse_bbox(bbox), tile_m, spacing_m)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "lon", "lat", "size_m", "footprint"])
    writer.writeheader()
    writer.writerows(grid.rows())
    if out:
        out.write_text(buffer.getvalue())
        typer.echo(f"wrote {len(grid)} tiles to {out}")
    else:
        typer.echo(buffer.getvalue().rstrip("\n"))


@command(app, "cutouts")
def cutouts_command(
    panoramas: Annotated[list[Path], typer.Argument(help="Equirectangular panoramas (2:1).")],
    out: Annotated[Path, typer.Option(help="Folder for the perspective views.")],
    headings: Annotated[
        str, typer.Option(help="Headings relative to the car, degrees, comma-separated.")
    ] = "-90,90",
    size: Annotated[str, typer.Option(help="Width x height in pixels.")] = "800x600",
    fov: Annotated[float, typer.Option(help="Horizontal field of view, degrees.")] = 90.0,
) -> None:
    """Cut perspective views (default: the two side-facing 800x600) from panoramas."""
    from geovec.cutouts import write_cutouts
    from geovec.errors import GeovecError

    try:
        angles = tuple(float(h) for h in headings.split(","))
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise GeovecError(
            "--headings are degrees like -90,90 and --size is WxH like 800x600"
        ) from None
    written = write_cutouts(panoramas, out, angles, (width, height), fov)
    typer.echo(f"wrote {len(written)} views to {out}")


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
