import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geovec.errors import CaffeFormatError
from geovec.nets.caffe import decode_blob, decode_net, read_binaryproto, read_caffemodel
from tests import caffe_writer


@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("double", [True, False])
def test_blob_round_trip(legacy, packed, double):
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    decoded = decode_blob(caffe_writer.blob(array, legacy=legacy, packed=packed, double=double))
    expected = array[None] if legacy else array
    np.testing.assert_allclose(decoded, expected, rtol=1e-7)


@pytest.mark.parametrize("v1", [True, False])
def test_net_layers_in_order(v1):
    params = {"conv1": (np.ones((2, 3, 1, 1)), np.zeros(2)), "fc6": (np.ones((4, 2)), np.ones(4))}
    layers = decode_net(caffe_writer.caffemodel(params, v1=v1))
    assert [layer.name for layer in layers] == ["data", "conv1", "relu1", "fc6", "relu6"]
    assert [layer.type for layer in layers][:2] == ["Data", "Convolution"]
    assert layers[3].type == "InnerProduct"
    assert layers[1].blobs[0].shape == (2, 3, 1, 1)


def test_binaryproto_mean(tmp_path):
    mean = np.random.default_rng(0).uniform(0, 255, (1, 3, 5, 5)).astype(np.float32)
    path = tmp_path / "mean.binaryproto"
    path.write_bytes(caffe_writer.blob(mean))
    np.testing.assert_array_equal(read_binaryproto(path), mean)


def test_shape_and_data_disagree():
    payload = (
        caffe_writer.key(7, 2) + caffe_writer.varint(3) + caffe_writer.length_delimited(1, b"\x05")
    )
    payload += caffe_writer.length_delimited(5, np.zeros(4, "<f4").tobytes())
    with pytest.raises(CaffeFormatError, match="does not match"):
        decode_blob(payload)


def test_not_a_caffemodel(tmp_path):
    path = tmp_path / "x.caffemodel"
    path.write_text("hello, this is text")
    with pytest.raises(CaffeFormatError):
        read_caffemodel(path)
    with pytest.raises(CaffeFormatError, match="no such file"):
        read_caffemodel(tmp_path / "missing.caffemodel")
    with pytest.raises(CaffeFormatError, match="directory"):
        read_caffemodel(tmp_path)


GOOD = caffe_writer.caffemodel(
    {"conv1": (np.ones((2, 3, 2, 2)), np.zeros(2)), "fc6": (np.ones((3, 8)), np.ones(3))}
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(GOOD) - 1),
    flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=4),
)
def test_garbled_bytes_fail_cleanly(cut, flips):
    """Truncated or garbled files raise CaffeFormatError or decode; nothing else escapes."""
    data = bytearray(GOOD)
    for pos, value in flips:
        data[pos] = value
    for candidate in (bytes(data[:cut]), bytes(data)):
        try:
            decode_net(candidate)
        except CaffeFormatError:
            pass


def test_truncated_file_fails():
    with pytest.raises(CaffeFormatError):
        decode_net(GOOD[: len(GOOD) // 2])
