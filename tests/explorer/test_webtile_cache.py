"""The explorer's web-tile cache: beside the store or under $GEOVEC_CACHE, one pyramid per
content of the map table (a new tile starts a new one, a new feature column does not)."""

from __future__ import annotations

import mercantile
import numpy as np
from PIL import Image

from geovec.explorer import webtile_cache
from geovec.explorer.webtile_cache import WebTileCache, cache_root
from geovec.geo.webtiles import MapTiles
from geovec.store.schema import feature_field
from tests.stores import add_rows

STEP = 480 / 111_320


def read_tiles(store) -> MapTiles:
    rows = store.read("map", ["id", "lon", "lat", "size_m", "path"]).to_pylist()
    return MapTiles(
        [r["id"] for r in rows],
        np.array([r["lon"] for r in rows], float),
        np.array([r["lat"] for r in rows], float),
        np.array([r["size_m"] for r in rows], float),
        [r["path"] for r in rows],
    )


def add_tiles(store, folder, first: int, n: int) -> None:
    rows = []
    for i in range(first, first + n):
        path = folder / f"t{i}.png"
        Image.new("RGB", (64, 64), (40 * i % 256, 90, 200)).save(path)
        rows.append(
            {"id": f"t{i}", "region": "r", "lon": i * STEP, "lat": 0.0, "size_m": 480.0,
             "path": str(path)}
        )  # fmt: skip
    add_rows(store, "map", rows, {"gist": np.zeros((n, 2), np.float32)})


def test_tiles_are_kept_beside_the_store_per_content(tmp_path, monkeypatch):
    import geovec

    monkeypatch.delenv(webtile_cache.CACHE_ENV, raising=False)
    monkeypatch.setattr(webtile_cache, "CHECK_EVERY_S", 0.0)
    store = geovec.open(tmp_path / "db")
    add_tiles(store, tmp_path, 0, 3)
    cache = WebTileCache(store, lambda: read_tiles(store))
    z = cache.pyramid().native
    first = cache.pyramid().folder
    assert first.parent == tmp_path / "db" / ".geovec-cache" / "webtiles"
    t = mercantile.tile(STEP, 0.0, z + 2)
    assert cache.png(z + 2, t.x, t.y) is not None
    assert (first / str(z + 2) / str(t.x) / f"{t.y}.png").stat().st_size > 0
    # a feature column added: a new table version, the same tiles: the same pyramid
    store.ensure_features("map", [feature_field("other", 3)])
    assert cache.pyramid().folder == first
    # a new tile: a new pyramid, which draws it
    far = mercantile.tile(30 * STEP, 0.0, z + 2)
    assert cache.png(z + 2, far.x, far.y) is None
    add_tiles(store, tmp_path, 30, 1)
    assert cache.pyramid().folder != first and len(cache.map_tiles()) == 4
    assert cache.png(z + 2, far.x, far.y) is not None


def test_geovec_cache_names_another_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(webtile_cache.CACHE_ENV, str(tmp_path / "cache"))
    root = cache_root(tmp_path / "db")
    assert root.parent == tmp_path / "cache" and root.name.startswith("db-")
    assert cache_root(tmp_path / "other" / "db") != root  # two stores called db
