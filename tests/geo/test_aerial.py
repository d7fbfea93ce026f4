"""The same points cut from every kind of aerial source made from one orthophoto by other
tools agree: each mark lands on the centre of its square within one output pixel, and
the images differ little."""

import numpy as np
import pytest

from geovec.errors import AerialSourceError
from geovec.geo.aerial import open_source
from geovec.geo.raster import Mosaic, Raster
from geovec.geo.tiles import TilePyramid
from tests import aerial_files

SIZE_M, PX = 64.0, 64  # 1 m per output pixel, as the orthophoto
# How far off the mark may land, in output pixels, and at what ground size of the 64 px
# cut: GeoTIFFs hold the orthophoto's own pixels (or GDAL's warp of them) and must be
# exact; MBTiles went through GDAL's warp to Web Mercator tiles; gdal2tiles rounds its
# read windows to whole pixels, so its tiles sit up to about a pixel of their zoom off
# (seen: 1.4 px at zoom 17) and are held to one output pixel at 2 m per pixel.
TOLERANCE = {
    "mbtiles": (SIZE_M, 0.5),
    "tiles_tms": (2 * SIZE_M, 1.0),
    "tiles_xyz": (2 * SIZE_M, 1.0),
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return aerial_files.build(tmp_path_factory.mktemp("aerial"))


def mark_position(rgb: np.ndarray) -> tuple[float, float]:
    """(row, col) of the mark: the centroid of magentaness (how far red and blue exceed
    green, beyond the texture's), weighted, so resampling that smears the mark over more
    pixels does not move it."""
    rgb = rgb.astype(float)
    weight = np.clip(np.minimum(rgb[..., 0], rgb[..., 2]) - rgb[..., 1] - 60, 0, None)
    assert weight.sum() > 0, "no mark in the cut"
    rows, cols = np.indices(weight.shape)
    return (rows * weight).sum() / weight.sum(), (cols * weight).sum() / weight.sum()


def kinds(sources):
    return [
        k
        for k in ("utm", "geographic", "cog", "mbtiles", "worldfile", "tiles_tms", "tiles_xyz")
        if k in sources
    ]


def test_every_source_puts_the_mark_at_the_centre(sources):
    centre = (PX - 1) / 2
    for kind in kinds(sources):
        size_m, within = TOLERANCE.get(kind, (SIZE_M, 0.1))
        source = open_source(sources[kind])
        try:
            for lon, lat in aerial_files.marks_lonlat():
                cut = source.cut(lon, lat, size_m, PX)
                assert cut is not None and cut.valid.all(), kind
                row, col = mark_position(cut.rgb)
                assert abs(row - centre) <= within and abs(col - centre) <= within, (
                    kind,
                    row - centre,
                    col - centre,
                )
        finally:
            source.close()


def test_sources_agree_with_the_utm_geotiff(sources):
    reference = open_source(sources["utm"])
    lon, lat = aerial_files.marks_lonlat()[1]
    lon += 0.0004  # off the mark: texture only
    want = reference.cut(lon, lat, SIZE_M, PX).rgb.astype(float)
    for kind in kinds(sources):
        got = open_source(sources[kind]).cut(lon, lat, SIZE_M, PX).rgb.astype(float)
        assert np.abs(got - want).mean() < 6.0, kind  # resampling differs a little


def test_source_kinds_are_recognised(sources):
    assert isinstance(open_source(sources["utm"]), Raster)
    assert isinstance(open_source(sources["mbtiles"]), TilePyramid)
    assert isinstance(open_source([sources["utm"], sources["geographic"]]), Mosaic)
    if "tiles_tms" in sources:
        assert open_source(sources["tiles_tms"]).store.scheme == "tms"  # tilemapresource.xml
        assert open_source(sources["tiles_xyz"]).store.scheme == "xyz"


def test_wrong_scheme_misplaces_tiles(sources):
    """Read with the wrong row order, a TMS folder gives nothing at the mark: the scheme
    matters and is not guessed by luck."""
    if "tiles_tms" not in sources:
        pytest.skip("gdal2tiles.py (Debian's gdal-bin) is not installed")
    lon, lat = aerial_files.marks_lonlat()[1]
    wrong = open_source(sources["tiles_tms"], scheme="xyz").cut(lon, lat, SIZE_M, PX)
    assert wrong is None or not wrong.valid.any()


def test_outside_and_partly_outside(sources):
    source = open_source(sources["utm"])
    assert source.cut(10.0, 10.0, SIZE_M, PX) is None
    lon, lat = aerial_files.CENTRE
    edge = source.cut(lon, lat, aerial_files.SIDE_M * 1.6, PX)  # wider than the raster
    assert 0.2 < edge.valid_fraction < 0.6 and edge.rgb[~edge.valid].max() == 0


def test_coarse_output_averages_instead_of_aliasing(tmp_path):
    """A 1 m checkerboard cut at 8 m per pixel is grey: the read is decimated with
    averaging (from overviews when there are some), not point-sampled."""
    import rasterio
    from rasterio.transform import from_origin

    cx, cy = aerial_files.utm_frame()
    board = ((np.indices((800, 800)).sum(axis=0) % 2) * 255).astype(np.uint8)
    pixels = np.repeat(board[..., None], 3, axis=2)
    path = aerial_files.write_geotiff(
        tmp_path / "board.tif", pixels, from_origin(cx - 400, cy + 400, 1, 1), aerial_files.UTM
    )
    with rasterio.open(path) as ds:
        assert ds.overviews(1) == [2, 4, 8]
    cut = Raster(path).cut(*aerial_files.CENTRE, 512.0, 64)
    assert cut.valid.all() and abs(cut.rgb.mean() - 127.5) < 10 and cut.rgb.std() < 20


def test_grey_nodata_and_16_bit(tmp_path):
    """A single-band 16-bit raster with a nodata value: grey, scaled to 0-255, and its
    nodata pixels not valid."""
    import rasterio
    from rasterio.transform import from_origin

    cx, cy = aerial_files.utm_frame()
    data = np.full((200, 200), 4000, np.uint16)
    data[:, :100] = 0  # nodata: the western half
    path = tmp_path / "grey16.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=200,
        height=200,
        count=1,
        dtype="uint16",
        crs=aerial_files.UTM,
        nodata=0,
        transform=from_origin(cx - 100, cy + 100, 1, 1),
    ) as dst:
        dst.write(data, 1)
    cut = Raster(path).cut(*aerial_files.CENTRE, 100.0, 20)
    west, east = cut.valid[:, :9], cut.valid[:, 11:]
    assert not west.any() and east.all()
    assert (cut.rgb[:, 11:] == 255).all()  # the band's maximum is white


def test_bad_sources(tmp_path):
    with pytest.raises(AerialSourceError, match="no such file"):
        open_source(tmp_path / "nope.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(AerialSourceError, match="not a raster GDAL can read"):
        open_source(tmp_path / "junk.tif")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AerialSourceError, match="no rasters"):
        open_source(tmp_path / "empty")


def test_tile_geometry_is_exact(tmp_path):
    """Tiles drawn analytically (each pixel magenta when its centre lies within 2 m of a
    point, in Web Mercator metres scaled to the ground), as XYZ and as TMS: the point lands
    at the centre of its square to a tenth of a pixel, at both zooms."""
    import mercantile
    from PIL import Image
    from pyproj import Transformer

    lon, lat = aerial_files.CENTRE
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    mx, my = to_merc.transform(lon, lat)
    scale = 1 / np.cos(np.radians(lat))  # Web Mercator metres per ground metre
    for z in (17, 18):
        for tile in mercantile.tiles(lon - 0.0015, lat - 0.0015, lon + 0.0015, lat + 0.0015, z):
            b = mercantile.xy_bounds(tile)
            step = (b.right - b.left) / 256
            xs = b.left + (np.arange(256) + 0.5) * step
            ys = b.top - (np.arange(256) + 0.5) * step
            gx, gy = np.meshgrid(xs, ys)
            inside = np.hypot(gx - mx, gy - my) <= 2.0 * scale
            rgba = np.zeros((256, 256, 4), np.uint8)
            rgba[..., :3] = (90, 120, 60)
            rgba[inside, :3] = aerial_files.MARK
            rgba[..., 3] = 255
            for scheme, row in (("xyz", tile.y), ("tms", (1 << z) - 1 - tile.y)):
                path = tmp_path / scheme / str(z) / str(tile.x) / f"{row}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rgba).save(path)
    for scheme in ("xyz", "tms"):
        for z, size_m in ((17, 64.0), (18, 32.0)):
            cut = open_source(tmp_path / scheme, zoom=z, scheme=scheme).cut(lon, lat, size_m, PX)
            row, col = mark_position(cut.rgb)
            assert abs(row - 31.5) < 0.1 and abs(col - 31.5) < 0.1, (scheme, z, row, col)
