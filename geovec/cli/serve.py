"""``geovec serve``: the web explorer of a store (:mod:`geovec.explorer`)."""

from __future__ import annotations

from typing import Annotated

import typer

from geovec.cli.app import DbArgument, app, command, open_existing
from geovec.cli.helptext import SERVING


@command(app, "serve", panel=SERVING)
def serve_command(
    db: DbArgument,
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but 127.0.0.1 is public.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
) -> None:
    """Explore the store on a map in the browser (photos, tiles, SQL).

    Photos, aerial tiles, heatmaps and SQL over the store."""
    from geovec.explorer.server import serve

    serve(open_existing(db), host=host, port=port, open_browser=open_browser, say=typer.echo)
