import jax
import numpy as np
import pytest

from geovec.nets.alexnet import (
    CPU_COMPILER_OPTIONS,
    CaffeNet,
    TinyAlexNet,
    caffe_max_pool,
    compiler_options,
    local_response_norm,
    param_shapes,
    run,
)
from geovec.nets.caffe import decode_net
from geovec.nets.caffe_to_flax import caffe_to_flax
from tests import caffe_writer, reference_alexnet


def run_flax(model, params, x_nchw):
    _, blobs = model.apply(
        {"params": params}, np.transpose(x_nchw, (0, 2, 3, 1)).astype(np.float32)
    )
    return {k: np.asarray(v) for k, v in blobs.items()}


def assert_blobs_close(got, want, rtol=1e-4):
    for name in ("fc6", "fc7", "fc8", "prob"):
        scale = np.abs(want[name]).max()
        assert scale > 0, name
        err = np.abs(got[name] - want[name]).max() / scale
        assert err < rtol, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("norm_before_pool", [False, True])
@pytest.mark.parametrize(
    "fmt", [dict(v1=True, legacy=True), dict(v1=False, legacy=False), dict(v0=True)]
)
def test_tiny_network_matches_reference(norm_before_pool, fmt):
    caffe_params = reference_alexnet.random_params(reference_alexnet.TINY_CONVS, 16, 7, seed=3)
    model = TinyAlexNet(norm_before_pool=norm_before_pool)
    params = caffe_to_flax(decode_net(caffe_writer.caffemodel(caffe_params, **fmt)), model)
    x = np.random.default_rng(4).uniform(-120, 130, (3, 3, 227, 227))
    want = reference_alexnet.forward(
        x, caffe_params, reference_alexnet.TINY_CONVS, norm_before_pool
    )
    assert_blobs_close(run_flax(model, params, x), want)


def test_full_caffenet_matches_reference(caffenet_caffemodel, caffenet_caffe_params):
    from geovec.nets.caffe import read_caffemodel

    model = CaffeNet()
    params = caffe_to_flax(read_caffemodel(caffenet_caffemodel), model)
    x = np.random.default_rng(5).uniform(-120, 130, (2, 3, 227, 227))
    want = reference_alexnet.forward(x, caffenet_caffe_params, reference_alexnet.CAFFENET_CONVS)
    assert_blobs_close(run_flax(model, params, x), want)


@pytest.mark.slow  # a full-size file
def test_full_size_v0_places205_converts_and_matches_reference(tmp_path):
    """The original Places205 file's format (V0): converted by geovec weights convert, its
    features equal the independent reference's."""
    from geovec.nets.convert import convert_caffemodel
    from geovec.nets.weights import load_weights

    caffe_params = reference_alexnet.random_params(
        reference_alexnet.CAFFENET_CONVS, 4096, 205, seed=8
    )
    path = tmp_path / "places205CNN_iter_300000.caffemodel"
    path.write_bytes(caffe_writer.caffemodel(caffe_params, v0=True))
    np.save(tmp_path / "mean.npy", np.array([105.0, 114.0, 116.0]))
    out = tmp_path / "places205.safetensors"
    convert_caffemodel(path, "places205", mean=tmp_path / "mean.npy", out=out)
    weights = load_weights("places205", out)
    model = weights.net.model()
    x = np.random.default_rng(9).uniform(-120, 130, (2, 3, 227, 227))
    want = reference_alexnet.forward(
        x, caffe_params, reference_alexnet.CAFFENET_CONVS, weights.net.norm_before_pool
    )
    assert_blobs_close(run_flax(model, weights.params, x), want)


@pytest.mark.parametrize("micro_batch", [1, 2, 4, None])
def test_micro_batched_run_matches_reference(micro_batch):
    """The trunk over micro-batches (5 images: the last micro-batch padded) gives the
    independent reference's blobs, like one batched pass."""
    caffe_params = reference_alexnet.random_params(reference_alexnet.TINY_CONVS, 16, 7, seed=8)
    model = TinyAlexNet()
    params = caffe_to_flax(decode_net(caffe_writer.caffemodel(caffe_params)), model)
    x = np.random.default_rng(9).uniform(-120, 130, (5, 3, 227, 227))
    want = reference_alexnet.forward(x, caffe_params, reference_alexnet.TINY_CONVS)
    _, blobs = run(model, params, np.transpose(x, (0, 2, 3, 1)).astype(np.float32), micro_batch)
    assert_blobs_close({k: np.asarray(v) for k, v in blobs.items()}, want)
    assert blobs["fc7"].shape == (5, 16)


def test_param_shapes_match_init():
    model = CaffeNet()
    variables = jax.eval_shape(
        model.init, jax.random.key(0), np.zeros((1, 227, 227, 3), np.float32)
    )
    got = jax.tree.map(lambda a: tuple(a.shape), variables["params"])
    assert got == param_shapes(model)
    assert got["fc6"]["kernel"] == (9216, 4096)


def test_pool_rounds_up_like_caffe():
    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(1, 6, 6, 2)
    y = np.asarray(caffe_max_pool(x))
    assert y.shape == (1, 3, 3, 2)  # floor would give 2x2
    assert y[0, 2, 2, 1] == x[0, 4:6, 4:6, 1].max()


@pytest.mark.parametrize("shape", [(2, 55, 55, 3), (1, 13, 12, 2), (1, 6, 7, 1)])
def test_pool_matches_reference_windows(shape):
    """Rows then columns give the maxima of Caffe's clipped 3x3 windows, odd sizes too."""
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    want = reference_alexnet.max_pool(np.transpose(x, (0, 3, 1, 2)))
    np.testing.assert_array_equal(np.asarray(caffe_max_pool(x)), np.transpose(want, (0, 2, 3, 1)))


@pytest.mark.parametrize("beta", [0.75, 0.5])
def test_lrn_formula(beta):
    x = np.random.default_rng(0).normal(size=(1, 2, 2, 7)).astype(np.float32) * 50
    got = np.asarray(local_response_norm(x, beta=beta))
    want = np.transpose(
        reference_alexnet.lrn(np.transpose(x, (0, 3, 1, 2)).astype(np.float64), beta=beta),
        (0, 2, 3, 1),
    )
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_cpu_compiler_options_keep_the_network_off_ynnpack_and_match_reference():
    """On the CPU the network's program runs its convolutions and dots on XLA's own kernels
    (jax hands them to YNNPACK by default, slower for AlexNet), with the reference's blobs."""
    caffe_params = reference_alexnet.random_params(reference_alexnet.TINY_CONVS, 16, 7, seed=8)
    model = TinyAlexNet()
    params = caffe_to_flax(decode_net(caffe_writer.caffemodel(caffe_params)), model)
    x = np.random.default_rng(9).uniform(-120, 130, (2, 3, 227, 227))
    forward = jax.jit(lambda p, xb: run(model, p, xb)[1], compiler_options=compiler_options("cpu"))
    xb = np.transpose(x, (0, 2, 3, 1)).astype(np.float32)
    hlo = forward.lower(params, xb).compile().as_text()
    assert "ynn_fusion" not in hlo and " convolution(" in hlo and " dot(" in hlo
    want = reference_alexnet.forward(x, caffe_params, reference_alexnet.TINY_CONVS)
    assert_blobs_close({k: np.asarray(v) for k, v in forward(params, xb).items()}, want)
    assert compiler_options("gpu") == {} and compiler_options("cpu") == CPU_COMPILER_OPTIONS
