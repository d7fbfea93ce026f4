"""``geovec info DB``: where a store stands, and the next step it lacks
(:mod:`geovec.analyses.info`)."""

from __future__ import annotations

from geovec.cli.app import (
    DbArgument,
    JsonOption,
    app,
    command,
    echo_lines,
    open_existing,
    print_json,
)
from geovec.cli.helptext import STORE
from geovec.errors import StoreError


@command(app, "info", panel=STORE)
def info_command(db: DbArgument, json_out: JsonOption = False) -> None:
    """What the store holds and the next step it lacks.

    Tables and their rows, feature columns per view with their provenance (network,
    layer, weights), regions, the isolated, train and test photos, vector indexes,
    failures by stage, learned heads embedded, and each missing step with the command that
    supplies it (e.g. no map tiles: geovec grid + geovec aerial)."""
    from geovec.analyses.info import store_info
    from geovec.report.store_info import info_lines

    info = store_info(open_existing(db))
    if not info["counts"]:  # a folder without a geovec table is not a store (yet)
        raise StoreError(f"{db}: no geovec tables here; {'; '.join(info['next'])}")
    if json_out:
        print_json(info)
    else:
        echo_lines(info_lines(info))
