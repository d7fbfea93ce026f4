"""How ``geovec --help`` reads: every help text as written (rich markup escaped, so
``pip install geovec[ray]`` keeps its ``[ray]``), arguments and option values named in
capitals (``SOURCE... POINTS``, ``--batch-size INTEGER``), flags without a type, and the
commands in panels in the order of the work (:data:`PANELS`).

A command joins a panel by naming it: ``@command(app, "info", panel=STORE)``
(:func:`geovec.cli.app.command`); within a panel the commands of :data:`WORK_ORDER` come
first, in its order, then the others in the order they were registered."""

from __future__ import annotations

import inspect

import typer.core
from rich.markup import escape

DATA_IN = "Data in"
STORE = "Store"
HEADS = "Learned heads"
ANALYSES = "Analyses"
OUTPUTS = "Outputs"
SERVING = "Serving"
PANELS = (DATA_IN, STORE, HEADS, ANALYSES, OUTPUTS, SERVING)
"""The panels of ``geovec --help``, in the order of the work: data in, what is stored,
learned heads, the analyses, what they write, the explorer."""

WORK_ORDER = (
    # data in
    "weights",
    "synth",
    "dataset",
    "grid",
    "cutouts",
    "aerial",
    "ingest",
    "extract",
    "regions",
    # store
    "info",
    "sql",
    "index",
    # heads
    "train",
    "embed",
    # analyses
    "isolate",
    "evaluate",
    "localize",
    "search",
    "neighbors",
    "classify",
    "landcover",
    "compare",
    # outputs
    "coverage",
    "export",
    "demo",
    # serving
    "serve",
)
"""The order of the commands within their panels (others follow, as registered)."""

_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH"}


def work_rank(command, position: int) -> tuple[int, int, int]:
    """Where ``command`` (registered ``position``-th) sorts in ``geovec --help``: by its
    panel (unknown ones last), then :data:`WORK_ORDER`, then registration."""
    panel = getattr(command, "rich_help_panel", None)
    name = command.name or ""
    return (
        PANELS.index(panel) if panel in PANELS else len(PANELS),
        WORK_ORDER.index(name) if name in WORK_ORDER else len(WORK_ORDER),
        position,
    )


class PlainArgument(typer.core.TyperArgument):
    """An argument shown by its name in capitals (``DB``, ``PATHS...``, ``[DIR]`` when it
    may be left out), without a type."""

    def display_type_rich(self, ctx) -> None:
        return None

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"


def _value_metavar(option: typer.core.TyperOption) -> str:
    bare = option.bare_type()
    if option.type_descriptor.is_path:
        bare = "Path"
    return _METAVARS.get(bare, bare.upper())


def tidy_parameter(param) -> None:
    """Escape ``param``'s help for rich; give it its capital metavar, none to a flag."""
    if getattr(param, "help", None):
        param.help = escape(param.help)
    if isinstance(param, typer.core.TyperArgument):
        if param.metavar is None:
            param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")
        param.__class__ = PlainArgument
    elif isinstance(param, typer.core.TyperOption) and param.metavar is None:
        param.metavar = "" if param.is_flag or param.count else _value_metavar(param)


def reflow(text: str) -> str:
    """``text`` (a docstring) as paragraphs of one line each: the terminal wraps them (rich
    keeps a docstring's single line breaks after the first paragraph)."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


def tidy_command(command) -> None:
    """Escape the help of ``command`` and its parameters, name their values in capitals."""
    if command.help:
        command.help = escape(reflow(command.help))
    if command.short_help:
        command.short_help = escape(command.short_help)
    for param in command.params:
        tidy_parameter(param)


class HelpOption:
    """Mixin: the ``--help`` option without a type tag either."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None and option.metavar is None:
            tidy_parameter(option)
        return option


class GeovecCommand(HelpOption, typer.core.TyperCommand):
    """A command whose help reads as written (see the module)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tidy_command(self)


class GeovecGroup(HelpOption, typer.core.TyperGroup):
    """A group of commands whose help reads as written, the commands listed in the order
    of the work (:func:`work_rank`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tidy_command(self)

    def list_commands(self, ctx) -> list[str]:
        names = super().list_commands(ctx)
        ranks = {n: work_rank(self.commands[n], i) for i, n in enumerate(names)}
        return sorted(names, key=ranks.__getitem__)
