import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import geovec
from geovec.analyses.localize import localize
from geovec.cli import app
from geovec.errors import GeovecError
from tests.images import write_gps_jpeg, write_images, write_manifest
from tests.stores import known_store

runner = CliRunner()


def test_localize_true_tile_is_the_containing_footprint(tmp_path):
    store = known_store(tmp_path)
    inside = localize(store, "gist", id="q2", neighbors=1)
    assert inside.true_tile == "t2" and inside.true_rank == 1  # predicts [3, 0]: t3 is closer
    assert inside.best.column("id").to_pylist()[:2] == ["t3", "t2"]
    outside = localize(store, "gist", id="far", neighbors=1)  # beyond every tile
    assert outside.true_tile is None and outside.true_rank is None
    assert outside.best.column("id")[0].as_py() == "t3"  # still ranked


def test_cli_localize_stored_image(tmp_path):
    known_store(tmp_path)
    args = ["localize", str(tmp_path / "db"), "--id", "q1", "--feature", "gist"]
    result = runner.invoke(app, [*args, "--neighbors", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["best"][0]["id"] == "t1" and data["true_rank"] == 0
    heat = tmp_path / "heat.png"
    text = runner.invoke(app, [*args, "--neighbors", "1", "--top", "2", "--heatmap", str(heat)])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("1. t1") and "2. " in text.output and "3. " not in text.output
    assert "true tile t1: rank 0 of 4" in text.output and heat.stat().st_size > 1000


def test_one_query_only(tmp_path):
    store = known_store(tmp_path)
    with pytest.raises(GeovecError, match="one of them"):
        localize(store, "gist")
    result = runner.invoke(app, ["localize", str(tmp_path / "db"), "--feature", "gist"])
    assert result.exit_code == 1 and "one of them" in result.output


@pytest.fixture(scope="module")
def image_store(tmp_path_factory):
    """Real GIST features of noise images: 4 map tiles 480 m apart along the equator, 8
    training pairs near tile 1 and one isolated ground image inside tile 2."""
    folder = tmp_path_factory.mktemp("localize")
    tiles = write_images(folder / "tiles", 4)
    overhead = write_images(folder / "overhead", 9, start=10)
    ground = write_images(folder / "ground", 9, start=30)
    step = 480 / 111_320  # degrees of longitude at the equator for 480 m
    rows = [
        dict(id=f"t{i}", path=f"tiles/{p.name}", view="map", lon=i * step, lat=0.0, region="r")
        for i, p in enumerate(tiles)
    ]
    for i, (o, g) in enumerate(zip(overhead, ground)):
        lon, lat = (2 * step, 0.0003) if i == 8 else (step + i * 2e-4, 0.0)
        for view, path in (("overhead", f"overhead/{o.name}"), ("ground", f"ground/{g.name}")):
            rows.append(dict(id=f"g{i}", path=path, view=view, lon=lon, lat=lat, region="r"))
    manifest = write_manifest(folder / "manifest.csv", rows)
    text = manifest.read_text().splitlines()
    manifest.write_text("\n".join([text[0] + ",size_m"] + [line + ",480" for line in text[1:]]))
    store = geovec.open(folder / "db")
    geovec.ingest(store, manifest, features="gist", batch_size=8)
    geovec.isolate(store, radius_m=250)
    return folder, store


def test_image_file_with_gps_equals_the_stored_image(image_store, tmp_path):
    """localize(image=) extracts the feature from the file and takes its true tile from its
    EXIF GPS position: the same answer as the stored ground image with those pixels."""
    folder, store = image_store
    assert store.read("ground", ["isolated"], "id = 'g8'").column("isolated")[0].as_py()
    stored = localize(store, "gist", id="g8", neighbors=3)
    photo = write_gps_jpeg(
        tmp_path / "photo.png",
        lon=2 * 480 / 111_320,
        lat=0.0003,
        image=Image.open(folder / "ground" / "img0038.png"),
    )
    from_file = localize(store, "gist", image=photo, neighbors=3)
    assert from_file.true_tile == stored.true_tile == "t2"
    assert from_file.true_rank == stored.true_rank
    np.testing.assert_allclose(from_file.scores, stored.scores, rtol=1e-5)
    assert from_file.query == str(photo) and from_file.region == "r"
    result = runner.invoke(
        app, ["localize", str(folder / "db"), str(photo), "--feature", "gist", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["true_tile"] == "t2" and data["true_rank"] == stored.true_rank
    assert [row["id"] for row in data["best"]] == stored.best.column("id").to_pylist()


def test_image_file_without_gps_has_no_true_rank(image_store, tmp_path):
    folder, store = image_store
    plain = tmp_path / "plain.png"
    Image.open(folder / "ground" / "img0038.png").save(plain)
    result = localize(store, "gist", image=plain, neighbors=3)
    assert result.true_tile is None and result.true_rank is None and result.best.num_rows == 4
    missing = runner.invoke(app, ["localize", str(folder / "db"), str(tmp_path / "nope.jpg")])
    assert missing.exit_code == 1 and "no such image" in missing.output


def _neighbour_store(tmp_path, query_isolated: bool):
    """Four tiles along the equator (features [i, 0]); photo q inside t1 (feature [10, 0]);
    n, 50 m from q, looks exactly like it and its aerial like t1; f, 5 km away, looks
    almost like it and its aerial like t3. Every image is paired with the aerial of its id."""
    from tests.stores import KNOWN_TILES, store_from_arrays

    step = 480 / 111_320
    tiles = [
        ({"id": f"t{i}", "region": "r", "lon": i * step, "lat": 0.0, "size_m": 480.0}, v)
        for i, v in enumerate(KNOWN_TILES)
    ]
    q_lon, metre = step, 1 / 111_320
    where = {"q": q_lon, "n": q_lon + 50 * metre, "f": q_lon + 5000 * metre}
    looks = {"q": [10, 0], "n": [10, 0], "f": [12, 0]}
    aerial = {"q": [1, 0], "n": [1, 0], "f": [3, 0]}
    ground = [
        (
            {
                "id": i,
                "region": "r",
                "lon": where[i],
                "lat": 0.0,
                "isolated": query_isolated if i == "q" else False,
                "pair": i,
            },
            looks[i],
        )
        for i in where
    ]
    overhead = [({"id": i, "region": "r", "lon": where[i], "lat": 0.0}, aerial[i]) for i in where]
    return store_from_arrays(tmp_path / "db", ground, overhead, tiles)


def test_a_photo_that_is_not_isolated_is_scored_without_its_neighbours(tmp_path):
    """Its training images within the isolation radius are left out of its K nearest, as
    the evaluation's test images have none there; the result says how many and why.
    (Before, only the photo itself was dropped: n, 50 m away, gave the true tile rank 0.)"""
    store = _neighbour_store(tmp_path, query_isolated=False)
    result = localize(store, "gist", id="q", neighbors=1)
    assert result.true_tile == "t1"
    assert result.best.column("id")[0].as_py() == "t3"  # f's aerial, not n's
    assert result.true_rank == 2
    assert (result.left_out, result.left_out_within_m) == (1, 250.0)
    assert "left out 1 training images within 250 m" in result.note()
    with pytest.raises(GeovecError, match="every training image of region r lies within"):
        localize(store, "gist", id="q", neighbors=1, radius_m=10_000)  # n and f
    text = runner.invoke(
        app,
        ["localize", str(tmp_path / "db"), "--id", "q", "--feature", "gist", "--neighbors", "1"],
    )
    assert text.exit_code == 0, text.output
    assert "left out 1 training images within 250 m" in text.output
    data = json.loads(
        runner.invoke(
            app,
            ["localize", str(tmp_path / "db"), "--id", "q", "--feature", "gist", "--json"],
        ).output
    )
    assert data["left_out"] == 1 and data["left_out_within_m"] == 250.0 and data["note"]


def test_an_isolated_photo_keeps_every_training_image_as_evaluate_does(tmp_path):
    store = _neighbour_store(tmp_path, query_isolated=True)
    result = localize(store, "gist", id="q", neighbors=1)
    assert result.true_rank == 0 and result.best.column("id")[0].as_py() == "t1"
    assert (result.left_out, result.left_out_within_m, result.note()) == (0, None, None)
    ranks = geovec.evaluate(store, "gist", neighbors=1).ranks.to_pylist()
    assert [(r["query_id"], r["rank"]) for r in ranks] == [("q", result.true_rank)]


def test_a_stored_photo_without_a_position_is_ranked_without_a_true_tile(tmp_path):
    from tests.stores import add_rows

    store = known_store(tmp_path)
    row = {"id": "nopos", "region": "r", "lon": None, "lat": None, "isolated": None}
    add_rows(store, "ground", [row], {"gist": np.array([[12, 0]], np.float32)})
    found = localize(store, "gist", id="nopos")
    assert found.true_rank is None and len(found.scores) == 4
    args = ["localize", str(tmp_path / "db"), "--id", "nopos", "--feature", "gist", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["true_rank"] is None
