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


def test_commands_have_help():
    root = typer.main.get_command(app)
    commands = list(all_commands(root))
    assert len(commands) >= 3
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
