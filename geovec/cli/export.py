"""Georeferenced products on the command line: ``geovec export`` (a table as GeoParquet,
or a STAC catalogue of a folder of exports), and the by-suffix writers that ``landcover
--out`` and ``localize --heatmap`` use (.png: the figure; .tif: a COG; .geojson/.parquet:
the heatmap's tiles as polygons)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import (
    DbArgument,
    JsonOption,
    app,
    command,
    open_existing,
    print_json,
    split_list,
)
from geovec.cli.helptext import OUTPUTS
from geovec.errors import ExportError

CrsOption = Annotated[
    str | None,
    typer.Option(
        help="CRS of a .tif (e.g. EPSG:3857); default: the region's azimuthal equidistant "
        "frame, where it is computed."
    ),
]


@command(app, "export", panel=OUTPUTS)
def export_command(
    db: DbArgument,
    out: Annotated[
        Path | None, typer.Option(help="GeoParquet file to write (.parquet) for --view.")
    ] = None,
    stac: Annotated[
        Path | None,
        typer.Option(
            help="Folder: export every view's features there as GeoParquet and write a STAC "
            "catalogue of them and of the .tif/.geojson/.parquet products already there."
        ),
    ] = None,
    view: Annotated[
        str | None, typer.Option(help="ground, overhead or map (with --stac: only that one).")
    ] = None,
    feature: Annotated[
        str | None, typer.Option(help="Feature columns to include, e.g. gist,places_fc8.")
    ] = None,
    rows_per_group: Annotated[
        int | None, typer.Option(help="Rows per Parquet row group (default: ~128 MB each).")
    ] = None,
    license: Annotated[  # noqa: A002 - STAC's field name
        str, typer.Option(help="The STAC collections' license (SPDX id or proprietary).")
    ] = "proprietary",
    as_json: JsonOption = False,
) -> None:
    """Export a table as GeoParquet 1.1, or a folder of exports as STAC.

    A table with --out FILE.parquet; the exports of a folder as a STAC catalog with --stac."""
    import geovec
    from geovec.report.paths import output_file, output_folder

    if (out is None) == (stac is None):
        raise ExportError("give --out FILE.parquet (one view) or --stac DIR (a catalogue)")
    features = split_list(feature)
    if out is not None:
        if view is None:
            raise ExportError("--out needs --view ground|overhead|map")
        output_file(out, make=False)
        result = geovec.export(
            open_existing(db), out, view=view, features=features, rows_per_group=rows_per_group
        )
    else:
        output_folder(stac, make=False)
        result = geovec.export_stac(
            open_existing(db),
            stac,
            views=[view] if view else None,
            features=features,
            license=license,
        )
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(result.summary())


def check_output(path: Path, kind: str, crs: str | None) -> None:
    """Before the work: ``path`` can be written as a ``kind`` (landcover, heatmap) file."""
    from geovec.exports.products import check_product
    from geovec.report.paths import output_file

    output_file(path, make=False)
    check_product(path, kind, crs)


def write_landcover_file(result, path: Path, crs: str | None) -> Path:
    """The land-cover figure (.png) or COG (.tif)."""
    from geovec.exports.products import is_figure, write_landcover_product
    from geovec.report.results import write_landcover

    if is_figure(path):
        return write_landcover(result, path)
    return write_landcover_product(result, path, crs=crs)


def write_heatmap_file(result, path: Path, crs: str | None) -> Path:
    """The heatmap figure (.png), COG (.tif) or tile polygons (.geojson, .parquet)."""
    from geovec.exports.products import is_figure, write_heatmap_product
    from geovec.report.results import write_heatmap

    if is_figure(path):
        return write_heatmap(result, path)
    return write_heatmap_product(result, path, crs=crs)
