"""``geovec compare`` (the paper's analyses for several features at the same places) and
``geovec coverage`` (the dataset's coverage figure, Fig. 3, or its raster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import (
    DbArgument,
    JsonOption,
    NeighborsOption,
    app,
    command,
    echo_lines,
    fail,
    open_existing,
    print_json,
)
from geovec.cli.helptext import ANALYSES, OUTPUTS
from geovec.defaults import DEFAULT_NEIGHBORS, DEFAULT_TRAIN_PER_REGION


@command(app, "compare", panel=ANALYSES)
def compare_command(
    db: DbArgument,
    features: Annotated[
        str, typer.Option(help="Features to compare, comma-separated, e.g. gist,places_fc8,clip.")
    ],
    neighbors: NeighborsOption = DEFAULT_NEIGHBORS,
    train_per_region: Annotated[
        int, typer.Option(help="Most training photos per region for the classifier.")
    ] = DEFAULT_TRAIN_PER_REGION,
    protocol: Annotated[
        str | None,
        typer.Option(help="Cross-view: map or pairs (default: map when there are map tiles)."),
    ] = None,
    split: Annotated[str, typer.Option(help="pairs: the queries' split.")] = "test",
    out: Annotated[
        Path | None, typer.Option(help="Folder for compare.json, compare.csv and compare.png.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The paper's analyses side by side for several features (Table 1).

    Table 1 for any encoder, at the same places: region classification, cross-view
    localisation, land-cover PCA."""
    import geovec
    from geovec.report.comparison import write_comparison
    from geovec.report.paths import output_folder

    if out:
        output_folder(out, make=False)  # before the work, not after it
    result = geovec.compare(
        open_existing(db),
        features,
        neighbors=neighbors,
        train_per_region=train_per_region,
        protocol=protocol,
        split=split,
    )
    if out:
        write_comparison(result, out)
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(result.table())


@command(app, "coverage", panel=OUTPUTS)
def coverage_command(
    db: DbArgument,
    out: Annotated[
        Path,
        typer.Option(
            help="X.png: the figure (tile footprints, photos by source); X.tif: a Cloud "
            "Optimized GeoTIFF of one region (tiles and photos per pixel)."
        ),
    ],
    region: Annotated[
        str | None, typer.Option(help="Only this region (a .tif needs one when there are several).")
    ] = None,
    pixel_m: Annotated[
        float | None, typer.Option(help=".tif: pixel size in metres (default 10).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Where the data are (paper Fig. 3): tiles and photos per region.

    The map tiles' footprints with the ground photos over them, coloured by source, one
    panel per region; or, as .tif, a raster of them."""
    import geovec
    from geovec.report.paths import output_file

    suffix = output_file(out, {".png", ".tif", ".tiff"}, make=False).suffix.lower()
    if pixel_m is not None and suffix == ".png":
        fail("--pixel-m sets a .tif's pixels; a .png has none to set")
    result = geovec.coverage(open_existing(db), region=region)
    info: dict = {"out": str(out)}
    if suffix == ".png":
        from geovec.report.coverage import coverage_figure

        coverage_figure(result, out)
    else:
        from geovec.exports.coverage import coverage_cog

        options = {} if pixel_m is None else {"pixel_m": pixel_m}
        written = coverage_cog(result, out, **options)
        info |= {"width": written.width, "height": written.height, "crs": written.crs_proj}
    if as_json:
        print_json({**result.as_dict(), **info})
        return
    echo_lines([*result.lines(), f"wrote {out}"])
