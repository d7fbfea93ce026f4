"""The Typer application and what every command shares: one-line user errors, JSON output,
and the options several commands take. Commands live beside this file, by role."""

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
    """Turn a GeovecError into a one-line message and exit status 1."""

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


def echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def open_existing(db: Path):
    """The store at ``db``, which must exist."""
    import geovec

    return geovec.open(db, create=False)


def split_list(text: str | None) -> list[str] | None:
    """ "a, b,c" → ["a", "b", "c"]; None stays None."""
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


DbArgument = Annotated[Path, typer.Argument(help="Database directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
FeatureOption = Annotated[str, typer.Option(help="Feature column to use, e.g. places_fc8, gist.")]
NeighborsOption = Annotated[int, typer.Option(help="Nearest training ground images (K).")]
