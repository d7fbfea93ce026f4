"""Regions on the command line: the ``--region NAME`` and ``--regions LAYER [--region-field
F]`` options of ``ingest``, ``grid`` and ``aerial``, and ``geovec regions`` to (re)assign
them in a store (:mod:`geovec.analyses.region_rules`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import (
    DbArgument,
    JsonOption,
    app,
    command,
    echo_lines,
    open_existing,
    print_json,
)
from geovec.cli.helptext import DATA_IN

RegionNameOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        metavar="NAME",
        help="Name the region of every row that has none (e.g. charleston).",
    ),
]
RegionsLayerOption = Annotated[
    Path | None,
    typer.Option(
        "--regions",
        metavar="LAYER",
        help="A polygon layer (.geojson or GeoParquet): each row takes the name of the polygon "
        "holding it; in none: no region.",
    ),
]
RegionFieldOption = Annotated[
    str | None,
    typer.Option(
        metavar="FIELD",
        help="The layer's field naming the regions (default: name, else the first text field).",
    ),
]


def region_rule(name: str | None, layer: Path | None, field: str | None):
    """The :class:`~geovec.analyses.region_rules.RegionRule` of the options, or None."""
    from geovec.analyses.region_rules import RegionRule

    return RegionRule.of(name, layer, field)


def echo_assignment(found, things: str) -> None:
    """The regions a command gave, one line on stderr (its output may be data)."""
    if found is not None:
        typer.echo(f"regions: {found.line(things)}", err=True)


@command(app, "regions", panel=DATA_IN)
def regions_command(
    db: DbArgument,
    set_name: Annotated[
        str | None, typer.Option("--set", metavar="NAME", help="Name every row's region NAME.")
    ] = None,
    from_layer: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="LAYER",
            help="A polygon layer (.geojson or GeoParquet): each row takes the name of the "
            "polygon holding it; in none: no region.",
        ),
    ] = None,
    region_field: RegionFieldOption = None,
    table: Annotated[str, typer.Option(help="ground, aerial (overhead and map) or all.")] = "all",
    as_json: JsonOption = False,
) -> None:
    """Name the regions of stored rows: one name, or by polygons.

    --set NAME names every row; --from LAYER each by the polygon holding it. Rows in no
    polygon get no region (shown as "no region", addressed as --region ""); rows without
    a position keep theirs under --from."""
    from geovec.analyses.region_rules import assign_regions
    from geovec.errors import GeovecError

    if set_name is None and from_layer is None:
        raise GeovecError("give --set NAME or --from LAYER")
    if set_name is not None and from_layer is not None:
        raise GeovecError("give --set NAME or --from LAYER, not both")
    if region_field is not None and from_layer is None:
        raise GeovecError("--region-field names a field of the --from LAYER; give one")
    rule = region_rule(set_name, from_layer, region_field)
    summary = assign_regions(open_existing(db), rule, tables=table)
    if as_json:
        print_json(summary.as_dict())
    else:
        echo_lines(summary.lines())
