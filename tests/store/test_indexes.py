import json

import numpy as np
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import VectorIndexError
from geovec.store import indexes
from tests.stores import add_rows

runner = CliRunner()


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """2,000 overhead rows of 40-d clustered vectors at random places in a 1-degree box."""
    rng = np.random.default_rng(0)
    n = 2000
    centres = rng.normal(size=(20, 40)).astype(np.float32) * 3
    vectors = centres[rng.integers(0, 20, n)] + rng.normal(size=(n, 40)).astype(np.float32)
    lonlat = rng.uniform(0, 1, (n, 2))
    store = geovec.open(tmp_path_factory.mktemp("idx") / "db")
    rows = [{"id": f"o{i}", "lon": lo, "lat": la} for i, (lo, la) in enumerate(lonlat)]
    add_rows(store, "overhead", rows, {"f": vectors})
    return store, vectors, lonlat


def test_defaults_suit_the_dimension():
    assert indexes.default_sub_vectors(205) == 41  # 5 values each: 205 = 5 x 41
    assert indexes.default_sub_vectors(4096) == 512
    assert indexes.default_sub_vectors(512) == 64
    assert indexes.default_sub_vectors(40) == 5
    assert indexes.default_partitions(1_000_000) == 1000
    assert indexes.default_partitions(2000) == 7  # 256 rows per partition at least


@pytest.mark.parametrize("kind", indexes.KINDS)
def test_each_kind_builds_lists_finds_and_drops(clustered, kind):
    store, vectors, _ = clustered
    built = indexes.build_index(store, "overhead", "f", kind=kind)
    assert (built.kind, built.indexed_rows, built.unindexed_rows) == (kind, 2000, 0)
    assert [i.kind for i in indexes.list_indexes(store)] == [kind]
    refine = 10 if kind == "ivf_pq" else None
    measured = indexes.measure_recall(
        store, "overhead", "f", k=10, queries=30, nprobes=7, refine_factor=refine
    )
    assert measured.queries == 30 and measured.recall >= 0.9, measured
    # search goes through the index and gives the exact answer's nearest row
    hit = geovec.search(store, "f", vector=vectors[5], k=3, nprobes=7, refine_factor=refine)
    assert hit[0].id == "o5" and hit[0].distance == pytest.approx(0, abs=1e-3)
    indexes.drop_index(store, "overhead", "f")
    assert indexes.list_indexes(store) == []


def test_search_keeps_its_spatial_prefilter_on_both_paths(clustered):
    store, vectors, lonlat = clustered
    indexes.build_index(store, "overhead", "f", kind="ivf_flat")
    box = (0.0, 0.0, 0.3, 0.3)
    inside = (lonlat[:, 0] <= 0.3) & (lonlat[:, 1] <= 0.3)
    d = np.linalg.norm(vectors - vectors[0], axis=1)
    truth = [f"o{i}" for i in np.argsort(np.where(inside, d, np.inf))[:5]]
    exact = geovec.search(store, "f", vector=vectors[0], k=5, bbox=box, exact=True)
    assert [h.id for h in exact] == truth
    approx = geovec.search(store, "f", vector=vectors[0], k=5, bbox=box, nprobes=7)
    assert all(0 <= h.lon <= 0.3 and 0 <= h.lat <= 0.3 for h in approx)
    assert len({h.id for h in approx} & set(truth)) >= 4
    indexes.drop_index(store, "overhead", "f")


def test_a_prefiltered_search_through_the_index_gives_every_hit(clustered, monkeypatch):
    """A box holding few rows is scanned exactly (the small-table rule counts the rows
    inside it), and an answer through the index short of k rows (its probed partitions
    held too few of the box's rows) is done again exactly: k hits, the exact ones."""
    store, vectors, lonlat = clustered
    indexes.build_index(store, "overhead", "f")  # ivf_pq, 7 partitions
    monkeypatch.setattr(indexes, "EXACT_SCAN_VALUES", 1000)  # as for a big table
    monkeypatch.setattr(indexes, "MIN_NPROBES", 1)  # one partition of 7 probed
    monkeypatch.setattr(indexes, "PROBE_SHARE", 0.01)
    assert indexes.uses_index(2000, 40) and indexes.default_nprobes(2000) == 1
    for box in [(0.0, 0.0, 0.1, 0.1), (0.5, 0.5, 0.7, 0.6)]:  # ~20 rows, ~40 rows
        inside = (
            (lonlat[:, 0] >= box[0]) & (lonlat[:, 0] <= box[2])
            & (lonlat[:, 1] >= box[1]) & (lonlat[:, 1] <= box[3])
        )  # fmt: skip
        assert 12 <= inside.sum() <= 60
        d = np.where(inside, np.linalg.norm(vectors - vectors[0], axis=1), np.inf)
        truth = [f"o{i}" for i in np.argsort(d, kind="stable")[:10]]
        hits = geovec.search(store, "f", vector=vectors[0], k=10, bbox=box)
        assert [h.id for h in hits] == truth, box
    near = (0.5, 0.5, 8000.0)  # metres: about 0.07 degrees around (0.5, 0.5)
    hits = geovec.search(store, "f", vector=vectors[0], k=10, near=near)
    assert len(hits) == 10
    indexes.drop_index(store, "overhead", "f")


def test_bad_requests(clustered, tmp_path):
    store, _, _ = clustered
    with pytest.raises(VectorIndexError, match="do not divide f's 40 values; try 5"):
        indexes.build_index(store, "overhead", "f", sub_vectors=7)
    with pytest.raises(VectorIndexError, match="1 sub-vector"):
        indexes.build_index(store, "overhead", "f", sub_vectors=1)
    with pytest.raises(VectorIndexError, match="kind must be one of"):
        indexes.build_index(store, "overhead", "f", kind="lsh")
    with pytest.raises(VectorIndexError, match="no vector index; build one"):
        indexes.measure_recall(store, "overhead", "f")
    small = geovec.open(tmp_path / "small")
    add_rows(small, "overhead", [{"id": "a", "lon": 0, "lat": 0}], {"f": np.ones((1, 4))})
    with pytest.raises(VectorIndexError, match="1 vectors; an index needs at least 256"):
        indexes.build_index(small, "overhead", "f")


def test_command_line(clustered):
    store, _, _ = clustered
    db = str(store.path)
    built = runner.invoke(
        app,
        [
            "index",
            db,
            "--view",
            "overhead",
            "--feature",
            "f",
            "--kind",
            "ivf_hnsw_sq",
            "--partitions",
            "4",
        ],
    )
    assert built.exit_code == 0, built.output
    assert "built overhead.f: ivf_hnsw_sq (2000 rows, 4 partitions)" in built.output
    listed = json.loads(runner.invoke(app, ["index", db, "--list", "--json"]).output)
    assert [(i["view"], i["feature"], i["kind"]) for i in listed] == [
        ("overhead", "f", "ivf_hnsw_sq")
    ]
    recall = runner.invoke(
        app,
        [
            "index",
            db,
            "--view",
            "overhead",
            "--feature",
            "f",
            "--recall",
            "10",
            "--queries",
            "20",
            "--json",
        ],
    )
    numbers = json.loads(recall.output)
    assert {"recall", "exact_ms", "index_ms", "queries", "k"} <= set(numbers)
    assert numbers["queries"] == 20 and numbers["k"] == 10 and numbers["recall"] > 0.8
    dropped = runner.invoke(app, ["index", db, "--view", "overhead", "--feature", "f", "--drop"])
    assert dropped.exit_code == 0 and "dropped" in dropped.output
    again = runner.invoke(app, ["index", db, "--view", "overhead", "--feature", "f", "--drop"])
    assert again.exit_code == 1 and "has no vector index" in again.output
    bare = runner.invoke(app, ["index", db])
    assert bare.exit_code == 1 and "name the --view and the --feature" in bare.output


@pytest.fixture(scope="module")
def gist_like(tmp_path_factory):
    """1,500 overhead rows of 64-d GIST-like vectors: non-negative, most of their energy in
    a few directions (a low-rank mix of clustered factors plus a little noise)."""
    rng = np.random.default_rng(2)
    n, dim, rank = 1500, 64, 8
    mix = np.abs(rng.normal(size=(rank, dim))) / np.sqrt(rank)
    centres = rng.normal(size=(30, rank))
    factors = 0.7 * centres[rng.integers(0, 30, n)] + rng.normal(size=(n, rank))
    vectors = np.abs(factors @ mix + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)
    store = geovec.open(tmp_path_factory.mktemp("gist") / "db")
    rows = [{"id": f"o{i}", "lon": 0.0, "lat": 0.0} for i in range(n)]
    add_rows(store, "overhead", rows, {"gist": vectors})
    indexes.build_index(store, "overhead", "gist")  # every default: ivf_pq
    return store, vectors


def test_the_default_index_keeps_recall_at_10_above_0_95(gist_like):
    store, _ = gist_like
    measured = indexes.measure_recall(store, "overhead", "gist", k=10, queries=40)
    assert measured.recall >= 0.95, measured
    assert measured.refine_factor == indexes.DEFAULT_REFINE_FACTOR
    assert measured.nprobes == indexes.default_nprobes(1500) and measured.search_exact


def test_search_is_exact_below_the_threshold(gist_like, monkeypatch):
    store, vectors = gist_like
    assert not indexes.uses_index(1500, 64)
    for i in (3, 300, 1200):
        truth = np.argsort(np.linalg.norm(vectors - vectors[i], axis=1), kind="stable")[:10]
        hits = geovec.search(store, "gist", vector=vectors[i], k=10)
        assert [h.id for h in hits] == [f"o{j}" for j in truth]
    query = indexes.nearest_query(store, "overhead", "gist", vectors[0], 10)
    assert "ANN" not in query.explain_plan()  # a flat scan
    monkeypatch.setattr(indexes, "EXACT_SCAN_VALUES", 1000)  # as for a big table
    query = indexes.nearest_query(store, "overhead", "gist", vectors[0], 10)
    assert "ANN" in query.explain_plan()
    monkeypatch.undo()
    tuned = indexes.nearest_query(store, "overhead", "gist", vectors[0], 10, nprobes=3)
    assert "ANN" in tuned.explain_plan()  # asked for: through the index, small or not
    forced = indexes.nearest_query(store, "overhead", "gist", vectors[0], 10, exact=False)
    assert "ANN" in forced.explain_plan()  # search --index


def test_indexing_a_small_table_says_search_scans_it(clustered):
    store, _, _ = clustered
    built = indexes.build_index(store, "overhead", "f")
    assert built.note and "search scans them exactly" in built.note
    assert "(--index, --nprobes, --refine-factor)" in built.note  # each way to ask for it
    assert f"until it holds {indexes.exact_rows(40):,}" in built.note
    done = runner.invoke(app, ["index", str(store.path), "--view", "overhead", "--feature", "f"])
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("note: overhead.f holds 2,000 vectors")
    indexes.drop_index(store, "overhead", "f")
