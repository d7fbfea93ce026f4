"""The pairs protocol against an independent numpy implementation of the community's
evaluation (full distance matrix, float64), on integer features: exact arithmetic on both
sides, many exact ties, so every figure must agree to the last query."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import geovec
from geovec.analyses.crossview import evaluate
from geovec.analyses.pairs import evaluate_pairs
from geovec.cli import app
from geovec.errors import GeovecError
from tests.stores import add_rows

DIM = 6


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """80 test and 120 train queries; 150 aerials: 60 of no split (candidates for every
    split), 60 of the test split, 30 of the train split; VIGOR-like semi-positives on
    half of the queries. Integer features 0..4 ("gist"), and a continuous ground feature
    ("noisy") without ties."""
    rng = np.random.default_rng(5)
    aerial = rng.integers(0, 5, (150, DIM)).astype(np.float32)
    a_split = [None] * 60 + ["test"] * 60 + ["train"] * 30
    a_ids = [f"a{i:03d}" for i in range(150)]
    candidates_of = {
        "test": [i for i, s in enumerate(a_split) if s in (None, "test")],
        "train": [i for i, s in enumerate(a_split) if s in (None, "train")],
    }
    ground, g_vec = [], []
    for split, n in (("test", 80), ("train", 120)):
        pool = candidates_of[split]
        for k in range(n):
            true = pool[rng.integers(len(pool))]
            # semi-positives: the pool's aerials most like the true one (neighbouring tiles)
            near = np.argsort(((aerial[pool] - aerial[true]) ** 2).sum(1), kind="stable")
            semis = [a_ids[pool[i]] for i in near if pool[i] != true][:3]
            ground.append(
                dict(
                    id=f"{split}{k:03d}",
                    lon=None,
                    lat=None,
                    split=split,
                    pair=a_ids[true],
                    semi_pairs=semis if k % 2 else None,
                )
            )
            g_vec.append(np.clip(aerial[true] + rng.integers(-1, 2, DIM), 0, 4))
    noisy = (np.array(g_vec) + rng.normal(0, 0.3, (len(g_vec), DIM))).astype(np.float32)
    store = geovec.open(tmp_path_factory.mktemp("pairs") / "db")
    add_rows(
        store,
        "overhead",
        [dict(id=i, lon=None, lat=None, split=s) for i, s in zip(a_ids, a_split)],
        {"gist": aerial},
    )
    add_rows(store, "ground", ground, {"gist": np.array(g_vec, np.float32), "noisy": noisy})
    g_vec, aerial, noisy = (np.asarray(v, np.float64) for v in (g_vec, aerial, noisy))
    return store, ground, g_vec, aerial, a_ids, a_split, noisy


def reference(world, split="test", method="direct", k=30):
    """The community's evaluation, in numpy."""
    _, ground, g_vec, aerial, a_ids, a_split, noisy = world
    cand = [i for i, s in enumerate(a_split) if s in (None, split)]
    at = {a_ids[i]: j for j, i in enumerate(cand)}
    queries = [i for i, g in enumerate(ground) if g["split"] == split]
    q = g_vec[queries]
    if method == "knn-average":
        train = [i for i, g in enumerate(ground) if g["split"] == "train"]
        a_at = {a: i for i, a in enumerate(a_ids)}
        d = ((noisy[queries][:, None] - noisy[train][None]) ** 2).sum(-1)
        near = np.argsort(d, axis=1, kind="stable")[:, :k]
        paired = aerial[[a_at[ground[i]["pair"]] for i in train]]
        q = paired[near].mean(axis=1)
    dist = ((q[:, None] - aerial[cand][None]) ** 2).sum(-1)
    true = np.array([at[ground[i]["pair"]] for i in queries])
    true_d = dist[np.arange(len(queries)), true]
    ranks = (dist < true_d[:, None]).sum(1)
    hits = []
    for row, i in enumerate(queries):
        semis = ground[i]["semi_pairs"]
        if semis:
            mask = np.ones(len(cand), bool)
            mask[[at[s] for s in semis]] = False
            hits.append(((dist[row] < true_d[row]) & mask).sum() < 1)
    n = len(cand)
    return {
        "ranks": ranks,
        "recall": {str(r): float(np.mean(ranks < r)) for r in (1, 5, 10)},
        "top_1_percent": float(np.mean(ranks < max(1, n // 100))),
        "hit_rate": float(np.mean(hits)),
        "candidates": n,
    }


@pytest.mark.parametrize("split", ["test", "train"])
def test_direct_matches_numpy(world, split):
    got = evaluate_pairs(world[0], "gist", split=split)
    want = reference(world, split)
    assert got.candidates == want["candidates"] and got.queries == len(want["ranks"])
    assert got.ranks.column("rank").to_pylist() == want["ranks"].tolist()
    assert got.recall == want["recall"] and got.top_1_percent == want["top_1_percent"]
    assert got.hit_rate == pytest.approx(want["hit_rate"])
    hits = [h for h in got.ranks.column("hit").to_pylist() if h is not None]
    firsts = [
        r == 0
        for r, h in zip(got.ranks.column("rank").to_pylist(), got.ranks.column("hit").to_pylist())
        if h is not None
    ]
    assert sum(hits) > sum(firsts) > 0  # semi-positives are forgiven, nothing else


def test_knn_average_matches_numpy(world):
    """The paper's rule across two features: neighbours by a continuous ground feature (no
    ties), the mean of K = 4 integer aerial features (quarters: exact in float32), ranked
    among the integer aerials: exact on both sides."""
    got = evaluate(
        world[0],
        protocol="pairs",
        method="knn-average",
        neighbors=4,
        ground_feature="noisy",
        overhead_feature="gist",
    )
    want = reference(world, method="knn-average", k=4)
    assert got.method == "knn-average" and got.neighbors == 4
    assert got.ranks.column("rank").to_pylist() == want["ranks"].tolist()
    assert got.recall == want["recall"] and got.hit_rate == pytest.approx(want["hit_rate"])


def test_cli_pairs_json_and_ranks(world, tmp_path):
    store = world[0]
    out = tmp_path / "eval"
    args = ["evaluate", str(store.path), "--protocol", "pairs", "--feature", "gist"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    want = reference(world)
    assert {
        "protocol",
        "method",
        "queries",
        "candidates",
        "recall",
        "top_1_percent",
        "hit_rate",
    } <= set(data)
    assert (data["protocol"], data["method"]) == ("pairs", "direct")
    assert data["recall"] == want["recall"] and data["hit_rate"] == pytest.approx(want["hit_rate"])
    ranks = pq.read_table(out / "ranks_gist.parquet")
    assert ranks.column("rank").to_pylist() == want["ranks"].tolist()
    text = CliRunner().invoke(app, args)
    assert "(direct, test): R@1" in text.output and "80 queries, 120 candidates" in text.output


def test_pairs_errors(world):
    store = world[0]
    with pytest.raises(GeovecError, match="method must be one of direct, knn-average, learned"):
        evaluate_pairs(store, "gist", method="cosine")
    with pytest.raises(GeovecError, match="method learned needs a head"):
        evaluate_pairs(store, "gist", method="learned")
    with pytest.raises(GeovecError, match="no ground image of split 'val'"):
        evaluate_pairs(store, "gist", split="val")
    with pytest.raises(GeovecError, match="protocol must be map, pairs or places"):
        evaluate(store, "gist", protocol="grid")
