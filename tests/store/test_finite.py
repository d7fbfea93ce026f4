"""Non-finite feature vectors are refused where evaluations read them (Store.vectors): a
NaN makes every distance comparison false, so a NaN query would rank its true tile first."""

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import GeovecError, NonFiniteFeatureError
from geovec.store.finite import nonfinite_rows, require_finite
from geovec.store.schema import vectors_to_arrow
from tests.stores import known_store


def spoil(store, view: str, ident: str, vector) -> None:
    """Overwrite one stored vector, as an older geovec or a hand-made store could hold it."""
    rows = pa.table({"id": [ident], "gist": vectors_to_arrow(np.array([vector], np.float32))})
    store.table(view).merge_insert("id").when_matched_update_all().execute(rows)  # no check


def test_nonfinite_rows_finds_nan_and_both_infinities():
    m = np.ones((5, 3), np.float32)
    m[1, 2], m[3, 0], m[4, 1] = np.nan, np.inf, -np.inf
    m[0] = np.finfo(np.float32).max  # large but finite
    assert nonfinite_rows(m).tolist() == [False, True, False, True, True]
    assert nonfinite_rows(np.zeros((0, 4), np.float32)).tolist() == []


def test_message_names_a_few_ids_and_the_count():
    m = np.zeros((10, 2), np.float32)
    m[2:8, 0] = np.nan
    with pytest.raises(NonFiniteFeatureError) as caught:
        require_finite([f"r{i}" for i in range(10)], m, "ground.gist")
    message = str(caught.value)
    assert "\n" not in message and "6 of 10" in message
    assert "'r2', 'r3', 'r4' and 3 more" in message and "'r5'" not in message
    assert isinstance(caught.value, GeovecError)


@pytest.mark.parametrize(
    "view,ident,vector",
    [("ground", "q1", [np.nan, 0]), ("map", "t1", [np.inf, 0]), ("overhead", "a0", [0, -np.inf])],
)
def test_evaluate_refuses_a_nonfinite_vector(tmp_path, view, ident, vector):
    store = known_store(tmp_path)
    spoil(store, view, ident, vector)
    with pytest.raises(NonFiniteFeatureError, match=rf"{view}\.gist.*1 of .*'{ident}'"):
        geovec.evaluate(store, "gist", neighbors=1)
    result = CliRunner().invoke(
        app, ["evaluate", str(tmp_path / "db"), "--feature", "gist", "--neighbors", "1"]
    )
    assert result.exit_code == 1 and ident in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_localize_refuses_a_nan_query(tmp_path):
    store = known_store(tmp_path)
    spoil(store, "ground", "q1", [np.nan, np.nan])
    with pytest.raises(NonFiniteFeatureError, match="'q1'"):
        geovec.localize(store, "gist", id="q1", neighbors=1)


def test_only_the_vectors_read_are_checked(tmp_path):
    store = known_store(tmp_path)
    spoil(store, "ground", "far", [np.nan, 0])
    ids, matrix = store.vectors("ground", "gist", "id != 'far'")
    assert "far" not in ids and np.isfinite(matrix).all()
    with pytest.raises(NonFiniteFeatureError, match="'far'"):
        store.vectors("ground", "gist")


def test_computed_vectors_are_refused_before_they_are_written(tmp_path):
    """update_columns (embed writes a head's embeddings with it) refuses NaN and infinity,
    naming the row, and writes nothing; the query of a search too."""
    store = known_store(tmp_path)
    before = store.read("ground", ["id", "gist"]).to_pylist()
    bad = np.array([[np.nan, 0.0]] + [[1.0, 0.0]] * (len(before) - 1), np.float32)
    rows = pa.table({"id": [r["id"] for r in before], "gist": vectors_to_arrow(bad)})
    with pytest.raises(
        NonFiniteFeatureError, match=rf"ground.gist: 1 of {len(before)} .*'{before[0]['id']}'"
    ):
        store.update_columns("ground", rows)
    assert store.read("ground", ["id", "gist"]).to_pylist() == before
    with pytest.raises(NonFiniteFeatureError, match="query"):
        geovec.search(store, "gist", vector=np.array([np.inf, 0], np.float32))
