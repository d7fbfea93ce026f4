"""The web-tile pyramid: coarse tiles are their children downsampled, each tile is drawn
once (per folder, across threads and pyramids sharing it), native tiles come from reduced
images kept on disk, and no tile draws more than its own zoom's share of map tiles."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import mercantile
import numpy as np
import pytest
from PIL import Image

from geovec.geo.grid import reference_grid
from geovec.geo.pyramid import WebTilePyramid, content_key
from geovec.geo.webtiles import TILE_PX, MapTiles, render_web_tile

CENTRE = (-79.94, 32.78)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory) -> MapTiles:
    """7 x 7 map tiles of 480 m (3.4 km a side) with 64 px images of noise."""
    folder = tmp_path_factory.mktemp("maps")
    w, s = CENTRE[0] - 0.018, CENTRE[1] - 0.015
    grid = reference_grid((w, s, w + 0.036, s + 0.030))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(len(grid.ids)):
        path = folder / f"t{i}.png"
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(path)
        paths.append(str(path))
    n = len(paths)
    return MapTiles(
        list(grid.ids), np.array(grid.lon), np.array(grid.lat), np.full(n, 480.0), paths
    )


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")).astype(int)


def children_of(z, x, y):
    return [(z + 1, 2 * x + dx, 2 * y + dy) for dy in (0, 1) for dx in (0, 1)]


def test_a_coarse_tile_is_its_children_downsampled_and_drawn_once(tiles, tmp_path):
    pyramid = WebTilePyramid(tiles, tmp_path / "p")
    native = pyramid.native
    t = mercantile.tile(*CENTRE, native - 3)
    parent = pyramid.png(native - 3, t.x, t.y)
    assert parent is not None
    # what it was made from: every covered native tile under it, each drawn once
    under = [u for u in mercantile.children(t, zoom=native) if pyramid.covered(native, u.x, u.y)]
    assert 0 < pyramid.drawn["render"] == len(under) <= 4
    # one level down: the children side by side and halved (box filter, alpha-weighted)
    z, x, y = native - 3, t.x, t.y
    canvas = np.zeros((2 * TILE_PX, 2 * TILE_PX, 4))
    for k, (cz, cx, cy) in enumerate(children_of(z, x, y)):
        child = pyramid.png(cz, cx, cy)
        if child is not None:
            r, c = divmod(k, 2)
            canvas[r * TILE_PX : (r + 1) * TILE_PX, c * TILE_PX : (c + 1) * TILE_PX] = decoded(
                child
            )
    alpha = canvas[..., 3].reshape(TILE_PX, 2, TILE_PX, 2).mean(axis=(1, 3))
    assert np.abs(decoded(parent)[..., 3] - alpha).max() <= 1
    # asked again, by this pyramid or a new one on the same folder: nothing is drawn
    again = WebTilePyramid(tiles, tmp_path / "p")
    assert again.png(native - 3, t.x, t.y) == parent and pyramid.png(z, x, y) == parent
    assert sum(again.drawn.values()) == 0
    # a tile whose subtree no footprint meets is empty without being visited
    far = mercantile.tile(CENTRE[0] + 20, CENTRE[1], native - 3)
    assert again.png(native - 3, far.x, far.y) is None and sum(again.drawn.values()) == 0


def test_coarse_zooms_are_never_drawn_from_the_map_tiles(tiles):
    """MIN_PIXELS_PER_TILE holds: drawing a tile coarser than the native zoom is refused
    (each map tile would be a few pixels, and a continent thousands of them)."""
    native = tiles.native_zoom()
    t = mercantile.tile(*CENTRE, native - 1)
    with pytest.raises(ValueError, match="native zoom"):
        render_web_tile(tiles, native - 1, t.x, t.y)


def test_native_tiles_come_from_reduced_images_on_disk(tiles, tmp_path):
    pyramid = WebTilePyramid(tiles, tmp_path / "p")
    z = pyramid.native
    t = mercantile.tile(*CENTRE, z)
    first = pyramid.png(z, t.x, t.y)
    assert pyramid.drawn["reduce"] > 0
    assert first == WebTilePyramid(tiles).png(z, t.x, t.y)  # same with no folder at all
    (tmp_path / "p" / str(z) / str(t.x) / f"{t.y}.png").unlink()
    fresh = WebTilePyramid(tiles, tmp_path / "p")  # another process: empty memory
    assert fresh.png(z, t.x, t.y) == first
    assert fresh.drawn["render"] == 1 and fresh.drawn["reduce"] == 0  # no map PNG decoded
    # and the same pixels as drawing straight from the map images
    direct = np.asarray(render_web_tile(tiles, z, t.x, t.y)).astype(int)
    assert np.abs(decoded(first) - direct).max() <= 1


def test_concurrent_requests_compute_each_tile_once(tiles, tmp_path):
    """Eight threads over two pyramids sharing one folder (as two server processes do)
    ask for the same cold coarse tile: one answer; each native tile beneath is drawn at
    most once per pyramid, and the folder holds only whole PNGs."""
    pyramids = [WebTilePyramid(tiles, tmp_path / "p") for _ in range(2)]
    native = pyramids[0].native
    t = mercantile.tile(*CENTRE, native - 2)
    barrier = threading.Barrier(8)

    def ask(k):
        barrier.wait()
        return pyramids[k % 2].png(native - 2, t.x, t.y)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert answers[0] is not None and len(set(answers)) == 1
    under = [
        u for u in mercantile.children(t, zoom=native) if pyramids[0].covered(native, u.x, u.y)
    ]
    assert sum(p.drawn["render"] for p in pyramids) <= 2 * len(under)
    assert all(p.drawn["render"] <= len(under) for p in pyramids)
    stored = [p for p in (tmp_path / "p").rglob("*") if p.is_file() and p.name != ".used"]
    assert stored and not [p for p in stored if p.name.startswith(".tmp-")]
    for path in stored:
        if path.stat().st_size:
            Image.open(path).verify()


def test_tiles_finer_than_the_images_are_their_ancestor_scaled(tiles):
    pyramid = WebTilePyramid(tiles)
    z = pyramid.finest + 2
    t = mercantile.tile(*CENTRE, z)
    ancestor = mercantile.parent(t, zoom=pyramid.finest)
    pyramid.png(pyramid.finest, ancestor.x, ancestor.y)
    drawn = pyramid.drawn["render"]
    data = pyramid.png(z, t.x, t.y)
    assert data is not None and pyramid.drawn["render"] == drawn  # no map tile drawn
    # a quarter of the ancestor's side, scaled up four times
    part = decoded(pyramid.png(pyramid.finest, ancestor.x, ancestor.y))
    r0, c0 = (t.y - ancestor.y * 4) * 64, (t.x - ancestor.x * 4) * 64
    block = part[r0 : r0 + 64, c0 : c0 + 64]
    assert np.abs(decoded(data)[2::4, 2::4] - block).mean() < 8


def test_a_changed_image_file_starts_a_new_pyramid(tiles, tmp_path):
    before = content_key(tiles)
    copy = tmp_path / "t.png"
    copy.write_bytes(open(tiles.paths[0], "rb").read())
    changed = MapTiles(tiles.ids, tiles.lon, tiles.lat, tiles.size_m, [str(copy), *tiles.paths[1:]])
    assert content_key(changed) != before
    assert (
        content_key(MapTiles(tiles.ids, tiles.lon, tiles.lat, tiles.size_m, tiles.paths)) == before
    )


def test_an_unwritable_folder_keeps_tiles_in_memory(tiles, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    pyramid = WebTilePyramid(tiles, blocked / "p")
    z = pyramid.native
    t = mercantile.tile(*CENTRE, z)
    assert pyramid.png(z, t.x, t.y) is not None
    assert pyramid.png(z, t.x, t.y) is not None and pyramid.drawn["render"] == 1


def test_refused_files_are_not_drawn(tiles):
    pyramid = WebTilePyramid(tiles, readable=lambda path: False)
    t = mercantile.tile(*CENTRE, pyramid.native)
    assert pyramid.png(pyramid.native, t.x, t.y) is None
