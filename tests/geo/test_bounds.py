import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from geovec.errors import GeovecError
from geovec.geo.bounds import Bbox, Near, as_bbox, parse_bbox, parse_near

GEOD = Geod(ellps="WGS84")


def test_parse_bbox_and_near():
    assert parse_bbox("-80,32,-79.5,33") == Bbox(-80, 32, -79.5, 33)
    assert parse_bbox(" -80, 32 ,-79.5,33").west == -80
    assert parse_near("-79.94,32.78,2000") == Near(-79.94, 32.78, 2000.0)
    assert as_bbox((1, 2, 3, 4)) == Bbox(1.0, 2.0, 3.0, 4.0)


@pytest.mark.parametrize(
    "text,message",
    [
        ("1,2,3", "W,S,E,N"),
        ("10,0,5,1", "not W<E"),
        ("0,0,1,nan", "W,S,E,N"),
        ("0,95,1,96", "S<N within"),
    ],
)
def test_bad_bbox(text, message):
    with pytest.raises(GeovecError, match=message):
        parse_bbox(text)


@pytest.mark.parametrize("text", ["1,2", "1,2,3,4", "x,1,2", "0,0,-5", "200,0,10"])
def test_bad_near(text):
    with pytest.raises(GeovecError, match="near"):
        parse_near(text)


@given(st.floats(-179, 179), st.floats(-85, 85), st.floats(1, 500_000))
def test_circle_box_holds_the_circle(lon, lat, radius):
    """Points at the radius, all round, lie inside the circle's box."""
    near = Near(lon, lat, radius)
    box = near.bbox()
    for azimuth in range(0, 360, 15):
        plon, plat, _ = GEOD.fwd(lon, lat, azimuth, radius * 0.999)
        assert box.west <= plon <= box.east and box.south <= plat <= box.north


def test_box_of_a_circle_around_a_pole_or_across_the_antimeridian():
    polar = Near(10.0, 89.9, 50_000).bbox()
    assert (polar.west, polar.east, polar.north) == (-180.0, 180.0, 90.0)
    assert polar.south < 89.9 - 0.44  # 50 km of latitude is 0.45 degrees
    assert Near(179.99, 0.0, 5_000).bbox()[::2] == (-180.0, 180.0)
