"""Vector indexes on the command line: ``geovec index`` builds, lists, drops and measures
them (:mod:`geovec.store.indexes`)."""

from __future__ import annotations

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
from geovec.cli.helptext import STORE


@command(app, "index", panel=STORE)
def index_command(
    db: DbArgument,
    view: Annotated[str | None, typer.Option(help="ground, overhead or map.")] = None,
    feature: Annotated[str | None, typer.Option(help="The feature column to index.")] = None,
    kind: Annotated[str, typer.Option(help="ivf_pq, ivf_hnsw_sq or ivf_flat.")] = "ivf_pq",
    partitions: Annotated[
        int | None, typer.Option(help="IVF partitions (default: about sqrt(rows)).")
    ] = None,
    sub_vectors: Annotated[
        int | None, typer.Option(help="ivf_pq: sub-vectors, dividing the length.")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the vector indexes.")] = False,
    drop: Annotated[bool, typer.Option(help="Drop the index of --view/--feature.")] = False,
    recall: Annotated[
        int | None, typer.Option(help="Measure recall@K of the index against exact search.")
    ] = None,
    queries: Annotated[int, typer.Option(help="Sampled queries for --recall.")] = 100,
    nprobes: Annotated[
        int | None, typer.Option(help="--recall: partitions searched (default: a fifth, >= 20).")
    ] = None,
    refine_factor: Annotated[
        int | None,
        typer.Option(help="--recall: re-rank K x this many by full vectors (default 10)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Build, list, drop or measure vector (ANN) indexes.

    Approximate nearest-neighbour indexes of a feature column."""
    from geovec.errors import VectorIndexError
    from geovec.store import indexes

    store = open_existing(db)
    if list_:
        found = indexes.list_indexes(store)
        if as_json:
            print_json([vars(i) for i in found])
        else:
            echo_lines([i.line() for i in found] or ["no vector indexes"])
        return
    if not view or not feature:
        raise VectorIndexError("name the --view and the --feature (or use --list)")
    if drop:
        done = indexes.drop_index(store, view, feature)
        result, line = vars(done), f"dropped the index of {view}.{feature}"
    elif recall is not None:
        measured = indexes.measure_recall(
            store,
            view,
            feature,
            k=recall,
            queries=queries,
            nprobes=nprobes,
            refine_factor=refine_factor,
        )
        result, line = vars(measured), measured.line()
    else:
        built = indexes.build_index(
            store, view, feature, kind=kind, partitions=partitions, sub_vectors=sub_vectors
        )
        result, line = vars(built), f"built {built.line()}"
        if built.note:
            line += f"\nnote: {built.note}"
    if as_json:
        print_json(result)
    else:
        typer.echo(line)
