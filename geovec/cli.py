"""The ``geovec`` command line: a thin Typer layer over the library.

Every user error is a :class:`~geovec.errors.GeovecError`; it is printed as one line on
stderr and the command exits with status 1, never with a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from geovec import DEFAULT_BATCH_SIZE
from geovec.errors import GeovecError
from geovec.synth import DEFAULT_EXTENT_KM, DEFAULT_GROUND, DEMO_GROUND

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
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
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
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
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
    ground: Annotated[int, typer.Option(help="Ground locations per region.")] = DEFAULT_GROUND,
    extent_km: Annotated[
        float, typer.Option(help="Side of each square region, km.")
    ] = DEFAULT_EXTENT_KM,
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


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
FeatureOption = Annotated[str, typer.Option(help="Feature column to use, e.g. places_fc8, gist.")]
NeighborsOption = Annotated[int, typer.Option(help="Nearest training ground images (K).")]


def open_existing(db: Path):
    import geovec

    return geovec.open(db, create=False)


@command(app, "isolate")
def isolate_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    radius_m: Annotated[float, typer.Option(help="Isolation radius in metres.")] = 250.0,
    as_json: JsonOption = False,
) -> None:
    """Mark ground images with no other ground image within R metres (the test set)."""
    from geovec.isolation import isolate

    result = isolate(open_existing(db), radius_m)
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"isolated {result.isolated} of {result.total} ground images (radius {radius_m:g} m)"
    )
    for region, counts in result.regions.items():
        typer.echo(f"  {region}: {counts['isolated']} of {counts['total']}")


@command(app, "evaluate")
def evaluate_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    feature: Annotated[
        str, typer.Option(help="Feature(s), comma-separated, e.g. places_fc8,gist.")
    ] = "places_fc8",
    neighbors: NeighborsOption = 30,
    out: Annotated[Path | None, typer.Option(help="Folder for results JSON and curve PNG.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Cross-view localisation of every isolated image: ranks, curve, top-1 %, recall."""
    from geovec.crossview import evaluate
    from geovec.plots import localisation_curves

    store = open_existing(db)
    results = [evaluate(store, f.strip(), neighbors) for f in feature.split(",") if f.strip()]
    if out:
        out.mkdir(parents=True, exist_ok=True)
        for r in results:
            (out / f"evaluate_{r.feature}.json").write_text(json.dumps(r.as_dict(), indent=1))
        localisation_curves({r.feature: r.curve for r in results}, out / "curve.png")
    if as_json:
        print_json(results[0].as_dict() if len(results) == 1 else [r.as_dict() for r in results])
        return
    for r in results:
        typer.echo(r.summary())
    if out:
        typer.echo(f"wrote {out / 'curve.png'}")


@command(app, "localize")
def localize_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    ground_image: Annotated[Path | None, typer.Argument(help="Ground image file.")] = None,
    id: Annotated[str | None, typer.Option(help="A stored ground image instead of a file.")] = None,
    feature: FeatureOption = "places_fc8",
    neighbors: NeighborsOption = 30,
    region: Annotated[str | None, typer.Option(help="Region whose tiles to score.")] = None,
    heatmap: Annotated[Path | None, typer.Option(help="Write the tile-score heatmap PNG.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rank the map tiles for one ground image; best tiles with lon/lat, and a heatmap."""
    from geovec.errors import GeovecError
    from geovec.localize import localize, write_heatmap

    if (ground_image is None) == (id is None):
        raise GeovecError("give a GROUND_IMAGE file or --id of a stored image (one of them)")
    result = localize(
        open_existing(db),
        ground_image,
        ident=id,
        feature=feature,
        neighbors=neighbors,
        region=region,
    )
    if heatmap:
        write_heatmap(result, heatmap)
    if as_json:
        print_json(result.as_dict())
        return
    for i, tile in enumerate(result.best[:5], 1):
        typer.echo(
            f"{i}. {tile['id']}  lon {tile['lon']:.5f}  lat {tile['lat']:.5f}  "
            f"distance {tile['distance']:.4f}"
        )
    if result.true_rank is not None:
        typer.echo(f"true tile {result.true_tile}: rank {result.true_rank} of {result.candidates}")
    if heatmap:
        typer.echo(f"wrote {heatmap}")


@command(app, "search")
def search_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    aerial_image: Annotated[Path, typer.Argument(help="Aerial image to search with.")],
    feature: FeatureOption = "places_fc8",
    k: Annotated[int, typer.Option(help="Number of nearest aerial images.")] = 8,
    bbox: Annotated[str | None, typer.Option(help="Only within W,S,E,N (decimal degrees).")] = None,
    near: Annotated[
        str | None, typer.Option(help="Only within LON,LAT,RADIUS_M of a point.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the montage PNG here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Aerial image-based search: nearest aerial images and their ground photos."""
    from geovec.errors import GeovecError
    from geovec.grid import parse_bbox
    from geovec.search import search, write_montage

    box = parse_bbox(bbox) if bbox else None
    point = None
    if near:
        try:
            point = tuple(float(v) for v in near.split(","))
            assert len(point) == 3
        except (ValueError, AssertionError):
            raise GeovecError("--near is LON,LAT,RADIUS_M, e.g. -79.94,32.78,2000") from None
    hits = search(open_existing(db), aerial_image, feature, k, box, point)
    if out:
        write_montage(aerial_image, hits, out)
    if as_json:
        print_json(
            {
                "query": str(aerial_image),
                "feature": feature,
                "results": [dataclasses.asdict(h) for h in hits],
            }
        )
        return
    for h in hits:
        typer.echo(
            f"{h.id}  distance {h.distance:.4f}  lon {h.lon:.5f}  lat {h.lat:.5f}  "
            f"ground {h.ground_path}"
        )
    if out:
        typer.echo(f"wrote {out}")


@command(app, "classify")
def classify_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    feature: Annotated[
        str | None, typer.Option(help="Features, comma-separated (default: all stored).")
    ] = None,
    train_per_region: Annotated[int, typer.Option(help="Training images per region.")] = 10_000,
    out: Annotated[Path | None, typer.Option(help="Folder for montages and JSON.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Region classification with an RBF SVM per feature (paper Table 1), with montages."""
    from geovec.region import classify, write_montages

    store = open_existing(db)
    features = [f.strip() for f in feature.split(",")] if feature else None
    result = classify(store, features, train_per_region)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "classify.json").write_text(json.dumps(result.as_dict(), indent=1))
        write_montages(store, result, out)
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(result.table())


@command(app, "landcover")
def landcover_command(
    db: Annotated[Path, typer.Argument(help="Database directory.")],
    out: Annotated[Path, typer.Option(help="PNG to write.")],
    region: Annotated[str | None, typer.Option(help="Region (needed when several).")] = None,
    feature: FeatureOption = "places_fc8",
    truth: Annotated[
        Path | None, typer.Option(help="CSV with id,landcover (synth's truth.csv).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """PCA of a feature over the map tiles as RGB, natural-neighbour filled (Figure 7)."""
    from geovec.landcover import landcover, write_landcover

    result = landcover(open_existing(db), region, feature, truth=truth)
    write_landcover(result, out)
    if as_json:
        print_json({**result.as_dict(), "out": str(out)})
        return
    explained = sum(result.explained_variance)
    line = f"{result.region}: {result.tiles} tiles, variance explained {explained:.2f}"
    if result.class_accuracy is not None:
        line += f", class accuracy {result.class_accuracy:.2f} (chance {result.chance:.2f})"
    typer.echo(line)
    typer.echo(f"wrote {out}")


@command(app, "demo")
def demo(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the world, database and report.")
    ] = Path("demo"),
    ground: Annotated[int, typer.Option(help="Ground locations per region.")] = DEMO_GROUND,
    extent_km: Annotated[
        float, typer.Option(help="Side of each square region, km.")
    ] = DEFAULT_EXTENT_KM,
) -> None:
    """Synthesise a world, ingest it, run every analysis, write DIR/report.html."""
    from geovec.demo import run_demo

    result = run_demo(directory, say=typer.echo, ground=ground, extent_km=extent_km)
    typer.echo(f"report: {result.report.resolve()}")
