import csv

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon
from typer.testing import CliRunner

from geovec.cli import app
from geovec.errors import GeovecError
from geovec.geo.bounds import parse_bbox
from geovec.geo.grid import reference_grid

GEOD = Geod(ellps="WGS84")
runner = CliRunner()


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
    with pytest.raises(GeovecError, match="positive"):
        reference_grid((0, 0, 0.02, 0.02), tile_m=-1)


def test_grid_csv_through_api_and_cli(tmp_path):
    """geovec grid writes the library's grid: the same tiles, centres and footprints."""
    grid = reference_grid(parse_bbox("-79.96,32.76,-79.92,32.79"), tile_m=480)
    out = tmp_path / "grid.csv"
    result = runner.invoke(app, ["grid", "--bbox", "-79.96,32.76,-79.92,32.79", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {len(grid)} tiles to {out}"
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == grid.ids
    np.testing.assert_allclose([float(r["lon"]) for r in rows], grid.lon)
    np.testing.assert_allclose([float(r["lat"]) for r in rows], grid.lat)
    assert {float(r["size_m"]) for r in rows} == {480.0}
    footprint = shapely.from_wkt(rows[0]["footprint"])
    assert footprint.equals_exact(grid.footprints[0], 1e-9)
    assert footprint.contains(shapely.Point(grid.lon[0], grid.lat[0]))
    stdout = runner.invoke(app, ["grid", "--bbox", "-79.96,32.76,-79.92,32.79", "--tile-m", "240"])
    assert stdout.exit_code == 0 and len(stdout.output.strip().splitlines()) == 1 + len(
        reference_grid(parse_bbox("-79.96,32.76,-79.92,32.79"), tile_m=240)
    )
    bad = runner.invoke(app, ["grid", "--bbox", "1,2,3"])
    assert bad.exit_code == 1 and "W,S,E,N" in bad.output
