"""Features of added ONNX encoders equal a numpy reference of the same graph applied to
the same preprocessed pixels, whatever the model's batch, and say how they were made."""

import hashlib

import numpy as np
import pytest

import geovec
from geovec.encoders.preprocessing import encoder_input
from geovec.errors import EncoderError, GeovecError
from geovec.features.extract import FeatureExtractor
from geovec.features.names import feature_spec, known_features
from tests.encoders.onnx_models import encoder_model, random_weights, reference


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (rng.integers(20, 60), rng.integers(20, 60), 3), dtype=np.uint8)
        for _ in range(n)
    ]


def assert_matches_reference(got, imgs, info, weights, **kwargs):
    x = np.stack([encoder_input(img, info.preprocessing) for img in imgs])
    want = reference(x, weights, **kwargs)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 2, 4, 7])
def test_dynamic_batch_equals_reference(dynamic_model, tiny_weights, batch_size):
    info = geovec.add_onnx(dynamic_model, "tiny", size=16)
    imgs = images(7)
    out = FeatureExtractor(["tiny"], batch_size=batch_size).extract(imgs)
    assert_matches_reference(out["tiny"], imgs, info, tiny_weights)


def test_fixed_batch_one_runs_image_by_image(batch1_model, tiny_weights):
    info = geovec.add_onnx(batch1_model, "tiny1", crop="centre")
    imgs = images(5, seed=1)
    out = FeatureExtractor(["tiny1"], batch_size=4).extract(imgs)
    assert_matches_reference(out["tiny1"], imgs, info, tiny_weights)


def test_fixed_batch_three_pads_the_last_chunk(tmp_path):
    weights = random_weights(dim=6, seed=4)
    info = geovec.add_onnx(
        encoder_model(tmp_path / "b3.onnx", weights, batch=3, side=12),
        "tiny3",
        scale=255,
        mean=(120, 110, 100),
        std=(60, 50, 40),
        channels="bgr",
    )
    imgs = images(8, seed=2)
    out = FeatureExtractor(["tiny3"], batch_size=5).extract(imgs)  # chunks 5, 3 -> 3+3, 3
    assert_matches_reference(out["tiny3"], imgs, info, weights)


def test_the_named_output_and_gist_in_one_pass(two_output_model, tiny_weights):
    info = geovec.add_onnx(two_output_model, "pooled_enc", size=20, output="pooled")
    imgs = images(3, seed=3)
    out = FeatureExtractor(["gist", "pooled_enc"], batch_size=2).extract(imgs)
    assert out["gist"].shape == (3, 512)
    assert_matches_reference(out["pooled_enc"], imgs, info, tiny_weights, pooled=True)


def test_feature_names_and_provenance(dynamic_model):
    with pytest.raises(GeovecError, match="unknown feature 'tiny'"):
        feature_spec("tiny")
    info = geovec.add_onnx(dynamic_model, "tiny", size=16, crop="centre")
    spec = feature_spec("tiny")
    assert (spec.dim, spec.encoder, spec.net) == (5, "tiny", None)
    assert known_features()[-1] == "tiny"
    prov = FeatureExtractor(["tiny"]).provenance("tiny")
    assert prov["source_sha256"] == hashlib.sha256(dynamic_model.read_bytes()).hexdigest()
    assert prov["source_sha256"] == info.sha256 and prov["source_file"] == "dynamic.onnx"
    assert prov["preprocessing"] == info.preprocessing.describe()
    assert "centre crop 16x16" in prov["preprocessing"] and prov["batch"] == "dynamic"
    assert prov["runtime"].startswith("onnxruntime ")


def test_a_changed_or_removed_model_is_refused(dynamic_model, tmp_path):
    info = geovec.add_onnx(dynamic_model, "tiny", size=16)
    other = encoder_model(tmp_path / "other.onnx", random_weights(dim=5, seed=9))
    info.path.write_bytes(other.read_bytes())  # same graph and size, other weights
    with pytest.raises(EncoderError, match="changed since it was added"):
        FeatureExtractor(["tiny"])
    info.path.unlink()
    with pytest.raises(EncoderError, match="is gone"):
        FeatureExtractor(["tiny"])
