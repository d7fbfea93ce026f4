import json

import pytest
import typer.main
from typer.testing import CliRunner

from geovec.cli import app
from tests import caffe_writer

runner = CliRunner()


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if hasattr(cmd, "commands"):
            yield from all_commands(cmd, prefix + (name,))


CONTRACT = {  # DESIGN.md's command line (first wave)
    "weights",
    "weights convert",
    "weights list",
    "synth",
    "ingest",
    "extract",
    "grid",
    "cutouts",
    "isolate",
    "sql",
    "search",
    "localize",
    "evaluate",
    "classify",
    "landcover",
    "demo",
    "aerial",  # second wave
    "dataset",
    "train",
    "embed",
    "index",
    "serve",
}


def test_commands_have_help():
    root = typer.main.get_command(app)
    commands = list(all_commands(root))
    assert {" ".join(path) for path, _ in commands} >= CONTRACT
    for path, cmd in commands:
        assert (cmd.help or "").strip(), f"geovec {' '.join(path)} has no help text"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        for param in cmd.params:
            if param.param_type_name in ("option", "argument"):
                assert (param.help or "").strip(), (
                    f"geovec {' '.join(path)} {param.opts} has no help"
                )


def test_weights_convert_and_list(caffenet_caffemodel, isolated_weights_dir):
    result = runner.invoke(
        app, ["weights", "convert", str(caffenet_caffemodel), "--net", "caffenet"]
    )
    assert result.exit_code == 0, result.output
    assert "checksum: unknown" in result.output
    listed = runner.invoke(app, ["weights", "list", "--json"])
    rows = {r["net"]: r for r in json.loads(listed.output)["networks"]}
    assert rows["caffenet"]["converted"] and not rows["places205"]["converted"]
    assert rows["caffenet"]["path"] == str(isolated_weights_dir / "caffenet.safetensors")


@pytest.mark.parametrize(
    "content,message",
    [(b"", "no layers"), (caffe_writer.caffemodel({}), "missing from the caffemodel")],
)
def test_convert_errors_are_one_line(tmp_path, content, message):
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(content)
    result = runner.invoke(app, ["weights", "convert", str(bad), "--net", "caffenet"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_unknown_net_is_a_user_error(tmp_path):
    result = runner.invoke(app, ["weights", "convert", str(tmp_path / "x"), "--net", "vgg"])
    assert result.exit_code == 1 and "vgg" in result.output


def library_function(path):
    """The library function behind a command, and the CLI options whose library parameter
    has another name."""
    import geovec
    from geovec.geo.cutouts import write_cutouts
    from geovec.ingestion.aerial import cut_aerial

    return {
        ("ingest",): (geovec.ingest, {}),
        ("extract",): (geovec.extract_missing, {}),
        ("synth",): (geovec.synth, {}),
        ("grid",): (geovec.reference_grid, {}),
        ("cutouts",): (write_cutouts, {"fov": "fov_deg"}),
        ("aerial",): (cut_aerial, {}),
        ("isolate",): (geovec.isolate, {}),
        ("evaluate",): (geovec.evaluate, {}),
        ("localize",): (geovec.localize, {}),
        ("search",): (geovec.search, {}),
        ("neighbors",): (geovec.nearest_ground, {"ident": "id"}),
        ("serve",): (geovec.serve, {"db": None, "open_browser": "open_browser"}),
        ("classify",): (geovec.classify, {"feature": "features"}),
        ("landcover",): (geovec.landcover, {}),
        ("demo",): (geovec.run_demo, {"directory": None}),
    }.get(tuple(path))


def test_cli_defaults_are_the_library_defaults():
    """No command keeps its own copy of a default: every option whose library parameter
    has a default shows the same one (text options parsed as the command parses them)."""
    import inspect

    from geovec.cli.analyses import parse_metres
    from geovec.geo.cutouts import parse_headings, parse_size

    parsers = {
        "headings": parse_headings,
        "size": parse_size,
        "within_m": lambda text: parse_metres(text, "--within-m"),
    }
    checked = 0
    for path, cmd in all_commands(typer.main.get_command(app)):
        found = library_function(path)
        if found is None:
            continue
        function, renamed = found
        signature = inspect.signature(function).parameters
        for param in cmd.params:
            name = renamed.get(param.name, param.name)
            if name not in signature or signature[name].default is inspect.Parameter.empty:
                continue
            cli_default = param.default
            if param.name in parsers and isinstance(cli_default, str):
                cli_default = parsers[param.name](cli_default)
            library_default = signature[name].default
            assert cli_default == library_default, (path, param.name, cli_default, library_default)
            checked += 1
    assert checked >= 20
