import numpy as np
from PIL import Image

from geovec.geo.grid import local_crs
from geovec.geo.ortho import Orthophoto, read_world_file, write_world_file


def synthetic_ortho(tmp_path):
    """A 1 m/pixel orthophoto in a local metric CRS whose pixel colours encode position."""
    size = 1200
    cols, rows = np.meshgrid(np.arange(size), np.arange(size))
    pixels = np.stack([cols % 256, rows % 256, (cols // 256) * 40 + (rows // 256) * 5], -1).astype(
        np.uint8
    )
    path = tmp_path / "ortho.png"
    Image.fromarray(pixels).save(path)
    crs = local_crs(-79.9, 32.8)
    affine = np.array([[1.0, 0, -600 + 0.5], [0, -1.0, 600 - 0.5]])
    write_world_file(tmp_path / "ortho.pgw", affine)
    (tmp_path / "ortho.prj").write_text(crs.to_wkt())
    return path, pixels


def test_world_file_round_trip(tmp_path):
    affine = np.array([[0.5, 0.0, 1000.25], [0.0, -0.5, 2000.75]])
    write_world_file(tmp_path / "a.jgw", affine)
    np.testing.assert_allclose(read_world_file(tmp_path / "a.jgw"), affine)


def test_aerial_at_returns_the_right_pixels(tmp_path):
    path, pixels = synthetic_ortho(tmp_path)
    ortho = Orthophoto.open(path)
    img = ortho.aerial_at(-79.9, 32.8, size_m=256, px=256)  # 1 m/pixel, centred
    # the output pixel (r, c) covers map x = c - 127.5, y = 127.5 - r: source col = x + 599.5
    np.testing.assert_array_equal(img[10, 20], pixels[600 - 128 + 10, 600 - 128 + 20])
    np.testing.assert_array_equal(img[200, 77], pixels[600 - 128 + 200, 600 - 128 + 77])


def test_outside_is_black(tmp_path):
    path, _ = synthetic_ortho(tmp_path)
    img = Orthophoto.open(path).aerial_at(-79.9, 32.8, size_m=2400, px=64)
    assert (img[0, 0] == 0).all() and img[32, 32].any()
