"""The explorer's JSON API (Starlette's TestClient) on the tiny world: each answer equals
what the library gives for the same question."""

from __future__ import annotations

import io

import mercantile
import numpy as np
import pytest
from PIL import Image

import geovec


@pytest.fixture(scope="module")
def info(client):
    response = client.get("/api/info")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def store(world_db):
    return geovec.open(world_db, create=False)


def isolated_id(client, region=None):
    features = client.get("/api/points", params={"limit": 5000}).json()["features"]
    return next(
        f["id"]
        for f in features
        if f["properties"]["isolated"] and region in (None, f["properties"]["region"])
    )


def test_info_names_tables_features_and_regions(info, store):
    assert info["counts"] == {t: store.count(t) for t in store.tables()}
    assert info["usable_features"] == ["gist"] and info["default_feature"] == "gist"
    regions = store.sql("select distinct region from ground").fetchall()
    assert sorted(r["region"] for r in info["regions"]) == sorted(r[0] for r in regions)
    assert info["basemap_zoom"] >= 10


def test_points_page_through_every_located_photo_once(client, store):
    seen, offset = [], 0
    while offset is not None:
        page = client.get("/api/points", params={"offset": offset, "limit": 37}).json()
        assert page["type"] == "FeatureCollection" and len(page["features"]) <= 37
        seen += [f["id"] for f in page["features"]]
        offset = page["next_offset"]
    located = store.sql("select id from ground where lon is not null order by id").fetchall()
    assert seen == [r[0] for r in located]


def test_points_bbox_keeps_exactly_the_photos_inside(client, store):
    lon, lat = store.sql("select median(lon), median(lat) from ground").fetchone()
    box = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    page = client.get("/api/points", params={"bbox": ",".join(map(str, box)), "limit": 5000})
    got = {f["id"] for f in page.json()["features"]}
    want = store.sql(
        "select id from ground where lon between ? and ? and lat between ? and ?",
        [box[0], box[2], box[1], box[3]],
    ).fetchall()
    assert got == {r[0] for r in want} and 0 < len(got) < store.count("ground")
    for f in page.json()["features"]:
        x, y = f["geometry"]["coordinates"]
        assert box[0] <= x <= box[2] and box[1] <= y <= box[3]


def test_image_sends_the_rows_file_and_thumbnails(client, store):
    ident, path = store.read("ground", ["id", "path"]).to_pylist()[0].values()
    response = client.get("/api/image/ground", params={"id": ident})
    assert response.status_code == 200 and response.content == open(path, "rb").read()
    thumb = client.get("/api/image/ground", params={"id": ident, "px": 64})
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 64


def test_web_tile_shows_the_map_tile_at_its_place(client, store, info):
    """A web pixel at a map tile's centre has that tile's centre colour."""
    row = store.read("map", ["id", "lon", "lat", "path"]).to_pylist()[5]
    z = info["basemap_zoom"] + 3
    t = mercantile.tile(row["lon"], row["lat"], z)
    response = client.get(f"/api/tiles/{z}/{t.x}/{t.y}.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    web = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"), float)
    b = mercantile.xy_bounds(t)
    x, y = mercantile.xy(row["lon"], row["lat"])
    col = int((x - b.left) / (b.right - b.left) * 256)
    r = int((b.top - y) / (b.top - b.bottom) * 256)
    source = np.asarray(Image.open(row["path"]).convert("RGB"), float)
    h, w = source.shape[:2]
    centre = source[h // 2 - 2 : h // 2 + 2, w // 2 - 2 : w // 2 + 2].reshape(-1, 3).mean(0)
    assert web[r, col, 3] == 255
    assert (
        np.abs(web[r - 1 : r + 2, col - 1 : col + 2, :3].reshape(-1, 3).mean(0) - centre).max() < 40
    )


def test_web_tile_far_away_is_transparent(client):
    response = client.get("/api/tiles/14/0/0.png")
    assert response.status_code == 200
    assert np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))[..., 3].max() == 0


def test_neighbours_are_the_librarys(client, store):
    ident = isolated_id(client)
    answer = client.get("/api/neighbors", params={"id": ident, "k": 4}).json()
    want = geovec.nearest_ground(store, "gist", id=ident, k=4)
    assert [f["id"] for f in answer["features"]] == [n.id for n in want]
    assert ident not in [f["id"] for f in answer["features"]]
    distances = [f["properties"]["distance"] for f in answer["features"]]
    assert distances == sorted(distances)


def test_heatmap_is_localize_with_footprints_and_colours(client, store):
    ident = isolated_id(client)
    answer = client.get("/api/heatmap", params={"id": ident}).json()
    want = geovec.localize(store, "gist", id=ident)
    tiles = answer["tiles"]["features"]
    assert answer["true_rank"] == want.true_rank and len(tiles) == want.candidates
    assert [f["id"] for f in tiles] == want.tile_ids
    np.testing.assert_allclose([f["properties"]["score"] for f in tiles], want.scores, rtol=1e-6)
    best = min(tiles, key=lambda f: f["properties"]["score"])
    assert best["properties"]["rank"] == 1 and best["id"] == answer["best"][0]["id"]
    ring = np.array(tiles[0]["geometry"]["coordinates"][0])
    assert ring.shape == (5, 2) and (ring[0] == ring[-1]).all()
    side = geovec.open(store.path).read("map", ["size_m"]).column(0)[0].as_py()
    width = geovec.geodesy.distance_m(*ring[0], *ring[1])
    assert abs(width - side) < 0.5
    assert len({f["properties"]["colour"] for f in tiles}) > 10


def test_tile_at_and_search_from_it_are_the_librarys(client, store):
    row = store.read("map", ["id", "lon", "lat", "gist"]).to_pylist()[3]
    tile = client.get("/api/tile", params={"lon": row["lon"] + 1e-4, "lat": row["lat"]}).json()
    assert tile["id"] == row["id"]
    answer = client.get("/api/search", params={"tile": row["id"], "k": 5}).json()
    want = geovec.search(store, "gist", vector=np.asarray(row["gist"], np.float32), k=5)
    assert [f["id"] for f in answer["features"]] == [h.ground_id for h in want]
    assert [f["properties"]["overhead_id"] for f in answer["features"]] == [h.id for h in want]
    assert "overhead_path" not in answer["features"][0]["properties"]


def test_tile_at_agrees_with_the_true_tile_at_the_edges(client, store):
    """A click and the evaluation's true tile are one query: points just inside and just
    outside the footprints' edges and corners (in each tile's own frame) get the same
    tile from /api/tile as from containing_tiles, and none where it finds none."""
    from geovec.analyses.regions import containing_tiles
    from geovec.geodesy import frame_lonlat

    tiles = store.read("map", ["id", "lon", "lat", "size_m"]).to_pylist()[:6]
    points = []
    for t in tiles:
        half = t["size_m"] / 2
        for east, north in [
            (half - 0.05, 0),
            (half + 0.05, 0),
            (0, -half + 0.05),
            (-half - 0.05, half - 0.05),
            (half - 0.05, half - 0.05),
        ]:
            lon, lat = frame_lonlat(t["lon"], t["lat"], east, north)
            points.append((f"p{len(points)}", float(lon), float(lat)))
    with store.cursor() as con:
        truth = containing_tiles(con, points, all_regions=True)
    assert len(truth) > len(points) / 2
    for pid, lon, lat in points:
        answer = client.get("/api/tile", params={"lon": lon, "lat": lat})
        if pid in truth:
            assert answer.json()["id"] == truth[pid]
        else:
            assert answer.status_code == 404


def test_search_answers_the_photos_that_ground_pair_names(tmp_path):
    """With VIGOR's ids (panorama and satellite ids differ) each point is the photo that
    names the aerial in ground.pair, at the photo's position; an aerial no photo names is
    counted, not shown (before, the points were the aerials' ids, which the page then
    asked for as ground photos)."""
    from geovec.explorer.answers import Explorer
    from tests.stores import add_rows

    store = geovec.open(tmp_path / "db")
    tile = [dict(id="t0", lon=10.0, lat=0.0, size_m=480.0)]
    add_rows(store, "map", tile, {"gist": np.array([[5, 0]], np.float32)})
    aerial = [dict(id=f"sat_{i}", lon=10.0 + i, lat=0.0) for i in range(2)]
    add_rows(store, "overhead", aerial, {"gist": np.array([[0, 0], [5, 0]], np.float32)})
    ground = [dict(id="pano_a", lon=11.001, lat=0.0, pair="sat_1", region="r")]
    ground.append(dict(id="sat_0", lon=10.0, lat=0.0, pair="sat_1"))  # shares an id only
    add_rows(store, "ground", ground, {"gist": np.zeros((2, 2), np.float32)})
    answer = Explorer(store).search("t0", "gist", k=2)
    assert [f["id"] for f in answer["features"]] == ["pano_a"] and answer["unpaired"] == 1
    point = answer["features"][0]
    assert point["geometry"]["coordinates"] == [11.001, 0.0]
    assert point["properties"]["overhead_id"] == "sat_1" and point["properties"]["region"] == "r"


def test_heatmap_of_a_photo_that_is_not_isolated_leaves_out_its_neighbours(client, store):
    """Its training images within the isolation radius (250 m, geodesic) are left out of
    its nearest neighbours, counted in the answer, as an evaluation's test images have
    none there."""
    from pyproj import Geod

    rows = store.read("ground", ["id", "lon", "lat", "isolated", "region", "pair"]).to_pylist()
    train = [r for r in rows if r["isolated"] is False and r["pair"]]
    lon = np.array([r["lon"] for r in train])
    lat = np.array([r["lat"] for r in train])

    def near(r):
        same = np.array([t["region"] == r["region"] and t["id"] != r["id"] for t in train])
        n = len(train)  # pyproj's WGS84 geodesic, brute force
        d = Geod(ellps="WGS84").inv(np.full(n, r["lon"]), np.full(n, r["lat"]), lon, lat)[2]
        return int((same & (d <= 250.0)).sum())

    photo = max(train, key=near)
    assert near(photo) > 0
    answer = client.get("/api/heatmap", params={"id": photo["id"]}).json()
    assert answer["left_out"] == near(photo) and answer["left_out_within_m"] == 250.0
    assert f"left out {near(photo)} training images within 250 m" in answer["note"]
    want = geovec.localize(store, "gist", id=photo["id"])
    assert answer["true_rank"] == want.true_rank and want.left_out == near(photo)


def test_landcover_overlay(client, info):
    region = info["regions"][0]["region"]
    meta = client.get("/api/landcover", params={"region": region}).json()
    w, s, e, n = meta["bounds"]
    box = info["regions"][0]
    assert w <= box["west"] and e >= box["east"] and s <= box["south"] and n >= box["north"]
    png = client.get(meta["url"])
    image = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGBA"))
    assert png.status_code == 200 and image.shape[1] == 1024
    assert image[image.shape[0] // 2, 512, 3] == 255 and image[..., :3].std() > 10


def test_sql_box_rows_with_lonlat(client, store):
    answer = client.post(
        "/api/sql", json={"query": "select id, lon, lat from ground where isolated order by id"}
    ).json()
    want = store.sql("select id from ground where isolated order by id").fetchall()
    assert [r[0] for r in answer["rows"]] == [r[0] for r in want]
    assert answer["lonlat"] and not answer["truncated"]
    small = client.post(
        "/api/sql", json={"query": "select id from ground order by id limit 7", "limit": 5}
    ).json()
    assert len(small["rows"]) == 5 and small["truncated"]
    vectors = client.post("/api/sql", json={"query": "select gist from ground limit 1"}).json()
    assert vectors["rows"][0][0].endswith("values]")


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/points", {"bbox": "1,2,3"}, 400, "bbox"),
        ("/api/points", {"bbox": "-200,0,10,10"}, 400, "bbox"),
        ("/api/points", {"limit": "100000"}, 400, "limit"),
        ("/api/points", {"offset": "-1"}, 400, "offset"),
        ("/api/neighbors", {"id": "nope"}, 404, "no ground image"),
        ("/api/neighbors", {}, 400, "missing parameter 'id'"),
        ("/api/neighbors", {"id": "x", "feature": "places_fc7"}, 400, "unknown feature"),
        ("/api/neighbors", {"id": "x", "k": "ten"}, 400, "integer"),
        ("/api/heatmap", {"id": "x", "neighbors": "0"}, 400, "neighbors"),
        ("/api/search", {"tile": "nope"}, 404, "no map tile"),
        ("/api/tile", {"lon": "0", "lat": "0"}, 404, "no map tile covers"),
        ("/api/tile", {"lon": "nan", "lat": "0"}, 400, "lon"),
        ("/api/image/secrets", {"id": "x"}, 400, "view"),
        ("/api/tiles/3/9/0.png", {}, 400, "no web tile"),
        ("/api/landcover", {"region": "atlantis"}, 400, "atlantis"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(client, path, params, status, words):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_heatmap_ranks_are_one_numbering_with_the_true_rank(tmp_path):
    """Each tile's rank is 1 + the tiles strictly closer, the true rank's rule (true_rank
    counts them from 0): tiles t0 and t1 score alike, and the true tile t1 is rank 1 as
    the panel says, not 2 (before issue 19 ties were broken by position)."""
    from geovec.explorer.answers import Explorer
    from tests.stores import store_from_arrays

    vectors = [[1, 0], [1, 0], [2, 0], [3, 0]]
    tiles = [
        ({"id": f"t{i}", "region": "r", "lon": 0.01 * i, "lat": 0.0, "size_m": 480.0}, v)
        for i, v in enumerate(vectors)
    ]
    pairs = [f"a{i}" for i in range(3)]
    ground = [
        ({"id": a, "region": "r", "lon": 0.5, "lat": 0.5, "isolated": False, "pair": a}, [i, 0])
        for i, a in enumerate(pairs)
    ]
    ground.append(
        ({"id": "q1", "region": "r", "lon": 0.0101, "lat": 0.0005, "isolated": True}, [9, 9])
    )
    overhead = [({"id": a, "region": "r", "lon": 0.5, "lat": 0.5}, [1, 0]) for a in pairs]
    store = store_from_arrays(tmp_path / "db", ground, overhead, tiles)
    answer = Explorer(store).heatmap("q1", "gist")
    ranks = {f["id"]: f["properties"]["rank"] for f in answer["tiles"]["features"]}
    assert answer["true_tile"] == "t1" and answer["true_rank"] == 0
    assert ranks == {"t0": 1, "t1": 1, "t2": 3, "t3": 4}
