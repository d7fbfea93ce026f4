"""The one link between the views, ground.pair: filled at ingest whichever view comes
first, from either side of the manifest, never overwritten; stores of an older geovec
(equal ids, no pair) are linked once and named in the errors that find no pair."""

import numpy as np
import pytest

import geovec
from geovec.analyses.pairs import evaluate_pairs
from geovec.errors import GeovecError
from geovec.ingestion.links import link_pairs, relink_hint
from tests.images import write_images, write_manifest
from tests.stores import add_rows


def _pairs(store):
    return {r["id"]: r["pair"] for r in store.read("ground", ["id", "pair"]).to_pylist()}


def test_overhead_rows_that_name_their_photo_link_it(tmp_path):
    """Aerials with ids of their own whose manifest rows name their photo (``pair``), after
    the photos: each photo's pair is its aerial's id; a pair a ground row set is kept."""
    images = write_images(tmp_path / "img", 5)
    rows = [
        dict(id=i, path=f"img/{images[k].name}", view="ground", lon=10 + k * 0.01, lat=0.0)
        for k, i in enumerate(["g0", "g1"])
    ]
    rows.append(dict(id="x", path=f"img/{images[2].name}", view="ground", lon=10.5, lat=0.0))
    rows[-1]["pair"] = "a1"  # set by its own row: kept, although an aerial "x" exists
    rows += [
        dict(id=a, path=f"img/{images[3 + k].name}", view="overhead", lon=10, lat=0, pair=g)
        for k, (a, g) in enumerate([("a0", "g0"), ("a1", "g1")])
    ]
    rows.append(dict(id="x", path=f"img/{images[4].name}", view="overhead", lon=10.5, lat=0.0))
    manifest = write_manifest(tmp_path / "m.csv", rows)
    store = geovec.open(tmp_path / "db")
    assert geovec.ingest(store, manifest, view="ground", features="gist").linked == 0
    assert _pairs(store) == {"g0": None, "g1": None, "x": "a1"}
    assert geovec.ingest(store, manifest, view="overhead", features="gist").linked == 2
    assert _pairs(store) == {"g0": "a0", "g1": "a1", "x": "a1"}


def test_a_store_linked_by_equal_ids_is_linked_once_and_named_until_then(tmp_path):
    """A store of an older geovec: ground a and b without pair, aerials a and c. Readers
    follow ground.pair alone, so until it is linked the pairs protocol finds no pair and
    says why; link_pairs (run by every ingest) links a to a, once."""
    store = geovec.open(tmp_path / "db")
    vectors = np.eye(2, dtype=np.float32)
    ground = [dict(id=i, lon=None, lat=None, split="test") for i in "ab"]
    add_rows(store, "ground", ground, {"gist": vectors})
    add_rows(store, "overhead", [dict(id=i, lon=None, lat=None) for i in "ac"], {"gist": vectors})
    assert "1 ground images have no pair but an overhead image of their id" in relink_hint(store)
    with pytest.raises(GeovecError, match="no query of split 'test' has its aerial.*1 ground"):
        evaluate_pairs(store, "gist")
    assert link_pairs(store) == 1 and _pairs(store) == {"a": "a", "b": None}
    assert link_pairs(store) == 0 and relink_hint(store) == ""
    result = evaluate_pairs(store, "gist")
    assert (result.queries, result.skipped, result.recall["1"]) == (1, 1, 1.0)
