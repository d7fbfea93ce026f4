"""The ground photos layer (/api/points) from its page set: the same answer as the SQL
question it replaces (ids, order, paging, box edges, the globe's edges), one build for
many first requests, new photos after a write, ETag and gzip over HTTP."""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np
import pytest

import geovec
from geovec.explorer.point_pages import PointPages
from geovec.explorer.points import GroundPoints
from geovec.explorer.requests import accepts_gzip
from tests.stores import add_rows

ODD_IDS = ['q"uote', "back\\slash", "caf\u00e9", "tab\there", "\u6771\u4eac"]


def photo_rows(n: int, seed: int = 0, start: int = 0) -> list[dict]:
    """``n`` ground rows: two clusters, a spread, and the globe's corners and edges."""
    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.normal(-79.9, 0.01, n // 2), rng.normal(139.7, 0.2, n // 4)])
    lat = np.concatenate([rng.normal(32.8, 0.01, n // 2), rng.normal(35.7, 0.2, n // 4)])
    rest = n - len(lon)
    lon = np.round(np.concatenate([lon, rng.uniform(-180, 180, rest)]), 3)  # ties on edges
    lat = np.round(np.concatenate([lat, rng.uniform(-90, 90, rest)]), 3)
    lon[:4], lat[:4] = [-180, 180, -180, 180], [-90, 90, 90, -90]
    rows = []
    for i in range(n):
        ident = ODD_IDS[i] + str(start) if i < len(ODD_IDS) else f"g{start + i:05d}"
        rows.append(
            {"id": ident, "lon": float(lon[i]), "lat": float(lat[i]),
             "region": ["a", "b", None][i % 3], "split": ["train", "test"][i % 2],
             "isolated": bool(i % 5 == 0), "source": "t"}
        )  # fmt: skip
    return rows


def new_store(path, rows):
    store = geovec.open(path)
    add_rows(store, "ground", rows, {})
    return store


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    rows = photo_rows(1200)
    return new_store(tmp_path_factory.mktemp("points") / "db", rows), rows


def the_sql_page(store, box, offset, limit):
    """What /api/points answered before the page set: sql/ground_points.sql, each row's
    Feature written by json.dumps."""
    w, s, e, n = box or (-180.0, -90.0, 180.0, 90.0)
    rows = store.query("ground_points", west=w, south=s, east=e, north=n, offset=0, limit=2**62)
    features = [
        {"type": "Feature", "id": r["id"],
         "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
         "properties": {k: r[k] for k in ("id", "region", "split", "isolated", "source")}}
        for r in rows.to_pylist()
    ]  # fmt: skip
    page = features[offset : offset + limit]
    after = offset + len(page)
    return features, page, after if after < len(features) else None


BOXES = [
    None,
    (-79.91, 32.79, -79.89, 32.81),  # inside the first cluster
    (-180.0, -90.0, -179.0, 90.0),  # the western edge of the globe, both corners
    (179.0, -90.0, 180.0, 90.0),
    (-180.0, -90.0, 180.0, 90.0),
    (139.0, 35.0, 140.5, 36.5),
    (0.0, 0.0, 0.001, 0.001),  # nothing there
    (-10.0, 89.0, 10.0, 90.0),
]


@pytest.mark.parametrize("box", BOXES)
def test_each_page_is_the_sql_answer(photos, box):
    store, _ = photos
    points = GroundPoints(store)
    features, _, _ = the_sql_page(store, box, 0, 2**62)
    last = max(0, len(features) - 1)
    for offset, limit in [(0, 50_000), (0, 37), (37, 37), (last, 5), (10**9, 3)]:
        got = json.loads(points.geojson(box, offset=offset, limit=limit))
        _, page, following = the_sql_page(store, box, offset, limit)
        assert got["features"] == page
        assert (got["total"], got["next_offset"]) == (len(features), following)


def test_the_bytes_are_json_dumps_of_each_row(photos):
    """Each Feature is the text json.dumps wrote before (ids with quotes, backslashes,
    tabs and non-ASCII letters escaped the same way), padded with JSON whitespace only."""
    store, _ = photos
    got = GroundPoints(store).geojson(limit=50_000)
    _, page, _ = the_sql_page(store, None, 0, 50_000)
    want = ",".join(json.dumps(f, separators=(",", ":")) for f in page)
    unpadded = re.sub(rb" +([,\]])", rb"\1", got).decode("ascii")
    assert unpadded.split('"features":[', 1)[1].startswith(want + "]")


def test_a_feature_too_long_for_a_row_is_kept_aside(tmp_path):
    rows = photo_rows(300)
    rows[7]["id"] = "x" * 3000
    points = GroundPoints(new_store(tmp_path / "db", rows))
    everything = json.loads(points.geojson(limit=50_000))["features"]
    assert len(everything) == 300 and "x" * 3000 in {f["id"] for f in everything}
    pages = points.pages()
    assert pages.is_long.sum() == 1 and len(pages.rows[0]) < 1000
    box = (rows[7]["lon"] - 1e-9, rows[7]["lat"] - 1e-9, rows[7]["lon"], rows[7]["lat"])
    assert [f["id"] for f in json.loads(points.geojson(box))["features"]] == ["x" * 3000]


def test_a_few_percent_of_long_ids_do_not_pad_every_row(tmp_path):
    """Rows are padded to at most twice the median Feature's length: 2 % of ids of 3,000
    characters are kept aside, not the width of every row (which made each page ~40x its
    bytes in spaces)."""
    rows = photo_rows(300)
    for i in range(10, 300, 50):
        rows[i]["id"] = f"{i}" + "x" * 3000
    store = new_store(tmp_path / "db", rows)
    points = GroundPoints(store)
    pages = points.pages()
    want = the_sql_page(store, None, 0, 300)[1]
    median = np.median([len(json.dumps(f, separators=(",", ":"))) for f in want])
    assert pages.rows.shape[1] <= 2 * median + 1 and pages.is_long.sum() == 6
    body = points.geojson(limit=50_000)
    assert len(body) < 2 * len(re.sub(rb" +", b"", body))
    assert json.loads(body)["features"] == want


def test_a_random_box_keeps_exactly_the_photos_inside(photos):
    store, rows = photos
    pages = GroundPoints(store).pages()
    lon = np.array([r["lon"] for r in rows])
    lat = np.array([r["lat"] for r in rows])
    order = np.argsort([r["id"] for r in rows], kind="stable")  # byte order of ASCII+escapes
    ids = [rows[i]["id"] for i in order]
    rng = np.random.default_rng(3)
    for _ in range(200):
        w, e = np.sort(rng.choice(np.concatenate([lon, rng.uniform(-180, 180, 50)]), 2))
        s, n = np.sort(rng.choice(np.concatenate([lat, rng.uniform(-90, 90, 50)]), 2))
        want = {
            rows[i]["id"] for i in np.flatnonzero((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))
        }
        got = pages.select((w, s, e, n))
        assert {ids[i] for i in got} == want and list(got) == sorted(got)


def test_many_first_requests_wait_for_one_build(photos):
    store, _ = photos
    points = GroundPoints(store)
    answers, start = [], threading.Barrier(8)

    def ask():
        start.wait()
        answers.append(points.geojson((-80.0, 32.0, -79.0, 33.0), limit=500))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert points.builds == 1 and len(answers) == 8 and len(set(answers)) == 1


def test_new_photos_appear_after_a_write(tmp_path):
    store = new_store(tmp_path / "db", photo_rows(300))
    points = GroundPoints(store, check_every_s=0)
    before = json.loads(points.geojson(limit=1))["total"]
    add_rows(store, "ground", photo_rows(40, seed=1, start=50_000), {})
    after = json.loads(points.geojson(limit=50_000))
    assert (before, after["total"], points.builds) == (300, 340, 2)
    assert "g50010" in {f["id"] for f in after["features"]}


def test_an_empty_store_has_no_points(tmp_path):
    page = json.loads(GroundPoints(geovec.open(tmp_path / "db")).geojson((0.0, 0.0, 1.0, 1.0)))
    assert page == {"type": "FeatureCollection", "features": [], "total": 0, "next_offset": None}
    assert len(PointPages.build(None, -1).select(None)) == 0


def test_http_etag_and_gzip(tmp_path):
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app

    store = new_store(tmp_path / "db", photo_rows(300))
    with TestClient(create_app(store)) as client:
        plain = client.get("/api/points?limit=200", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and "content-encoding" not in plain.headers
        etag = plain.headers["etag"]
        assert plain.headers["cache-control"] == "no-cache"
        packed = client.get("/api/points?limit=200", headers={"Accept-Encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip"  # httpx unpacks it
        assert packed.content == plain.content and packed.headers["etag"] == etag
        held = client.get("/api/points?limit=200", headers={"If-None-Match": etag})
        assert held.status_code == 304 and held.content == b""
        other = client.get("/api/points?limit=199", headers={"If-None-Match": etag})
        assert other.status_code == 200 and other.headers["etag"] != etag
        client.app.state.explorer.ground_points.check_every_s = 0
        add_rows(store, "ground", photo_rows(5, seed=2, start=60_000), {})
        grown = client.get("/api/points?limit=200", headers={"If-None-Match": etag})
        assert grown.status_code == 200 and grown.json()["total"] == 305


@pytest.mark.parametrize(
    ("header", "ok"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("gzip;q=0", False), ("identity", False),
     ("*", True), ("gzip;q=zz", False), (None, False), ("deflate, *;q=0", False),
     ("gzip;q=0, *", False), ("*, gzip;q=0", False), ("x-gzip;q=0, gzip", True)],
)  # fmt: skip
def test_accept_encoding(header, ok):
    assert accepts_gzip(header) is ok


def test_the_server_builds_the_page_set_before_the_first_request(tmp_path):
    from geovec.explorer.app import create_app

    store = new_store(tmp_path / "db", photo_rows(300))
    points = create_app(store, prebuild=True).state.explorer.ground_points
    deadline = time.monotonic() + 60
    while points.builds == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert points.builds == 1 and len(points.pages()) == 300 and points.builds == 1


def test_a_store_written_again_at_its_path_is_served_anew(tmp_path):
    """Lance starts a table's versions again when it is deleted and written anew at the
    same path: the page set is keyed by the table's folder too, not by its version."""
    import shutil

    store = new_store(tmp_path / "db", photo_rows(300))
    points = GroundPoints(store, check_every_s=0)
    assert json.loads(points.geojson(limit=1))["total"] == 300
    before = store.version_token("ground")
    shutil.rmtree(tmp_path / "db")
    new_store(tmp_path / "db", photo_rows(50, seed=9, start=5000))
    assert store.version_token("ground")[0] == before[0]  # the same version number
    assert store.version_token("ground") != before
    assert json.loads(points.geojson(limit=1))["total"] == 50
