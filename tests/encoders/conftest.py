"""Fixtures of the encoder tests: the tiny ONNX encoders of :mod:`.onnx_models`."""

from __future__ import annotations

import pytest

from tests.encoders.onnx_models import encoder_model, random_weights


@pytest.fixture(scope="session")
def tiny_weights():
    return random_weights(dim=5, seed=0)


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="session")
def dynamic_model(onnx_dir, tiny_weights):
    """Dynamic batch and side: [N, 3, S, S] -> [N, 5]."""
    return encoder_model(onnx_dir / "dynamic.onnx", tiny_weights)


@pytest.fixture(scope="session")
def batch1_model(onnx_dir, tiny_weights):
    """Fixed batch 1 and side 24: [1, 3, 24, 24] -> [1, 5]."""
    return encoder_model(onnx_dir / "batch1.onnx", tiny_weights, batch=1, side=24)


@pytest.fixture(scope="session")
def two_output_model(onnx_dir, tiny_weights):
    """Outputs embedding [N, 5] and pooled [N, 4]."""
    return encoder_model(onnx_dir / "two.onnx", tiny_weights, two_outputs=True)
