"""``geovec demo``: the whole toolkit on the built-in synthetic world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import app, command
from geovec.cli.helptext import OUTPUTS
from geovec.synthetic import DEFAULT_EXTENT_KM, DEMO_GROUND


@command(app, "demo", panel=OUTPUTS)
def demo_command(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder for the world, database and report.")
    ] = Path("demo"),
    ground: Annotated[int, typer.Option(help="Ground locations per region.")] = DEMO_GROUND,
    extent_km: Annotated[
        float, typer.Option(help="Side of each square region, km.")
    ] = DEFAULT_EXTENT_KM,
) -> None:
    """Synthesise a world, run every analysis, write DIR/report.html.

    The world is ingested into DIR/db first; the report links every figure."""
    import geovec

    result = geovec.run_demo(directory, say=typer.echo, ground=ground, extent_km=extent_km)
    typer.echo(f"report: {result.report.resolve()}")
    typer.echo(f"explore it on a map: geovec serve {result.db}")
