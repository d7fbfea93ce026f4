import numpy as np
import pytest

from geovec.features.gist import GIST_DIM, gabor_bank, gist, gist_input


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(0)
    img = np.zeros((240, 320, 3), np.uint8)
    img[:120] = (120, 160, 230)  # sky
    img[120:] = (60, 110, 40)  # grass
    img[60:200, 100:140] = (150, 90, 70)  # a building
    img += rng.integers(0, 20, img.shape, dtype=np.uint8)
    return img


def test_shape_and_finite(scene):
    g = gist(scene)
    assert g.shape == (GIST_DIM,) == (512,)
    assert np.isfinite(g).all() and g.max() > 0


def test_constant_image_has_no_energy():
    np.testing.assert_allclose(gist(np.full((100, 100, 3), 90, np.uint8)), 0, atol=1e-6)


def test_invariant_to_brightness_and_contrast(scene):
    brighter = np.clip(scene.astype(np.float32) * 0.5 + 40, 0, 255)
    np.testing.assert_allclose(gist(brighter), gist(scene.astype(np.float32)), rtol=1e-3, atol=1e-4)


def test_orientation_is_seen():
    stripes = np.zeros((256, 256), np.float32)
    stripes[:, ::8] = 255
    g_vertical, g_horizontal = gist(stripes), gist(stripes.T.copy())
    assert np.abs(g_vertical - g_horizontal).max() > 0.05 * g_vertical.max()


def test_input_is_cropped_square():
    assert gist_input(np.zeros((100, 300, 3), np.uint8)).shape == (256, 256)


def test_gabor_bank_shape():
    bank = gabor_bank()
    assert bank.shape == (32, 320, 320)
    assert bank.max() <= 1 + 1e-6
    assert (bank[:, 0, 0] < 0.05 * bank.max(axis=(1, 2))).all()  # band-pass: little DC
