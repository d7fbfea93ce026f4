"""Shared fixtures: an isolated weights directory, full-size random Caffe weights and a
local Ray cluster.

Tests that use the full-size weights (every test that converts or runs a real-size
CaffeNet) or the Ray cluster are marked slow here, by their fixtures: ``make check``
leaves them out."""

from __future__ import annotations

import numpy as np
import pytest

from tests import caffe_writer, reference_alexnet

FULL_SIZE_FIXTURES = {"caffenet_caffe_params", "caffenet_caffemodel", "converted_weights_dir"}
SLOW_FIXTURES = FULL_SIZE_FIXTURES | {"ray_cluster"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_weights_dir(tmp_path_factory, monkeypatch):
    """Each test sees an empty weights directory unless it asks for converted weights."""
    path = tmp_path_factory.mktemp("weights")
    monkeypatch.setenv("GEOVEC_WEIGHTS", str(path))
    return path


@pytest.fixture
def compile_cache_dir(tmp_path, monkeypatch):
    """A fresh compiled-program cache folder, on for this test (and its subprocesses);
    the process's cache is turned off again afterwards. (Elsewhere it is off:
    tests/doctest_world.py, so no test writes to the user's cache folder.)"""
    from geovec import compile_cache

    folder = tmp_path / "xla"
    monkeypatch.setenv("GEOVEC_XLA_CACHE", str(folder))
    compile_cache.reset()
    yield folder
    compile_cache.reset()


@pytest.fixture(scope="session")
def caffenet_caffe_params():
    """Full-size CaffeNet weights in Caffe's layout (random, He-scaled)."""
    return reference_alexnet.random_params(reference_alexnet.CAFFENET_CONVS, 4096, 1000, seed=1)


@pytest.fixture(scope="session")
def caffenet_caffemodel(tmp_path_factory, caffenet_caffe_params):
    """A full-size V1-format caffemodel file with legacy blob headers."""
    path = tmp_path_factory.mktemp("caffe") / "random_caffenet.caffemodel"
    path.write_bytes(caffe_writer.caffemodel(caffenet_caffe_params, v1=True, legacy=True))
    return path


@pytest.fixture(scope="session")
def converted_weights_dir(tmp_path_factory, caffenet_caffemodel):
    """A weights directory holding converted caffenet and places205 weights."""
    from geovec.nets.convert import convert_caffemodel

    out = tmp_path_factory.mktemp("converted")
    convert_caffemodel(caffenet_caffemodel, "caffenet", out=out / "caffenet.safetensors")
    places = reference_alexnet.random_params(reference_alexnet.CAFFENET_CONVS, 4096, 205, seed=2)
    model = tmp_path_factory.mktemp("caffe") / "random_places.caffemodel"
    model.write_bytes(caffe_writer.caffemodel(places))
    mean = np.full((3, 4, 4), 110.0)
    np.save(out.parent / "places_mean.npy", mean)
    convert_caffemodel(
        model, "places205", mean=out.parent / "places_mean.npy", out=out / "places205.safetensors"
    )
    return out


@pytest.fixture
def with_weights(converted_weights_dir, monkeypatch):
    """Point GEOVEC_WEIGHTS at the converted weights for this test."""
    monkeypatch.setenv("GEOVEC_WEIGHTS", str(converted_weights_dir))
    return converted_weights_dir


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster of 2 CPUs for the session (started by the test, stopped after);
    skipped, saying why, where Ray is not installed (pip install 'geovec[ray]')."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'geovec[ray]'")
    from geovec.engines import start_ray

    if ray.is_initialized():
        ray.shutdown()
    start_ray(None, workers=2)
    yield ray
    ray.shutdown()
