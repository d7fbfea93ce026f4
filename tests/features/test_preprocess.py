import numpy as np
from PIL import Image

from geovec.features.preprocess import bilinear_resize, caffe_crop


def test_crop_shape_and_channel_order():
    rgb = np.zeros((300, 400, 3), np.uint8)
    rgb[..., 0] = 200  # red
    crop = caffe_crop(rgb)
    assert crop.shape == (227, 227, 3) and crop.dtype == np.float32
    np.testing.assert_allclose(crop[..., 2], 200)  # red is last in BGR
    np.testing.assert_allclose(crop[..., 0], 0)


def test_float_input_is_scaled():
    rgb = np.full((50, 50, 3), 0.5, np.float32)
    np.testing.assert_allclose(caffe_crop(rgb), 127.5, rtol=1e-6)


def test_resize_reproduces_linear_ramp():
    ramp = np.tile(np.arange(64, dtype=np.float32), (64, 1))
    out = bilinear_resize(ramp, 128, 128)
    interior = out[:, 2:-2]
    np.testing.assert_allclose(np.diff(interior, axis=1), 0.5, atol=1e-5)


def test_upscale_matches_pillow_bilinear():
    img = np.random.default_rng(0).uniform(0, 255, (40, 30)).astype(np.float32)
    ours = bilinear_resize(img, 256, 256)
    pil = np.asarray(Image.fromarray(img, mode="F").resize((256, 256), Image.BILINEAR))
    np.testing.assert_allclose(ours, pil, atol=1e-2)
