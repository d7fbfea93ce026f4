"""``geovec --help`` as a reader meets it (geovec.cli.helptext): every word of the help
texts kept (rich markup escaped), arguments and values in capitals, no type tags, the
commands in panels in the order of the work with one-line summaries, and the README's
command list naming exactly the commands the CLI has."""

import contextlib
import functools
import inspect
import io
import os
import re
import typing
from pathlib import Path
from unittest import mock

import typer
import typer.main
from typer.models import ArgumentInfo, OptionInfo

from geovec.cli import app
from geovec.cli.helptext import PANELS, WORK_ORDER

README = Path(__file__).resolve().parent.parent / "README.md"
BOX = re.compile(r"[\s│╭╮╰╯─]+")
TYPE_TAG = re.compile(r"<(bool|str|int|float|path|file|dir|list\[\w+\])>")


def _commands(group: typer.Typer, prefix=()):
    """(command path, callback) of every command, from what the source registered (the
    texts as written, before any rendering)."""
    for info in group.registered_commands:
        yield (*prefix, info.name or info.callback.__name__), info.callback
    for info in group.registered_groups:
        yield from _commands(info.typer_instance, (*prefix, info.name))


def _source_texts(callback) -> list[str]:
    """The docstring and every parameter's help of ``callback``, as written."""
    texts = [inspect.getdoc(callback) or ""]
    hints = typing.get_type_hints(callback, include_extras=True)
    for name, param in inspect.signature(callback).parameters.items():
        hint = hints.get(name)
        infos = [*getattr(hint, "__metadata__", ()), param.default]
        texts += [i.help for i in infos if isinstance(i, OptionInfo | ArgumentInfo) and i.help]
    return texts


@functools.cache
def _help(*path: str, columns: int = 200) -> str:
    """``geovec PATH --help`` at ``columns`` wide, from one build of the command tree."""
    command = _root()
    ctx = command.context_class(command, info_name="geovec")
    for name in path:
        command = command.commands[name]
        ctx = command.context_class(command, info_name=name, parent=ctx)
    out = io.StringIO()
    with mock.patch.dict(os.environ, {"COLUMNS": str(columns)}), contextlib.redirect_stdout(out):
        command.get_help(ctx)
    return out.getvalue()


@functools.cache
def _root():
    return typer.main.get_command(app)


def _root_commands():
    return _root().commands


def test_no_help_text_loses_a_bracket():
    """rich read ``[ray]`` of ``pip install geovec[ray]`` as markup and dropped it: every
    bracketed part of every docstring and option help shows in the command's --help."""
    checked = 0
    for path, callback in _commands(app):
        shown = BOX.sub("", _help(*path))
        for text in _source_texts(callback):
            for part in re.findall(r"\[[^\]\n]*\]", text):
                assert BOX.sub("", part) in shown, f"geovec {' '.join(path)} --help lost {part}"
                checked += 1
    assert checked >= 2  # [ray], [default: 1,5,10,20] at least
    assert "pip install geovec[ray]" in _help("ingest")


def test_arguments_and_values_in_capitals_without_type_tags():
    for path, _ in _commands(app):
        text = _help(*path)
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage and "<" not in usage, usage
        assert not TYPE_TAG.search(text), f"geovec {' '.join(path)}: {TYPE_TAG.search(text)[0]}"
    assert "Usage: geovec ingest [OPTIONS] DB SOURCE" in _help("ingest")
    assert "[OPTIONS] SOURCE... POINTS" in _help("aerial")
    assert "[OPTIONS] PANORAMAS..." in _help("cutouts")
    assert "[OPTIONS] [DIR]" in _help("demo")
    assert re.search(r"--batch-size\s+INTEGER\s", _help("ingest"))
    assert re.search(r"--outdoor-only\s+--no-outdoor-only\s+Drop ground", _help("ingest"))


def test_every_command_has_a_panel_in_the_order_of_work():
    """A command registered without ``panel=`` (helptext.PANELS) is caught here."""
    root = _root_commands()
    for name, command in root.items():
        assert command.rich_help_panel in PANELS, f"geovec {name} is in no panel of {PANELS}"
    text = _help()
    panels = [p for p in re.findall(r"╭─ (.+?) ─", text) if p != "Options"]
    assert panels == [p for p in PANELS if p in panels]
    assert panels[:2] == ["Data in", "Store"] and panels[-1] == "Serving"
    listed = [n for n in re.findall(r"^│ (\S+) ", text, re.M) if n in root]
    assert sorted(listed) == sorted(root)
    ranks = [(PANELS.index(root[n].rich_help_panel), n) for n in listed]
    assert ranks == sorted(ranks, key=lambda r: r[0]), listed
    known = [n for n in listed if n in WORK_ORDER]
    assert known.index("ingest") < known.index("isolate") < known.index("export")
    assert known[-1] == "serve" and known[0] == "weights"
    for name, panel in (("info", "Store"), ("regions", "Data in")):
        if name in root:
            assert root[name].rich_help_panel == panel


def test_summaries_fit_one_line():
    """The command list shows each command's first paragraph: one line at 80 columns."""
    root = _root()
    groups = [root, *(c for c in root.commands.values() if hasattr(c, "commands"))]
    for group in groups:
        for name, command in group.commands.items():
            summary = " ".join(inspect.cleandoc(command.help or "").split("\n\n")[0].split())
            assert len(summary) <= 65, f"{name}: {len(summary)} characters: {summary}"
    for path in ((), ("weights",)):
        text = _help(*path, columns=80)
        assert not re.search(r"^│ {5,}\S", text, re.M), text  # no wrapped summary


def _readme_commands() -> set[str]:
    block = README.read_text().split("## Command line", 1)[1].split("```")[1]
    names = set()
    for line in block.splitlines():
        words = line.split()
        if words[:1] == ["geovec"] and len(words) > 1:
            group = words[1] == "weights" and len(words) > 2 and words[2][0].isalpha()
            names.add(" ".join(words[1:3] if group else words[1:2]))
    return names


def test_readme_command_list_is_the_cli():
    cli = set()
    for path, _ in _commands(app):
        cli.add(" ".join(path))
    listed = _readme_commands()
    assert cli - listed == set(), f"the README's command list lacks {sorted(cli - listed)}"
    assert listed - cli == set(), f"the README lists unknown commands {sorted(listed - cli)}"
