import numpy as np
import pytest

from geovec.errors import FeatureMissingError, GeovecError
from geovec.heads.pairs import PairReader, training_pairs
from tests.stores import add_rows, latent_pair_store


def _near(store):
    """Add pairs: one 100 m from query q0 (near a test image), one 400 m away (kept), one
    of another split, one of the test split, one without its overhead image."""
    metre = 1 / 111_320
    rows = [
        {"id": "near", "lon": 100 * metre, "lat": 0.0, "split": "train", "pair": "o_near"},
        {"id": "far", "lon": -400 * metre, "lat": 0.0, "split": "train", "pair": "o_far"},
        {"id": "val", "lon": 0.5, "lat": 0.5, "split": "val", "pair": "o_val"},
        {"id": "tst", "lon": 0.6, "lat": 0.6, "split": "test", "pair": "o_tst"},
        {"id": "lone", "lon": 0.7, "lat": 0.7, "split": "train", "pair": "o_missing"},
    ]
    for r in rows:
        r.update(region="r", isolated=False)
    add_rows(store, "ground", rows, {"latent_ground": np.ones((5, 24), np.float32)})
    aerial = [{"id": r["pair"], "region": "r", "lon": r["lon"], "lat": r["lat"]} for r in rows[:4]]
    add_rows(store, "overhead", aerial, {"latent_overhead": np.ones((4, 40), np.float32)})


def test_training_pairs_leave_out_test_images_and_their_surroundings(tmp_path):
    store, _, _ = latent_pair_store(tmp_path / "db", pairs=20)
    _near(store)
    pairs = training_pairs(store, "latent_ground", "latent_overhead", "train", 250.0)
    assert pairs.excluded == {
        "isolated": 100,
        "near a test image": 1,
        "no overhead image": 1,
        "other split": 1,
        "test split": 1,
    }
    assert "far" in pairs.ground_ids and "near" not in pairs.ground_ids
    assert len(pairs) == 21 and pairs.overhead_ids[pairs.ground_ids.index("far")] == "o_far"
    # a radius of 500 m reaches "far" too; every split but test: "val" comes in
    wider = training_pairs(store, "latent_ground", "latent_overhead", None, 500.0)
    assert "far" not in wider.ground_ids and "val" in wider.ground_ids


def test_pairs_without_the_feature_are_counted(tmp_path):
    store, _, _ = latent_pair_store(tmp_path / "db", pairs=6)
    row = {"id": "bare", "region": "r", "lon": 0.9, "lat": 0.9, "split": "train", "pair": "o0"}
    add_rows(store, "ground", [row], {})  # a ground image whose feature is not computed
    pairs = training_pairs(store, "latent_ground", "latent_overhead", "train", 250.0)
    assert pairs.excluded["no latent_ground"] == 1 and "bare" not in pairs.ground_ids
    with pytest.raises(FeatureMissingError, match="gist"):
        training_pairs(store, "gist", "latent_overhead", "train", 250.0)
    with pytest.raises(GeovecError, match="positive"):
        training_pairs(store, "latent_ground", "latent_overhead", "train", 0)


def test_reader_returns_the_stored_features_in_the_asked_order(tmp_path):
    store, _, _ = latent_pair_store(tmp_path / "db", pairs=50)
    pairs = training_pairs(store, "latent_ground", "latent_overhead", "train", 250.0)
    reader = PairReader(store, pairs, "latent_ground", "latent_overhead")
    g_ids, g_all = store.vectors("ground", "latent_ground")
    o_ids, o_all = store.vectors("overhead", "latent_overhead")
    positions = np.array([7, 3, 3, 49, 0])  # out of order, one twice
    g, o = reader.take(positions)
    want_g = g_all[[g_ids.index(pairs.ground_ids[p]) for p in positions]]
    want_o = o_all[[o_ids.index(pairs.overhead_ids[p]) for p in positions]]
    np.testing.assert_array_equal(g, want_g)
    np.testing.assert_array_equal(o, want_o)
    batches = list(reader.batches([positions[:2], positions[2:]]))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), want_g)
    # pinned: rows appended after the reader opened do not move what it reads
    _near(store)
    np.testing.assert_array_equal(reader.take(positions)[0], want_g)


def test_a_pair_is_what_ground_pair_names_never_an_equal_id(tmp_path):
    """sql/training_pairs.sql joins on ground.pair alone: a ground image without a pair is
    'no overhead image' even where an aerial shares its id (before, that aerial became
    its pair)."""
    store, _, _ = latent_pair_store(tmp_path / "db", pairs=6)
    row = {"id": "o0", "region": "r", "lon": 0.9, "lat": 0.9, "split": "train"}  # no pair
    add_rows(store, "ground", [row], {"latent_ground": np.ones((1, 24), np.float32)})
    pairs = training_pairs(store, "latent_ground", "latent_overhead", "train", 250.0)
    assert "o0" not in pairs.ground_ids and pairs.excluded["no overhead image"] == 1
    assert len(pairs) == 6
