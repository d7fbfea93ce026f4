import numpy as np
import pytest
from PIL import Image

from geovec.errors import ImageDecodeError
from geovec.features.decode import load_rgb
from tests.images import write_gps_jpeg, write_hostile


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_hostile(tmp_path_factory.mktemp("hostile"))


def test_every_mode_becomes_rgb(hostile):
    for name, (path, stage) in hostile.items():
        if stage is None:
            rgb = load_rgb(path)
            assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3, name
            assert rgb.shape[:2] == (48, 64), name
            assert 20 < rgb.mean() < 235, name


def test_sixteen_bit_is_rescaled(hostile):
    path, _ = hostile["grey16.png"]
    grey = np.asarray(Image.open(hostile["grey.png"][0]))
    np.testing.assert_allclose(load_rgb(path)[..., 0], grey, atol=1)


def test_alpha_composited_on_white(tmp_path):
    path = tmp_path / "clear.png"
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(path)
    assert (load_rgb(path) == 255).all()


def test_cmyk_colours_survive(tmp_path):
    path = tmp_path / "red.tiff"
    Image.new("RGB", (8, 8), (220, 20, 20)).convert("CMYK").save(path)
    r, g, b = load_rgb(path)[4, 4].astype(int)
    assert r > 180 and g < 60 and b < 60


@pytest.mark.parametrize(
    "name,message",
    [
        ("truncated.jpg", "corrupt or truncated"),
        ("empty.png", "empty file"),
        ("notes.jpg", "not an image"),
        ("folder.png", "directory"),
        ("bomb.png", "decompression bomb"),
    ],
)
def test_bad_files_raise_decode_errors(hostile, name, message):
    with pytest.raises(ImageDecodeError, match=message):
        load_rgb(hostile[name][0])


def test_exif_orientation_applied(tmp_path):
    path = write_gps_jpeg(tmp_path / "rot.jpg", 1.0, 2.0, orientation=6)
    assert load_rgb(path).shape[:2] == (64, 48)
