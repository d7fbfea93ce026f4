import json

import pytest
from typer.testing import CliRunner

import geovec
from geovec.analyses.search import search
from geovec.cli import app
from tests.images import write_images, write_manifest


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    paths = write_images(folder / "aerial", 8)
    ground = write_images(folder / "ground", 8, start=100)
    rows = [
        {
            "id": f"p{i}",
            "path": f"aerial/{p.name}",
            "view": "overhead",
            "lon": 10 + i * 0.01,
            "lat": 20.0,
            "region": "r",
        }
        for i, p in enumerate(paths)
    ]
    rows += [
        {
            "id": f"p{i}",
            "path": f"ground/{p.name}",
            "view": "ground",
            "lon": 10 + i * 0.01,
            "lat": 20.0,
            "region": "r",
        }
        for i, p in enumerate(ground)
    ]
    store = geovec.open(folder / "db")
    geovec.ingest(store, write_manifest(folder / "m.csv", rows), features="gist", batch_size=8)
    return folder


def test_query_finds_itself_and_its_ground_photo(db):
    hits = search(geovec.open(db / "db"), "gist", image=db / "aerial" / "img0003.png", k=3)
    assert hits[0].id == "p3" and hits[0].distance < 1e-3
    assert hits[0].ground_path.endswith("img0103.png")
    assert hits[1].distance >= hits[0].distance


def test_spatial_restriction(db):
    store = geovec.open(db / "db")
    query = db / "aerial" / "img0003.png"
    hits = search(store, "gist", image=query, k=8, bbox=(10.045, 19.9, 10.2, 20.1))
    assert {h.id for h in hits} == {"p5", "p6", "p7"}
    near = search(store, "gist", image=query, k=8, near=(10.03, 20.0, 1200.0))
    assert {h.id for h in near} == {"p2", "p3", "p4"}


def test_cli_search(db, tmp_path):
    out = tmp_path / "m.png"
    result = CliRunner().invoke(
        app,
        [
            "search",
            str(db / "db"),
            str(db / "aerial" / "img0001.png"),
            "--feature",
            "gist",
            "--k",
            "2",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"][0]["id"] == "p1" and out.exists()
    bad = CliRunner().invoke(
        app,
        [
            "search",
            str(db / "db"),
            str(db / "aerial" / "img0001.png"),
            "--feature",
            "gist",
            "--near",
            "1,2",
        ],
    )
    assert bad.exit_code == 1 and "LON,LAT,RADIUS_M" in bad.output


def test_a_hit_names_the_photo_whose_pair_it_is_never_one_of_equal_id(tmp_path):
    """VIGOR's ids: panoramas and satellite images never share ids, ground.pair links them
    (before, search looked for a ground image of the hit's own id: ground_path always
    empty). A ground image that merely shares an aerial's id is not its photo."""
    import numpy as np

    from tests.stores import add_rows

    store = geovec.open(tmp_path / "db")
    aerial = [dict(id=f"sat_{i}", lon=10.0 + i, lat=0.0) for i in range(2)]
    add_rows(store, "overhead", aerial, {"f": np.array([[0, 0], [5, 0]], np.float32)})
    ground = [
        dict(id="pano_b", lon=11.0, lat=0.0, pair="sat_1", path="/data/pano_b.jpg"),
        dict(id="pano_a", lon=11.0, lat=0.0, pair="sat_1", path="/data/pano_a.jpg"),
        dict(id="sat_0", lon=10.0, lat=0.0, pair="sat_1", path="/data/sat_0.jpg"),
    ]
    add_rows(store, "ground", ground, {"f": np.zeros((3, 2), np.float32)})
    hits = search(store, "f", vector=np.array([5, 0], np.float32), k=2)
    assert [(h.id, h.ground_id, h.ground_path) for h in hits] == [
        ("sat_1", "pano_a", "/data/pano_a.jpg"),  # the first by id of the three that name it
        ("sat_0", None, None),  # no ground image names it
    ]
