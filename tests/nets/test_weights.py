import json

import numpy as np
import pytest

from geovec.errors import (
    ArchitectureMismatchError,
    CaffeFormatError,
    GeovecError,
    WeightsNotFoundError,
)
from geovec.nets.convert import convert_caffemodel, verify_checksum
from geovec.nets.registry import network
from geovec.nets.weights import list_weights, load_weights
from tests import caffe_writer, reference_alexnet


def test_convert_and_load(caffenet_caffemodel, caffenet_caffe_params, isolated_weights_dir):
    result = convert_caffemodel(caffenet_caffemodel, "caffenet")
    assert result.path == isolated_weights_dir / "caffenet.safetensors"
    assert result.checksum == "unknown"
    loaded = load_weights("caffenet")
    np.testing.assert_allclose(loaded.mean_bgr, [104.007, 116.669, 122.679], atol=1e-3)
    assert loaded.params["fc8"]["kernel"].shape == (4096, 1000)
    np.testing.assert_array_equal(loaded.params["fc7"]["kernel"], caffenet_caffe_params["fc7"][0].T)
    assert len(loaded.metadata["source_sha256"]) == 64
    assert [r["net"] for r in list_weights() if r["converted"]] == ["caffenet"]


def test_places_needs_its_mean(caffenet_caffemodel, tmp_path):
    with pytest.raises(GeovecError, match="places205CNN_mean.binaryproto"):
        convert_caffemodel(caffenet_caffemodel, "places205", out=tmp_path / "p.safetensors")
    assert not (tmp_path / "p.safetensors").exists()


def test_wrong_architecture_leaves_no_file(caffenet_caffemodel, tmp_path):
    mean = tmp_path / "mean.binaryproto"
    mean.write_bytes(caffe_writer.blob(np.full((1, 3, 2, 2), 100.0)))
    with pytest.raises(ArchitectureMismatchError, match="fc8 weights has shape"):
        convert_caffemodel(
            caffenet_caffemodel, "places205", mean=mean, out=tmp_path / "p.safetensors"
        )
    assert list(tmp_path.iterdir()) == [mean]


def test_truncated_file_leaves_no_file(caffenet_caffemodel, tmp_path):
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(caffenet_caffemodel.read_bytes()[:5_000_000])
    with pytest.raises(CaffeFormatError):
        convert_caffemodel(cut, "caffenet", out=tmp_path / "c.safetensors")
    assert not (tmp_path / "c.safetensors").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow  # a full-size CaffeNet file
def test_missing_layer_is_named(tmp_path):
    params = reference_alexnet.random_params(reference_alexnet.CAFFENET_CONVS, 4096, 1000)
    del params["conv3"]
    path = tmp_path / "partial.caffemodel"
    path.write_bytes(caffe_writer.caffemodel(params))
    with pytest.raises(ArchitectureMismatchError, match="conv3"):
        convert_caffemodel(path, "caffenet", out=tmp_path / "c.safetensors")


def test_checksum_verdicts(tmp_path):
    info = network("caffenet")
    known = tmp_path / "bvlc_reference_caffenet.caffemodel"
    verdict, note = verify_checksum(info, known, {"sha1": "0" * 40, "sha256": "1" * 64})
    assert verdict == "mismatch" and "4c8d77de" in note
    verdict, _ = verify_checksum(
        info, known, {"sha1": "4c8d77deb20ea792f84eb5e6d0a11ca0a8660a46", "sha256": ""}
    )
    assert verdict == "verified"
    assert (
        verify_checksum(info, tmp_path / "other.caffemodel", {"sha1": "0", "sha256": "1"})[0]
        == "unknown"
    )


def test_labels_are_stored(caffenet_caffemodel, tmp_path):
    labels = tmp_path / "synset_words.txt"
    labels.write_text("".join(f"n{i:08d} class {i}, alias\n" for i in range(1000)))
    convert_caffemodel(
        caffenet_caffemodel, "caffenet", labels=labels, out=tmp_path / "c.safetensors"
    )
    loaded = load_weights("caffenet", tmp_path / "c.safetensors")
    assert loaded.labels[7] == "class 7, alias"


def test_missing_weights_name_the_command():
    with pytest.raises(WeightsNotFoundError, match="geovec weights convert"):
        load_weights("places205")


def test_manifest_is_valid_json():
    from geovec.resources import data_dir

    manifest = json.loads((data_dir("weights") / "manifest.json").read_text())
    assert set(manifest["networks"]) == {"caffenet", "places205", "places365"}
