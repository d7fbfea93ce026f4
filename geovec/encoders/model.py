"""An ONNX model as onnxruntime sees it: checked to be an image encoder geovec can feed.

geovec feeds one input, an NCHW float32 batch of 3-channel S x S images (a fixed or a
dynamic batch size), and reads one output of shape [batch, dim]. :func:`inspect_model`
refuses anything else with one line that names what is wrong, after running the model
once on a batch of zeros (so a declared shape that the graph does not keep is caught
before any image is read).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.encoders.preprocessing import DEFAULT_SIZE
from geovec.errors import EncoderError

FLOAT_OUTPUTS = ("tensor(float)", "tensor(float16)", "tensor(double)")


def onnxruntime():
    """The onnxruntime module; an EncoderError saying how to install it if it is absent."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise EncoderError(
            "ONNX encoders need onnxruntime: pip install 'geovec[onnx]' "
            "(or 'geovec[onnx-gpu]' for onnxruntime-gpu)"
        ) from None
    return ort


def providers() -> list[str]:
    """onnxruntime execution providers to use: CUDA first where onnxruntime-gpu sees a GPU,
    then the CPU."""
    available = onnxruntime().get_available_providers()
    wanted = [p for p in ("CUDAExecutionProvider",) if p in available]
    return [*wanted, "CPUExecutionProvider"]


def open_session(path: str | Path):
    """An onnxruntime InferenceSession of ``path``; one line naming the file if onnxruntime
    cannot load it."""
    ort = onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: no warnings on stderr per batch
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers())
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/InvalidGraph
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise EncoderError(f"{path}: not an ONNX model onnxruntime can load ({reason})") from None


@dataclasses.dataclass(frozen=True)
class ModelFacts:
    """What geovec needs to know to feed a model: its input's name, the fixed batch size
    (None: any), the fixed side in pixels (None: any), its output's name and length."""

    input: str
    batch: int | None
    side: int | None
    output: str
    dim: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _fixed(dim) -> int | None:
    """A declared dimension as an int, None when symbolic or unknown."""
    return dim if isinstance(dim, int) and dim > 0 else None


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) if d is not None else "?" for d in shape) + "]"


def check_input(session, path: Path, size: int | None) -> tuple[str, int | None, int | None]:
    """(input name, fixed batch, fixed side) of a model with one NCHW float32 image input."""
    inputs = session.get_inputs()
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise EncoderError(
            f"{path.name} has {len(inputs)} inputs ({names}); geovec feeds one image input"
        )
    arg = inputs[0]
    if arg.type != "tensor(float)":
        raise EncoderError(
            f"{path.name}: input {arg.name!r} is {arg.type}; geovec feeds float32 "
            "(tensor(float)) images"
        )
    shape = list(arg.shape or [])
    if len(shape) != 4:
        raise EncoderError(
            f"{path.name}: input {arg.name!r} has shape {_shape(shape)} (rank {len(shape)}); "
            "geovec feeds an NCHW image batch [batch, 3, height, width]"
        )
    channels, height, width = (_fixed(d) for d in shape[1:])
    if channels is not None and channels != 3:
        raise EncoderError(
            f"{path.name}: input {arg.name!r} has {channels} channels (shape "
            f"{_shape(shape)}); geovec feeds NCHW images with 3 (RGB or BGR)"
        )
    if height is not None and width is not None and height != width:
        raise EncoderError(
            f"{path.name}: input {arg.name!r} is fixed at {height}x{width} pixels; geovec "
            "feeds square images"
        )
    side = height or width
    if side is not None and size is not None and size != side:
        raise EncoderError(
            f"{path.name}: input {arg.name!r} is fixed at {side}x{side} pixels; "
            f"--size {size} does not fit it"
        )
    return arg.name, _fixed(shape[0]), side


def check_output(session, path: Path, output: str | None) -> str:
    """The name of the one output to read (or of ``output``), declared float and 2-D."""
    outputs = session.get_outputs()
    names = [o.name for o in outputs]
    if output is None:
        if len(outputs) != 1:
            raise EncoderError(
                f"{path.name} has {len(outputs)} outputs ({', '.join(names)}); choose "
                "one with --output NAME"
            )
        chosen = outputs[0]
    else:
        if output not in names:
            raise EncoderError(
                f"{path.name} has no output {output!r}; its outputs: {', '.join(names)}"
            )
        chosen = outputs[names.index(output)]
    if chosen.type not in FLOAT_OUTPUTS:
        raise EncoderError(
            f"{path.name}: output {chosen.name!r} is {chosen.type}; geovec stores float vectors"
        )
    shape = chosen.shape
    if shape is not None and len(shape) != 2:
        raise EncoderError(
            f"{path.name}: output {chosen.name!r} has shape {_shape(shape)} (rank "
            f"{len(shape)}); geovec needs a 2-D [batch, dim] output (add a Flatten)"
        )
    return chosen.name


def inspect_model(
    path: str | Path, *, size: int | None = None, output: str | None = None, session=None
) -> ModelFacts:
    """Check that ``path`` is an image encoder geovec can feed, and what its input and
    output are; it runs once on zeros at ``size`` (default: the model's fixed side, else
    :data:`~geovec.encoders.preprocessing.DEFAULT_SIZE`).

    Raises:
      EncoderError: onnxruntime cannot load it, or it is not one NCHW float32 image
        input and one [batch, dim] float output; the message names what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise EncoderError(f"{path}: no such ONNX file")
    session = session or open_session(path)
    name, batch, side = check_input(session, path, size)
    out = check_output(session, path, output)
    side = side or size or DEFAULT_SIZE
    trial = batch or 2  # two images where the batch is free: the output must follow it
    zeros = np.zeros((trial, 3, side, side), np.float32)
    try:
        (value,) = session.run([out], {name: zeros})
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise EncoderError(
            f"{path.name} fails on a [{trial}, 3, {side}, {side}] batch of zeros: {reason}"
        ) from None
    value = np.asarray(value)
    if value.ndim != 2 or value.shape[0] != trial or value.shape[1] < 1:
        raise EncoderError(
            f"{path.name}: output {out!r} is {list(value.shape)} for a batch of {trial}; "
            f"geovec needs [batch, dim] = [{trial}, dim]"
        )
    return ModelFacts(input=name, batch=batch, side=side, output=out, dim=int(value.shape[1]))
