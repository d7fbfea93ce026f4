import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Polygon

from geovec.errors import GeovecError
from geovec.geo.bounds import parse_bbox
from geovec.geo.grid import reference_grid

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("lat", [0.0, 32.78, 37.76, 60.0, -45.0])
def test_spacing_and_footprints_are_true_metres(lat):
    grid = reference_grid((10.0, lat, 10.0 + 0.05, lat + 0.04), tile_m=480)
    assert len(grid) > 4
    # neighbours in a row are 480 m apart
    row = np.isclose(grid.y, grid.y[0])
    lon, lat_ = grid.lon[row], grid.lat[row]
    spacing = GEOD.inv(lon[:-1], lat_[:-1], lon[1:], lat_[1:])[2]
    np.testing.assert_allclose(spacing, 480, atol=1.0)
    for foot in grid.footprints[:5]:
        xs, ys = foot.exterior.coords.xy
        sides = GEOD.inv(xs[:-1], ys[:-1], xs[1:], ys[1:])[2]
        np.testing.assert_allclose(sides, 480, atol=1.0)


def test_polygon_region_keeps_tiles_that_touch_it():
    triangle = Polygon([(0, 0), (0.05, 0), (0, 0.05)])
    full = reference_grid(triangle.envelope)
    part = reference_grid(triangle)
    assert 0 < len(part) < len(full)


def test_custom_spacing_and_bbox_parsing():
    dense = reference_grid((0, 0, 0.02, 0.02), tile_m=480, spacing_m=240)
    sparse = reference_grid((0, 0, 0.02, 0.02), tile_m=480)
    assert len(dense) > 3 * len(sparse) - 4
    assert parse_bbox("-80,32,-79.5,33") == (-80, 32, -79.5, 33)
    with pytest.raises(GeovecError):
        parse_bbox("1,2,3")
    with pytest.raises(GeovecError):
        parse_bbox("10,0,5,1")
