"""The ``geovec`` command line: a thin Typer layer over the library.

Every user error is a :class:`~geovec.errors.GeovecError`; it is printed as one line on
stderr and the command exits with status 1, never with a traceback. Commands are grouped
by role: :mod:`.weights`, :mod:`.data`, :mod:`.analyses`, :mod:`.heads`, :mod:`.indexes`,
:mod:`.serve`, :mod:`.demo`."""

from geovec.cli import analyses, data, demo, heads, indexes, serve, weights  # noqa: F401 - commands
from geovec.cli.app import app

__all__ = ["app"]
