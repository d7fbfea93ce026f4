"""The Typer application and what every command shares: one-line user errors, JSON output,
and the options several commands take. Commands live beside this file, by role.

Errors: whatever a user can cause ends as one line on stderr, never a traceback. Exit
status 1 for a failure of the work (a :class:`~geovec.errors.GeovecError`, an OS error such
as a missing or read-only path or a full disk, a damaged store:
:func:`geovec.errors.user_message`); status 2, click's and POSIX's "used wrongly", for a
command line that does not parse (a missing argument, text where a number goes, an unknown
option), with the command's ``--help`` named. Only a bug of geovec shows a traceback."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer's own click (pinned)

from geovec.cli.helptext import DATA_IN, GeovecCommand, GeovecGroup
from geovec.errors import user_message


class OneLineUsage(GeovecGroup):
    """The root group: a command line that does not parse (of any command below) is one
    line on stderr and exit status 2, instead of click's usage box."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            _usage_line(exc)

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _usage_line(exc)


def _usage_line(exc: UsageError) -> None:
    if isinstance(exc, NoArgsIsHelpError):
        raise exc  # no arguments at all: the help, as asked for by no_args_is_help
    message = exc.format_message().rstrip(".")
    where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
    typer.echo(f"error: {message[:1].lower()}{message[1:]}{where}", err=True)
    raise typer.Exit(exc.exit_code)


app = typer.Typer(
    cls=OneLineUsage,
    help="geovec: location dependence of CNN features (Workman & Jacobs, CVPRW 2015).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",  # help texts are escaped for it (geovec.cli.helptext)
)
weights_app = typer.Typer(
    cls=GeovecGroup,
    help="Convert Caffe weights, add ONNX encoders, list both.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(weights_app, name="weights", rich_help_panel=DATA_IN)


def fail(message: str) -> None:
    """Print a one-line error and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def user_errors(func: Callable) -> Callable:
    """Turn an error the user caused into a one-line message and exit status 1
    (:func:`geovec.errors.user_message`: a GeovecError, an OS error, a damaged store);
    a bug keeps its traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own signals
            raise
        except Exception as exc:
            message = user_message(exc, where=kwargs.get("db"))
            if message is None:
                raise
            fail(message)

    return wrapper


def command(group: typer.Typer, name: str | None = None, *, panel: str | None = None) -> Callable:
    """Register ``func`` on ``group`` with user-error handling; on the root, in ``panel``
    of ``geovec --help`` (one of :data:`geovec.cli.helptext.PANELS`: ``DATA_IN``,
    ``STORE``, ``HEADS``, ``ANALYSES``, ``OUTPUTS``, ``SERVING``). Its help is the
    docstring, whose first paragraph is its one-line summary in the command list."""

    def register(func: Callable) -> Callable:
        wrapped = user_errors(func)
        return group.command(name, cls=GeovecCommand, rich_help_panel=panel)(wrapped)

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
