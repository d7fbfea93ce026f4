"""Every dead end says the way out: what is missing, and the command that supplies it
(geovec.analyses.dead_ends), through the library and the command line."""

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import geovec
from geovec.analyses.search import nearest_ground
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.store.schema import feature_field
from tests.stores import add_rows, known_store, store_from_arrays

runner = CliRunner()


def scattered_store(path, lons, paired=None, tiles=True):
    """Photos at ``lons`` along the equator (0.03 degrees: 3.3 km), each with a map tile
    over it and, for those of ``paired`` (default all), its overhead image; region r."""
    rng = np.random.default_rng(0)
    ground, overhead, maps = [], [], []
    for i, lon in enumerate(lons):
        vector = rng.normal(size=2).astype(np.float32)
        ground.append(
            ({"id": f"p{i}", "region": "r", "lon": lon, "lat": 0.0, "pair": f"a{i}"}, vector)
        )
        if paired is None or i in paired:
            overhead.append(({"id": f"a{i}", "region": "r", "lon": lon, "lat": 0.0}, vector))
        if tiles:
            tile = {"id": f"t{i}", "region": "r", "lon": lon, "lat": 0.0, "size_m": 480.0}
            maps.append((tile, vector))
    return store_from_arrays(path, ground, overhead, maps)


def apart(n, step_deg=0.03):
    return [i * step_deg for i in range(n)]


def test_all_photos_isolated_says_add_photos_or_raise_the_radius(tmp_path):
    store = scattered_store(tmp_path / "db", apart(12))
    out = runner.invoke(app, ["isolate", str(store.path)])
    assert out.exit_code == 0, out.output
    assert "warning: all 12 photos are isolated at 250 m: none is left to train on" in out.output
    with pytest.raises(GeovecError) as refused:
        geovec.evaluate(store, "gist")
    message = str(refused.value)
    assert "all 12 photos are isolated at 250 m" in message
    assert "add photos within 250 m of each other, or raise --radius-m" in message
    out = runner.invoke(app, ["evaluate", str(store.path), "--feature", "gist"])
    assert out.exit_code == 1 and "all 12 photos are isolated at 250 m" in out.output
    # as told: photos 3.3 km apart, isolated at 5 km, leave some to train on
    assert geovec.isolate(store, radius_m=5000).isolated < 12


def test_no_isolated_photo_says_so(tmp_path):
    store = scattered_store(tmp_path / "db", apart(6, 0.0005))  # 55 m apart
    geovec.isolate(store)
    with pytest.raises(GeovecError, match="no photo is isolated at 250 m"):
        geovec.evaluate(store, "gist")


def test_queries_outside_every_tile_say_cut_tiles(tmp_path):
    store = known_store(tmp_path)
    tiles = store.table("map")
    tiles.delete("id != 't0'")  # the queries lie in t1 and t2
    with pytest.raises(GeovecError) as refused:
        geovec.evaluate(store, "gist")
    message = str(refused.value)
    assert "lies in a map tile of its region with gist" in message
    assert "geovec grid" in message and f"geovec extract {store.path}" in message


def test_training_photos_without_overhead_images_say_geovec_aerial(tmp_path):
    """p0 and p1 are 11 m apart (training photos), the others isolated; only the isolated
    ones have overhead images."""
    store = scattered_store(tmp_path / "db", [0.0, 0.0001, 0.03, 0.06, 0.09], paired={2, 3, 4})
    geovec.isolate(store)
    with pytest.raises(GeovecError) as refused:
        geovec.evaluate(store, "gist")
    assert "none of the 2 training photos has an overhead image with gist" in str(refused.value)
    assert "--view overhead" in str(refused.value)


def test_a_pairs_dataset_on_the_map_protocol_points_at_protocol_pairs(tmp_path):
    store = scattered_store(tmp_path / "cvusa", apart(4), tiles=False)
    out = runner.invoke(app, ["evaluate", str(store.path), "--feature", "gist"])
    assert out.exit_code == 1
    assert "has no map images" in out.output
    assert f"geovec evaluate {store.path} --protocol pairs --feature gist" in out.output


def test_a_failed_first_ingest_removes_the_store_it_made(tmp_path, tiny_manifest):
    db = tmp_path / "new"
    out = runner.invoke(app, ["ingest", str(db), str(tiny_manifest), "--features", "places_fc7"])
    assert out.exit_code == 1 and "weights" in out.output
    assert not db.exists()
    kept = tmp_path / "mine"
    kept.mkdir()
    out = runner.invoke(app, ["ingest", str(kept), str(tiny_manifest), "--features", "places_fc7"])
    assert out.exit_code == 1 and kept.is_dir()  # it was there before: left as it is
    deep = tmp_path / "a" / "b" / "db"  # the folders made for it go too
    out = runner.invoke(app, ["ingest", str(deep), str(tiny_manifest), "--features", "places_fc7"])
    assert out.exit_code == 1 and not (tmp_path / "a").exists()


def test_localize_of_a_photo_without_a_position_says_so_where_the_rank_would_be(tmp_path):
    store = known_store(tmp_path)
    row = {"id": "nopos", "region": "r", "lon": None, "lat": None}
    add_rows(store, "ground", [row], {"gist": np.array([[12.0, 0.0]], np.float32)})
    found = geovec.localize(store, "gist", id="nopos")
    assert found.true_rank is None
    assert found.rank_line().startswith("true rank unknown: the photo has no position")
    out = runner.invoke(app, ["localize", str(store.path), "--id", "nopos", "--feature", "gist"])
    assert out.exit_code == 0, out.output
    assert "true rank unknown: the photo has no position" in out.output
    found = geovec.localize(store, "gist", id="q2")
    assert found.rank_line().startswith("true tile ")


@pytest.fixture
def tiny_manifest(tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (32, 32), (90, 120, 60)).save(folder / "a.jpg")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("id,path,view,lon,lat,region\na,images/a.jpg,ground,0.0,0.0,r\n")
    return manifest


def test_a_photo_without_the_feature_names_the_extract_command(tmp_path):
    store = known_store(tmp_path)
    store.ensure_features("ground", [feature_field("other", 2)])
    for call in (
        lambda: geovec.localize(store, "other", id="q1"),
        lambda: nearest_ground(store, "other", id="q1"),
    ):
        with pytest.raises(GeovecError) as refused:
            call()
        expected = f"lacks other: geovec extract {store.path} --features other --view ground"
        assert expected in str(refused.value)


def test_an_unknown_region_lists_the_regions_there(tmp_path):
    store = known_store(tmp_path)
    with pytest.raises(GeovecError, match=r"no region 'nowhere' in .* \(has: r\)"):
        geovec.evaluate(store, "gist", region="nowhere")


def test_a_pairs_split_that_is_not_there_lists_the_splits(tmp_path):
    store = scattered_store(tmp_path / "db", apart(4), tiles=False)
    store.update_columns(
        "ground",
        pa.table({"id": [f"p{i}" for i in range(4)], "split": ["train", "train", "val", "val"]}),
    )
    with pytest.raises(GeovecError, match=r"splits here: 'train', 'val'; --split NAME"):
        geovec.evaluate(store, "gist", protocol="pairs", split="test")


def test_too_few_tiles_for_land_cover_say_cut_more(tmp_path):
    store = known_store(tmp_path)
    store.table("map").delete("id = 't3'")
    with pytest.raises(GeovecError, match="PCA needs at least 4: cut more with geovec grid"):
        geovec.landcover(store, "gist")


def test_localize_in_a_region_without_training_pairs_says_why(tmp_path):
    store = scattered_store(tmp_path / "db", apart(5))
    geovec.isolate(store)
    with pytest.raises(GeovecError) as refused:
        geovec.localize(store, "gist", id="p0")
    assert "has no training pair to average" in str(refused.value)
    assert "all 5 photos are isolated at 250 m" in str(refused.value)


def test_a_view_without_rows_says_how_to_add_it(tmp_path):
    """landcover and search on a store of photos alone: cut the tiles or aerials (extract
    cannot compute a feature of rows that are not there)."""
    store = scattered_store(tmp_path / "db", apart(4), paired=(), tiles=False)
    out = runner.invoke(app, ["landcover", str(store.path), "--feature", "gist",
                              "--out", str(tmp_path / "x.png")])  # fmt: skip
    assert out.exit_code == 1 and "has no map images yet" in out.output, out.output
    assert "geovec grid --bbox" in out.output and "geovec extract" not in out.output
    out = runner.invoke(app, ["search", str(store.path), "p0", "--feature", "gist"])
    assert out.exit_code == 1 and "has no overhead images yet" in out.output, out.output
