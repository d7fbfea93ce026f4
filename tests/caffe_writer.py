"""An independent protobuf encoder for caffemodel files, for tests only.

Written from caffe.proto, not from geovec's decoder: it encodes NetParameter in the
current (layer = 100), V1 (layers = 2) or V0 format (layers = 2 holding a V0 layer in
field 1, with a lower-case type string and blobs = 50), blobs with a legacy 4-d header or
a BlobShape, packed or unpacked data.
"""

from __future__ import annotations

import struct

import numpy as np


def varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint((number << 3) | wire)


def length_delimited(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def blob(
    array: np.ndarray, *, legacy: bool = False, packed: bool = True, double: bool = False
) -> bytes:
    """A serialized BlobProto holding ``array`` (C order)."""
    array = np.asarray(array)
    out = b""
    if legacy:
        dims = (1,) * (4 - array.ndim) + array.shape
        for number, dim in zip((1, 2, 3, 4), dims):
            out += key(number, 0) + varint(dim)
    else:
        shape = b"".join(varint(d) for d in array.shape)
        out += length_delimited(7, length_delimited(1, shape))
    flat = array.reshape(-1)
    if double:
        out += length_delimited(8, flat.astype("<f8").tobytes())
    elif packed:
        out += length_delimited(5, flat.astype("<f4").tobytes())
    else:
        out += b"".join(key(5, 5) + struct.pack("<f", float(v)) for v in flat)
    return out


V1_TYPES = {"Convolution": 4, "InnerProduct": 14, "ReLU": 18, "Pooling": 17, "LRN": 15, "Data": 5}
V0_TYPES = {"Convolution": "conv", "InnerProduct": "innerproduct", "ReLU": "relu", "Data": "data"}


def layer(
    name: str, type_: str, blobs: list[bytes], *, v1: bool = False, v0: bool = False
) -> bytes:
    if v0:  # LayerConnection { layer = 1: V0LayerParameter, bottom = 2, top = 3 }
        body = length_delimited(1, name.encode()) + length_delimited(2, V0_TYPES[type_].encode())
        body += b"".join(length_delimited(50, b) for b in blobs)
        connection = length_delimited(1, body) + length_delimited(3, name.encode())
        return length_delimited(2, connection)
    if v1:
        body = length_delimited(4, name.encode()) + key(5, 0) + varint(V1_TYPES[type_])
        body += b"".join(length_delimited(6, b) for b in blobs)
        return length_delimited(2, body)
    body = length_delimited(1, name.encode()) + length_delimited(2, type_.encode())
    body += b"".join(length_delimited(7, b) for b in blobs)
    return length_delimited(100, body)


def caffemodel(
    caffe_params: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    v1: bool = False,
    legacy: bool = False,
    v0: bool = False,
) -> bytes:
    """A NetParameter with a data layer, the weighted layers and blob-less ReLUs between
    them. V0 blobs always have the legacy 4-d header."""
    legacy = legacy or v0
    out = length_delimited(1, b"TestNet")  # NetParameter.name
    out += layer("data", "Data", [], v1=v1, v0=v0)
    for name, (weight, bias) in caffe_params.items():
        type_ = "Convolution" if name.startswith("conv") else "InnerProduct"
        blobs = [blob(weight, legacy=legacy), blob(bias, legacy=legacy)]
        out += layer(name, type_, blobs, v1=v1, v0=v0)
        out += layer(f"relu{name[-1]}", "ReLU", [], v1=v1, v0=v0)
    return out
