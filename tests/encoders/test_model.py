"""What add-onnx accepts and what it refuses, each refusal one line naming the problem
(through the library and the command line)."""

import re

import pytest
from onnx import TensorProto
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.encoders.model import inspect_model
from geovec.encoders.registry import encoder_names
from geovec.errors import EncoderError
from tests.encoders.onnx_models import encoder_model

runner = CliRunner()


def test_facts_of_a_dynamic_and_a_fixed_model(dynamic_model, batch1_model):
    dynamic = inspect_model(dynamic_model, size=32)
    assert (dynamic.input, dynamic.batch, dynamic.side, dynamic.output, dynamic.dim) == (
        "image",
        None,
        32,
        "embedding",
        5,
    )
    assert inspect_model(dynamic_model).side == 224  # a free side defaults to 224
    fixed = inspect_model(batch1_model)
    assert (fixed.batch, fixed.side, fixed.dim) == (1, 24, 5)


BAD = {
    "two_inputs": (dict(inputs=2), "has 2 inputs (image, extra)"),
    "rank3": (dict(input_rank=3), "rank 3"),
    "uint8": (dict(input_type=TensorProto.UINT8), "tensor(uint8)"),
    "one_channel": (dict(channels=1), "has 1 channels"),
    "no_flatten": (dict(flatten=False), "has shape [N, 4, 1, 1] (rank 4)"),
    "two_outputs": (dict(two_outputs=True), "has 2 outputs (embedding, pooled); choose one"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_refusals_are_one_line(case, tmp_path, tiny_weights, isolated_weights_dir):
    kwargs, message = BAD[case]
    model = encoder_model(tmp_path / f"{case}.onnx", tiny_weights, **kwargs)
    with pytest.raises(EncoderError, match=re.escape(message)):
        geovec.add_onnx(model, "tiny", size=16)
    result = runner.invoke(app, ["weights", "add-onnx", str(model), "--name", "tiny"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert message in result.output
    assert encoder_names() == [] and not list((isolated_weights_dir / "onnx").glob("*"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--size", "32"], "is fixed at 24x24 pixels; --size 32 does not fit it"),
        (["--output", "nope"], "has no output 'nope'; its outputs: embedding"),
        (["--name", "Bad-Name"], "must be lower-case letters"),
        (["--name", "gist"], "one of geovec's own features"),
        (["--name", "places_fc7"], "one of geovec's own features"),
        (["--name", "lon"], "a column of geovec's tables"),
        (["--mean", "1,2"], "--mean must be three numbers"),
        (["--std", "1,0,1"], "std must be positive"),
        (["--scale", "7"], "scale must be 1"),
        (["--channels", "rgba"], "channels must be rgb or bgr"),
        (["--crop", "middle"], "crop must be centre or none"),
    ],
)
def test_bad_options_are_one_line(args, message, batch1_model):
    argv = ["weights", "add-onnx", str(batch1_model), *args]
    if "--name" not in args:
        argv += ["--name", "tiny"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 1, result.output
    assert len(result.output.strip().splitlines()) == 1 and message in result.output
    assert encoder_names() == []


def test_not_onnx_and_missing_file(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_text("not a model")
    for path, message in (
        (junk, "not an ONNX model onnxruntime can load"),
        (tmp_path / "gone.onnx", "no such ONNX file"),
    ):
        result = runner.invoke(app, ["weights", "add-onnx", str(path), "--name", "x"])
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
        assert message in result.output, result.output


def test_the_named_output_of_two(two_output_model):
    info = geovec.add_onnx(two_output_model, "pooled_enc", size=16, output="pooled")
    assert (info.facts.output, info.dim) == ("pooled", 4)


def test_a_name_is_added_once(dynamic_model, batch1_model, isolated_weights_dir):
    first = geovec.add_onnx(dynamic_model, "tiny", size=16)
    assert geovec.add_onnx(dynamic_model, "tiny", size=16) == first  # the same: a no-op
    with pytest.raises(EncoderError, match="already added"):
        geovec.add_onnx(batch1_model, "tiny")
    with pytest.raises(EncoderError, match="already added"):
        geovec.add_onnx(dynamic_model, "tiny", size=16, channels="bgr")
    assert sorted(p.name for p in (isolated_weights_dir / "onnx").iterdir()) == [
        "tiny.json",
        "tiny.onnx",
    ]
