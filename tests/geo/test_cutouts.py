import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from geovec.cli import app
from geovec.errors import GeovecError
from geovec.geo.cutouts import cutout


def marked_panorama(width=720):
    """Grey panorama with a red mark at heading +90 (right of the car), blue at -90,
    green straight ahead, each on the horizon."""
    h = width // 2
    pano = np.full((h, width, 3), 128, np.uint8)
    for heading, colour in ((90, (255, 0, 0)), (-90, (0, 0, 255)), (0, (0, 255, 0))):
        col = int((heading / 360 + 0.5) * width)
        pano[h // 2 - 3 : h // 2 + 3, col - 3 : col + 3] = colour
    return pano


@pytest.mark.parametrize(
    "heading,colour", [(90, (255, 0, 0)), (-90, (0, 0, 255)), (0, (0, 255, 0))]
)
def test_marks_land_at_the_centre(heading, colour):
    view = cutout(marked_panorama(), heading, size=(800, 600), fov_deg=90)
    assert view.shape == (600, 800, 3)
    np.testing.assert_allclose(view[300, 400], colour, atol=40)


def test_mark_off_centre_lands_at_projected_column():
    # mark at heading +90 seen from heading +60 with fov 90: x = f tan(30 deg)
    view = cutout(marked_panorama(), 60, size=(800, 600), fov_deg=90)
    expected_col = 400 + 400 * np.tan(np.radians(30))
    red = np.nonzero((view[300, :, 0] > 200) & (view[300, :, 1] < 80))[0]
    assert abs(red.mean() - expected_col) < 4


def test_wraps_the_seam():
    pano = marked_panorama()
    pano[:, :2] = (250, 250, 0)
    pano[:, -2:] = (250, 250, 0)
    view = cutout(pano, 180, size=(200, 100), fov_deg=60)
    assert view[50, 100, 0] > 200 and view[50, 100, 1] > 200


def test_not_a_panorama():
    with pytest.raises(GeovecError, match="2:1"):
        cutout(np.zeros((100, 100, 3), np.uint8), 90)


def test_cli_cutouts(tmp_path):
    path = tmp_path / "pano.png"
    Image.fromarray(marked_panorama()).save(path)
    result = CliRunner().invoke(
        app, ["cutouts", str(path), "--out", str(tmp_path / "views"), "--size", "400x300"]
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "views").iterdir())
    assert files == ["pano_h+090.jpg", "pano_h-090.jpg"]
    assert Image.open(tmp_path / "views" / "pano_h+090.jpg").size == (400, 300)
