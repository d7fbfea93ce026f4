"""The ``geovec`` command line: a thin Typer layer over the library.

Every error a user can cause (:func:`geovec.errors.user_message`) is printed as one line
on stderr and the command exits with status 1 (2 for a command line that does not parse),
never with a traceback (:mod:`.app`). Commands are grouped
by role: :mod:`.weights`, :mod:`.data`, :mod:`.analyses`, :mod:`.heads`, :mod:`.indexes`,
:mod:`.serve`, :mod:`.demo`, :mod:`.compare`, :mod:`.export`."""

from geovec.cli import (  # noqa: F401 - commands
    analyses,
    compare,
    data,
    demo,
    export,
    heads,
    indexes,
    info,
    regions,
    serve,
    weights,
)
from geovec.cli.app import app

__all__ = ["app"]
