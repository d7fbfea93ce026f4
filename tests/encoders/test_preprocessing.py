"""The preprocessing as the README states it, written out here with Pillow and numpy."""

import numpy as np
import pytest
from PIL import Image

from geovec.encoders.preprocessing import Preprocessing, default_mean_std, encoder_input
from geovec.errors import EncoderError
from tests.images import noise_image

MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def stated(img: Image.Image, mean=MEAN, std=STD, scale=1) -> np.ndarray:
    """Pixels of a resized Pillow image, scaled, normalised per R,G,B, channels first."""
    x = np.asarray(img, np.float64) / (255.0 if scale == 1 else 1.0)
    return ((x - mean) / std).transpose(2, 0, 1)


def test_whole_image_resized_to_s_by_s():
    img = noise_image(1, size=(30, 50))  # 30 rows, 50 columns
    got = encoder_input(np.asarray(img), Preprocessing(size=16))
    assert got.shape == (3, 16, 16) and got.dtype == np.float32
    want = stated(img.resize((16, 16), Image.BILINEAR))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "height, width, box, resized",
    [
        (40, 100, (15, 0, 35, 20), (50, 20)),  # wide: shorter side 40 -> 20, width 50
        (45, 20, (0, 12, 20, 32), (20, 45)),  # tall: offset round(12.5) = 12 (half to even)
        (47, 20, (0, 14, 20, 34), (20, 47)),  # round(13.5) = 14
    ],
)
def test_centre_crop_offsets(height, width, box, resized):
    img = noise_image(2, size=(height, width))
    got = encoder_input(np.asarray(img), Preprocessing(size=20, crop="centre"))
    want = stated(img.resize(resized, Image.BILINEAR).crop(box))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_bgr_swaps_after_the_rgb_mean():
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    got = encoder_input(red, Preprocessing(size=4, channels="bgr"))[:, 0, 0]
    r, g, b = (1 - MEAN[0]) / STD[0], (0 - MEAN[1]) / STD[1], (0 - MEAN[2]) / STD[2]
    np.testing.assert_allclose(got, [b, g, r], rtol=1e-6)


def test_scale_255_keeps_pixels_and_defaults_to_imagenet_times_255():
    mean, std = default_mean_std(255)
    assert mean == (123.675, 116.28, 103.53) and std == (58.395, 57.12, 57.375)
    img = noise_image(3, size=(10, 10))
    got = encoder_input(np.asarray(img), Preprocessing(size=10, mean=mean, std=std, scale=255))
    want = stated(img.resize((10, 10), Image.BILINEAR), np.array(mean), np.array(std), 255)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scale=7), "scale must be 1"),
        (dict(channels="rgba"), "channels must be rgb or bgr"),
        (dict(crop="middle"), "crop must be centre or none"),
        (dict(std=(1.0, 0.0, 1.0)), "std must be positive"),
        (dict(mean=(1.0, 2.0)), "mean must be three"),
        (dict(size=0), "size must be a positive"),
    ],
)
def test_bad_settings_refused(kwargs, message):
    with pytest.raises(EncoderError, match=message):
        Preprocessing(**{"size": 8, **kwargs})


def test_description_states_every_setting():
    text = Preprocessing(
        size=32, scale=255, channels="bgr", crop="centre", mean=(1, 2, 3), std=(4, 5, 6)
    ).describe()
    for part in (
        "shorter side to 32",
        "centre crop 32x32",
        "0-255",
        "mean 1,2,3",
        "std 4,5,6",
        "BGR",
        "NCHW float32",
    ):
        assert part in text, part
