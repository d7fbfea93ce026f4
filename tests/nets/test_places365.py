"""Places365-AlexNet: the facts of its published deploy prototxt, its shipped category
list (weights/IO_places365.txt), conversion of a caffemodel the test writes, the network
against the independent reference, and its indoor/outdoor column serving --outdoor-only."""

import numpy as np
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.features.indoor import indoor_mask, scene_network
from geovec.features.names import feature_spec, known_features
from geovec.nets.alexnet import TinyAlexNet
from geovec.nets.caffe import decode_net
from geovec.nets.caffe_to_flax import caffe_to_flax
from geovec.nets.labels import read_labels
from geovec.nets.registry import network
from geovec.resources import data_dir
from tests import caffe_writer, reference_alexnet
from tests.images import simple_manifest
from tests.nets.test_alexnet import assert_blobs_close, run_flax

runner = CliRunner()
IO_FILE = data_dir("weights") / "IO_places365.txt"


def io_column() -> tuple[list[str], np.ndarray]:
    """The shipped file read here on its own: category paths and 1 (indoor) / 2 (outdoor)."""
    pairs = [line.split() for line in IO_FILE.read_text().splitlines() if line.strip()]
    return [p[0] for p in pairs], np.array([int(p[1]) for p in pairs])


def test_registry_has_the_deploy_prototxt_facts():
    info = network("places365")
    assert (info.num_classes, info.norm_before_pool, info.feature_prefix) == (
        365,
        False,
        "places365",
    )
    assert info.mean_bgr is None and "places365CNN_mean.binaryproto" in info.mean_hint
    assert [feature_spec(f"places365_{layer}").dim for layer in ("fc6", "fc7", "fc8", "prob")] == [
        4096,
        4096,
        365,
        365,
    ]
    assert {"places365_fc8", "places_fc8", "imagenet_fc8"} <= set(known_features())


def test_the_shipped_category_list():
    names, io = io_column()
    labels = read_labels(IO_FILE, 365)
    assert labels == names and labels[0] == "/a/airfield" and len(set(labels)) == 365
    assert set(io) == {1, 2} and 100 < (io == 1).sum() < 265


def test_label_files_of_both_published_layouts(tmp_path):
    io = tmp_path / "IO_places365.txt"
    io.write_text("/a/airfield 2\n/k/kitchen 1\n/c/coast 2\n")
    assert read_labels(io, 3) == ["/a/airfield", "/k/kitchen", "/c/coast"]
    categories = tmp_path / "categories_places365.txt"
    categories.write_text("/k/kitchen 1\n/a/airfield 0\n/c/coast 2\n")
    assert read_labels(categories, 3) == ["/a/airfield", "/k/kitchen", "/c/coast"]


def test_indoor_filter_reads_the_io_column():
    names, io = io_column()
    prob = np.random.default_rng(0).dirichlet(np.ones(365) * 0.1, size=200)
    got = indoor_mask(prob, read_labels(IO_FILE, 365), "places365")
    np.testing.assert_array_equal(got, io[prob.argmax(axis=1)] == 1)
    assert 0 < got.sum() < 200
    platform = np.eye(365)[[names.index("/t/train_station/platform")]]
    assert indoor_mask(platform, names, "places365").tolist() == [True]  # IO_places365: 1
    assert indoor_mask(platform, names).tolist() == [False]  # Places205's own table: outdoor


def test_tiny_network_with_places365_layer_order_matches_reference():
    """The registry's layer order (pool before LRN, as the prototxt) against the reference."""
    info = network("places365")
    caffe_params = reference_alexnet.random_params(reference_alexnet.TINY_CONVS, 16, 365, seed=6)
    model = TinyAlexNet(num_classes=365, norm_before_pool=info.norm_before_pool)
    params = caffe_to_flax(decode_net(caffe_writer.caffemodel(caffe_params)), model)
    x = np.random.default_rng(7).uniform(-120, 130, (2, 3, 227, 227))
    want = reference_alexnet.forward(x, caffe_params, reference_alexnet.TINY_CONVS, False)
    assert_blobs_close(run_flax(model, params, x), want)


def test_a_caffenet_file_is_not_places365(tmp_path):
    """fc8 of 1000 outputs is refused, naming the layer and both shapes."""
    caffe_params = reference_alexnet.random_params(reference_alexnet.TINY_CONVS, 16, 365, seed=1)
    path = tmp_path / "tiny.caffemodel"
    path.write_bytes(caffe_writer.caffemodel(caffe_params))
    np.save(tmp_path / "mean.npy", np.array([104.0, 113.0, 116.0]))
    result = runner.invoke(
        app,
        [
            "weights",
            "convert",
            str(path),
            "--net",
            "places365",
            "--mean",
            str(tmp_path / "mean.npy"),
            "--out",
            str(tmp_path / "p.safetensors"),
        ],
    )
    assert result.exit_code == 1 and "is not a places365 network: conv1" in result.output
    assert not (tmp_path / "p.safetensors").exists()


def test_needs_a_mean(tmp_path):
    result = runner.invoke(
        app, ["weights", "convert", str(tmp_path / "x.caffemodel"), "--net", "places365"]
    )
    assert result.exit_code == 1 and "places365CNN_mean.binaryproto" in result.output


@pytest.fixture(scope="module")
def places365_weights(tmp_path_factory):
    """A full-size Places365-AlexNet caffemodel (current layer format, BlobShape blobs, as
    the published alexnet_places365.caffemodel), converted by the command line."""
    caffe_params = reference_alexnet.random_params(
        reference_alexnet.CAFFENET_CONVS, 4096, 365, seed=11
    )
    folder = tmp_path_factory.mktemp("places365")
    model = folder / "alexnet_places365.caffemodel"
    model.write_bytes(caffe_writer.caffemodel(caffe_params))
    np.save(folder / "mean.npy", np.full((3, 8, 8), 112.0))
    weights = folder / "weights"
    result = runner.invoke(
        app,
        [
            "weights",
            "convert",
            str(model),
            "--net",
            "places365",
            "--mean",
            str(folder / "mean.npy"),
            "--out",
            str(weights / "places365.safetensors"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "labels: 365" in result.output and "checksum: unknown" in result.output
    return weights, caffe_params


@pytest.mark.slow  # a full-size network
def test_converted_network_matches_reference(places365_weights):
    weights_dir, caffe_params = places365_weights
    weights = geovec.load_weights("places365", weights_dir / "places365.safetensors")
    assert weights.labels == io_column()[0]
    np.testing.assert_allclose(weights.mean_bgr, [112.0] * 3)
    x = np.random.default_rng(12).uniform(-120, 130, (2, 3, 227, 227))
    want = reference_alexnet.forward(x, caffe_params, reference_alexnet.CAFFENET_CONVS, False)
    assert_blobs_close(run_flax(weights.net.model(), weights.params, x), want)


@pytest.mark.slow  # a full-size network
def test_outdoor_only_uses_places365(places365_weights, tmp_path, monkeypatch):
    """With Places365 converted, --outdoor-only drops exactly the photos whose top-1
    Places365 scene the IO column calls indoor (1), naming the scene and the network."""
    from geovec.features.decode import load_rgb
    from geovec.features.extract import FeatureExtractor

    monkeypatch.setenv("GEOVEC_WEIGHTS", str(places365_weights[0]))
    assert scene_network() == ("places365", "places365_prob")
    manifest = simple_manifest(tmp_path, 12)
    prob = FeatureExtractor(["places365_prob"], batch_size=4).extract(
        [load_rgb(tmp_path / "images" / f"img{i:04d}.png") for i in range(12)]
    )["places365_prob"]
    names, io = io_column()
    indoor = {f"g{i}" for i in np.flatnonzero(io[prob.argmax(axis=1)] == 1)}
    assert 0 < len(indoor) < 12, "the random network should call some photos indoor, not all"
    store = geovec.open(tmp_path / "db")
    summary = geovec.ingest(store, manifest, features="gist", batch_size=4, outdoor_only=True)
    assert store.ids("ground") == {f"g{i}" for i in range(12)} - indoor
    assert summary.indoor == len(indoor)
    errors = [r["error"] for r in store.read("failures").to_pylist() if r["stage"] == "indoor"]
    assert len(errors) == len(indoor) and all(
        e.startswith("Places365 top-1 scene /") for e in errors
    )
    assert set(store.features("ground")) == {"gist"}  # the scene feature is not stored


def test_without_places365_the_filter_reads_places205():
    assert scene_network() == ("places205", "places_prob")
