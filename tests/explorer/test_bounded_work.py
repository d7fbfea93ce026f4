"""Bounded work per request through the app: web tiles at every zoom come from the
pyramid (coarse ones downsampled, the finest scaled), heatmaps reuse their region's
inputs and answers, and a land-cover image over the pixel cap is refused naming it."""

from __future__ import annotations

import io

import mercantile
import numpy as np
import pytest
from PIL import Image

from geovec.explorer.landcover import MAX_LANDCOVER_PIXELS, pixels_per_tile
from tests.stores import add_rows


@pytest.fixture(scope="module")
def app_client(world_db, tmp_path_factory):
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app

    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOVEC_CACHE", str(cache))
        app = create_app(world_db)
        with TestClient(app) as client:
            yield client, app.state.explorer


def test_web_tiles_at_every_zoom_come_from_the_pyramid(app_client):
    client, explorer = app_client
    info = client.get("/api/info").json()
    native = info["basemap_zoom"]
    tiles = explorer.map_tiles()
    lon, lat = float(tiles.lon[0]), float(tiles.lat[0])  # on a map tile
    pyramid = explorer.basemap.cache.pyramid()
    for z in (native - 6, native, pyramid.finest + 3):
        t = mercantile.tile(lon, lat, z)
        response = client.get(f"/api/tiles/{z}/{t.x}/{t.y}.png")
        assert response.status_code == 200
        alpha = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))[..., 3]
        assert alpha.max() > 0, z  # the map is drawn there
    drawn = explorer.basemap.cache.pyramid().drawn
    assert drawn["downsample"] >= 6 and drawn["scale"] == 1
    renders = drawn["render"]
    t = mercantile.tile(lon, lat, native - 6)
    assert client.get(f"/api/tiles/{native - 6}/{t.x}/{t.y}.png").status_code == 200
    assert drawn["render"] == renders  # asked again: nothing drawn
    assert client.get("/api/tiles/25/0/0.png").status_code == 400


def test_heatmaps_reuse_the_regions_inputs(app_client, world_db):
    import geovec

    client, explorer = app_client
    store = geovec.open(world_db)
    region = store.sql("SELECT region FROM ground WHERE isolated ORDER BY id").fetchone()[0]
    ids = [
        r[0]
        for r in store.sql(
            "SELECT id FROM ground WHERE region = $r ORDER BY id", params={"r": region}
        ).fetchall()
    ][:3]
    loads = explorer.heatmaps.loads

    def ask(ident):
        return client.get("/api/heatmap", params={"id": ident, "feature": "gist", "neighbors": 5})

    answers = [ask(i) for i in ids]
    assert [a.status_code for a in answers] == [200] * 3, answers[0].text
    assert explorer.heatmaps.loads - loads <= 1  # one region, loaded once (or before)
    assert ask(ids[0]).json() == answers[0].json()


def test_a_land_cover_image_over_the_pixel_cap_is_refused(tmp_path):
    from starlette.testclient import TestClient

    import geovec
    from geovec.explorer.app import create_app

    store = geovec.open(tmp_path / "db")
    rng = np.random.default_rng(0)
    step = 480 / 111_320
    rows = [  # two clusters of 480 m tiles 20 degrees apart, one region
        {"id": f"t{c}{i}{j}", "region": "wide", "lon": c * 20 + i * step,
         "lat": c * 20 + j * step, "size_m": 480.0}
        for c in (0, 1) for i in range(3) for j in range(3)
    ]  # fmt: skip
    add_rows(store, "map", rows, {"gist": rng.normal(size=(len(rows), 4)).astype(np.float32)})
    with TestClient(create_app(store.path)) as client:
        response = client.get("/api/landcover?region=wide&feature=gist")
    assert response.status_code == 400
    assert f"{MAX_LANDCOVER_PIXELS:,}" in response.json()["error"]
    # an L of 480 m tiles, 200 tiles each way: fewer pixels per tile, within the cap
    rows = [
        {"id": f"u{k}{i}", "region": "mid", "lon": 50 + (i if k else 0) * step,
         "lat": (0 if k else i) * step, "size_m": 480.0}
        for k in (0, 1) for i in range(k, 201)
    ]  # fmt: skip
    add_rows(store, "map", rows, {"gist": rng.normal(size=(len(rows), 4)).astype(np.float32)})
    ppt = pixels_per_tile(store, "mid")
    assert ppt == 5 and (201 * ppt) ** 2 <= MAX_LANDCOVER_PIXELS < (201 * (ppt + 1)) ** 2
