"""Decode Caffe's .caffemodel and .binaryproto files without Caffe.

Reads the protobuf wire format directly, for the fields of caffe.proto that hold
weights:

- ``NetParameter.layer`` (100): ``LayerParameter`` name = 1, type = 2, blobs = 7;
- ``NetParameter.layers`` (2), the V1 format: ``V1LayerParameter`` name = 4, type enum =
  5, blobs = 6;
- the V0 format of Caffe's first releases (the original Places205 model): the same
  ``layers`` (2) whose field ``layer`` (1) is a ``V0LayerParameter``: name = 1, type = 2
  as a lower-case string ("conv", "innerproduct", ...), blobs = 50;
- ``BlobProto``: legacy num/channels/height/width = 1..4, shape = 7
  (``BlobShape.dim`` = 1, packed or unpacked int64), data = 5 (packed or unpacked
  float), double_data = 8.

Packed arrays become numpy arrays without a Python loop over their values, so a
240 MB CaffeNet decodes in about a second. Anything truncated, garbled or not
protobuf raises :class:`~geovec.errors.CaffeFormatError`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from geovec.errors import CaffeFormatError

# V1LayerParameter.LayerType values for the layers that carry blobs or matter here.
V1_LAYER_TYPES = {
    4: "Convolution",
    14: "InnerProduct",
    15: "LRN",
    17: "Pooling",
    18: "ReLU",
    20: "Softmax",
    6: "Dropout",
    5: "Data",
    21: "SoftmaxWithLoss",
    1: "Accuracy",
}

# V0LayerParameter.type strings (Caffe's oldest syntax), by their current names.
V0_LAYER_TYPES = {
    "conv": "Convolution",
    "innerproduct": "InnerProduct",
    "relu": "ReLU",
    "pool": "Pooling",
    "lrn": "LRN",
    "dropout": "Dropout",
    "softmax": "Softmax",
    "softmax_loss": "SoftmaxWithLoss",
    "data": "Data",
    "images": "ImageData",
    "accuracy": "Accuracy",
    "concat": "Concat",
    "split": "Split",
    "flatten": "Flatten",
    "padding": "Padding",
}

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


@dataclasses.dataclass
class CaffeLayer:
    """One layer of a decoded net: its name, type and weight blobs (Caffe's layout)."""

    name: str
    type: str
    blobs: list[np.ndarray]


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise CaffeFormatError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise CaffeFormatError("varint longer than 10 bytes")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """Yield (field number, wire type, value) of one message; bytes values are memoryviews."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise CaffeFormatError("field number 0 is not valid protobuf")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _FIXED64:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == _BYTES:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == _FIXED32:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise CaffeFormatError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise CaffeFormatError("message truncated inside a field")
        yield number, wire, value


def _text(value: object, what: str) -> str:
    if not isinstance(value, memoryview):
        raise CaffeFormatError(f"{what} is not a string")
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaffeFormatError(f"{what} is not valid UTF-8") from exc


def _packed(value: memoryview, dtype: str, what: str) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    if len(value) % itemsize:
        raise CaffeFormatError(
            f"packed {what} has {len(value)} bytes, not a multiple of {itemsize}"
        )
    return np.frombuffer(value, dtype=dtype)


def _packed_varints(value: memoryview) -> list[int]:
    out, pos = [], 0
    while pos < len(value):
        v, pos = _read_varint(value, pos)
        out.append(v)
    return out


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def decode_blob(buf: bytes | memoryview) -> np.ndarray:
    """Decode one serialized ``BlobProto`` into a float32 array of its stated shape."""
    buf = memoryview(buf)
    legacy = [None, None, None, None]
    shape: list[int] | None = None
    chunks: list[np.ndarray] = []
    singles: list[float] = []
    for number, wire, value in _fields(buf):
        if number in (1, 2, 3, 4) and wire == _VARINT:
            legacy[number - 1] = _signed64(value)
        elif number == 7 and wire == _BYTES:
            shape = []
            for n, w, v in _fields(value):
                if n != 1:
                    continue
                if w == _BYTES:
                    shape.extend(_signed64(d) for d in _packed_varints(v))
                elif w == _VARINT:
                    shape.append(_signed64(v))
        elif number == 5 and wire == _BYTES:
            chunks.append(_packed(value, "<f4", "float data"))
        elif number == 5 and wire == _FIXED32:
            singles.append(float(np.frombuffer(value, "<f4")[0]))
        elif number == 8 and wire == _BYTES:
            chunks.append(_packed(value, "<f8", "double data").astype(np.float32))
        elif number == 8 and wire == _FIXED64:
            singles.append(float(np.frombuffer(value, "<f8")[0]))
    if singles:
        chunks.append(np.asarray(singles, dtype=np.float32))
    data = (
        np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    )
    if shape is None:
        shape = [1 if d is None else d for d in legacy]
    if any(d < 0 for d in shape):
        raise CaffeFormatError(f"blob has a negative dimension: {shape}")
    if math.prod(shape) != data.size:
        raise CaffeFormatError(f"blob shape {tuple(shape)} does not match its {data.size} values")
    return data.reshape(shape)


def _decode_layer(buf: memoryview, v1: bool) -> CaffeLayer:
    name_field, type_field, blob_field = (4, 5, 6) if v1 else (1, 2, 7)
    name, type_, blobs = "", "", []
    v0 = None
    for number, wire, value in _fields(buf):
        if number == name_field and wire == _BYTES:
            name = _text(value, "layer name")
        elif number == type_field:
            if v1 and wire == _VARINT:
                type_ = V1_LAYER_TYPES.get(value, f"V1Type{value}")
            elif not v1 and wire == _BYTES:
                type_ = _text(value, "layer type")
        elif number == blob_field and wire == _BYTES:
            blobs.append(decode_blob(value))
        elif v1 and number == 1 and wire == _BYTES:  # V1LayerParameter.layer: a V0 layer
            v0 = _decode_v0_layer(value)
    if v0 is not None and not name and not blobs:
        return v0
    return CaffeLayer(name=name, type=type_, blobs=blobs)


def _decode_v0_layer(buf: memoryview) -> CaffeLayer:
    """A V0LayerParameter (Caffe's oldest format, e.g. the original Places205 file):
    name = 1, type = 2 as a lower-case string ("conv", "innerproduct", ...), blobs = 50."""
    name, type_, blobs = "", "", []
    for number, wire, value in _fields(buf):
        if number == 1 and wire == _BYTES:
            name = _text(value, "V0 layer name")
        elif number == 2 and wire == _BYTES:
            text = _text(value, "V0 layer type")
            type_ = V0_LAYER_TYPES.get(text, text)
        elif number == 50 and wire == _BYTES:
            blobs.append(decode_blob(value))
    return CaffeLayer(name=name, type=type_, blobs=blobs)


def decode_net(data: bytes | memoryview) -> list[CaffeLayer]:
    """Decode a serialized ``NetParameter`` (a .caffemodel) into its layers, in file order.

    The current (``layer``), V1 and V0 (``layers``) formats are read; a file that has
    none of them raises :class:`CaffeFormatError`.
    """
    layers = []
    for number, wire, value in _fields(memoryview(data)):
        if wire != _BYTES:
            continue
        if number == 100:
            layers.append(_decode_layer(value, v1=False))
        elif number == 2:
            layers.append(_decode_layer(value, v1=True))
    if not layers:
        raise CaffeFormatError("no layers found: not a .caffemodel (NetParameter) file")
    return layers


def read_caffemodel(path: str | Path) -> list[CaffeLayer]:
    """Read and decode a .caffemodel file."""
    return decode_net(_read_bytes(path))


def read_binaryproto(path: str | Path) -> np.ndarray:
    """Read a mean ``.binaryproto`` (one BlobProto), e.g. (1, 3, 256, 256) BGR, 0-255."""
    blob = decode_blob(_read_bytes(path))
    if blob.size == 0:
        raise CaffeFormatError(f"{path}: the blob holds no values")
    return blob


def _read_bytes(path: str | Path) -> bytes:
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise CaffeFormatError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise CaffeFormatError(f"{path}: is a directory, not a file") from exc
    except OSError as exc:
        raise CaffeFormatError(f"{path}: cannot read ({exc.strerror})") from exc
