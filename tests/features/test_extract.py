import numpy as np
import pytest

from geovec.errors import GeovecError, WeightsNotFoundError
from geovec.features.extract import FeatureExtractor
from geovec.features.gist import gist
from geovec.features.names import parse_features
from geovec.features.preprocess import caffe_crop
from geovec.nets.alexnet import CaffeNet
from geovec.nets.weights import load_weights


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (rng.integers(60, 200), rng.integers(60, 200), 3), dtype=np.uint8)
        for _ in range(n)
    ]


def test_parse_features():
    assert [s.dim for s in parse_features("places_fc7,gist,imagenet_prob,gist")] == [
        4096,
        512,
        1000,
    ]
    with pytest.raises(GeovecError, match="unknown feature 'places_fc9'"):
        parse_features("places_fc9")


def test_cnn_feature_without_weights_fails_up_front():
    with pytest.raises(WeightsNotFoundError, match="geovec weights convert"):
        FeatureExtractor(["imagenet_fc7"])


def test_batches_padded_and_equal_to_single(with_weights):
    imgs = images(5)
    ex = FeatureExtractor(["imagenet_fc7", "imagenet_prob", "gist"], batch_size=4)
    out = ex.extract(imgs)
    assert out["imagenet_fc7"].shape == (5, 4096) and out["gist"].shape == (5, 512)
    np.testing.assert_allclose(out["imagenet_prob"].sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(out["gist"][3], gist(imgs[3]), rtol=1e-4, atol=1e-6)
    weights = load_weights("caffenet")
    x = caffe_crop(imgs[4])[None] - weights.mean_bgr
    _, blobs = CaffeNet().apply({"params": weights.params}, x)
    want = np.asarray(blobs["fc7"])[0]
    np.testing.assert_allclose(
        out["imagenet_fc7"][4], want, rtol=1e-4, atol=1e-5 * np.abs(want).max()
    )


def test_both_networks_in_one_pass(with_weights):
    out = FeatureExtractor("places_fc8,imagenet_fc8", batch_size=2).extract(images(3, seed=1))
    assert out["places_fc8"].shape == (3, 205) and out["imagenet_fc8"].shape == (3, 1000)
    assert not np.allclose(out["places_fc8"][0], out["places_fc8"][1])


def test_batches_padded_to_few_shapes_and_padding_changes_no_row(monkeypatch):
    from geovec.features import extract
    from tests.features.tiny_weights import tiny_weights

    traced = []
    real = extract.run_network
    monkeypatch.setattr(
        extract, "run_network", lambda m, p, x: traced.append(x.shape[0]) or real(m, p, x)
    )
    imgs = images(6, seed=3)
    ex = FeatureExtractor(["imagenet_fc7", "imagenet_prob"], 4, {"caffenet": tiny_weights()})
    full = ex.extract(imgs[:4])
    for n in (1, 3):  # run as 1 row, and as 4 with a row of zeros: the rows are as unpadded
        part = ex.extract(imgs[:n])
        for name, values in part.items():
            assert values.shape[0] == n
            if n == 3:
                np.testing.assert_array_equal(values, full[name][:n])
            np.testing.assert_allclose(values, full[name][:n], rtol=1e-5, atol=1e-6)
    assert traced == [4, 1]  # each shape traced once
    assert ex.extract(imgs[1:])["imagenet_fc7"].shape == (5, 16)  # 4, then 1 padded to 1
    assert traced == [4, 1]


def test_network_program_runs_off_ynnpack_on_the_cpu():
    """The extractor compiles each network with alexnet.compiler_options(): on the CPU its
    convolutions and dots are XLA's own, not YNNPACK fusions (slower for AlexNet)."""
    from tests.features.tiny_weights import tiny_weights

    ex = FeatureExtractor(["imagenet_fc7"], 2, {"caffenet": tiny_weights()})
    crops = np.zeros((2, 227, 227, 3), np.float32)
    hlo = ex._forwards["caffenet"].lower(*ex._params["caffenet"], crops).compile().as_text()
    assert " convolution(" in hlo and "ynn_fusion" not in hlo
