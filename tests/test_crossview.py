import json

import numpy as np
import pytest
from typer.testing import CliRunner

from geovec.cli import app
from geovec.crossview import (
    evaluate,
    localisation_curve,
    neighbour_mean,
    recall_at,
    take_rows,
    tile_ranks,
    top_one_percent,
)
from geovec.errors import GeovecError
from geovec.localize import localize
from tests.stores import store_from_arrays

TILES = np.array([[0, 0], [1, 0], [2, 0], [3, 0]], np.float32)


def test_ranks_by_hand():
    predicted = np.array([[1, 0], [3, 0], [2, 0], [2, 0]], np.float32)
    true = np.array([1, 2, 0, 1])
    # [1,0] -> T1 exact: rank 0; [3,0] -> T3 closer than T2: 1; [2,0] -> T1,T2,T3 closer than T0: 3;
    # [2,0] with truth T1: T2 strictly closer, T3 ties with T1 and does not count: 1
    assert tile_ranks(predicted, TILES, true, chunk=3).tolist() == [0, 1, 3, 1]


def test_neighbour_mean_by_hand():
    ground = np.array([[10, 0], [20, 0], [30, 0]], np.float32)
    aerial = np.array([[1, 0], [3, 0], [5, 0]], np.float32)
    queries = np.array([[11, 0], [19, 0], [24, 0]], np.float32)
    np.testing.assert_allclose(
        neighbour_mean(queries, ground, aerial, 1, chunk=2), [[1, 0], [3, 0], [3, 0]]
    )
    np.testing.assert_allclose(
        neighbour_mean(queries, ground, aerial, 2, chunk=2), [[2, 0], [2, 0], [4, 0]]
    )


def test_chunking_does_not_change_ranks():
    rng = np.random.default_rng(0)
    pred, tiles = rng.normal(size=(37, 5)), rng.normal(size=(101, 5))
    true = rng.integers(0, 101, 37)
    full = (
        (((pred[:, None] - tiles[None]) ** 2).sum(-1))
        < (((pred - tiles[true]) ** 2).sum(-1))[:, None]
    ).sum(1)
    assert tile_ranks(pred, tiles, true, chunk=8).tolist() == full.tolist()


def test_curve_top1_and_recall():
    ranks = np.array([0, 0, 3, 50, 99])
    curve = localisation_curve(ranks, 100)
    values = [v for _, v in curve]
    assert values == sorted(values) and values[-1] == 1.0 and curve[0] == [0.0, 0.0]
    assert dict(map(tuple, curve))[1.0] == pytest.approx(0.4)  # ranks 0, 0 within the top 1 %
    assert top_one_percent(ranks, 100) == pytest.approx(0.4)
    assert top_one_percent(np.array([0, 1, 3, 4, 9]), 400) == pytest.approx(0.6)  # rank < 4
    assert recall_at(ranks) == {"1": 0.4, "5": 0.6, "10": 0.6}


def known_store(tmp_path):
    """Four tiles along the equator, three training pairs, two isolated queries."""
    lon = [0.0, 0.01, 0.02, 0.03]
    tiles = [
        ({"id": f"t{i}", "region": "r", "lon": lo, "lat": 0.0, "size_m": 480.0}, TILES[i])
        for i, lo in enumerate(lon)
    ]
    train = [(f"a{i}", x, y) for i, (x, y) in enumerate([(10, 1), (20, 3), (30, 5)])]
    ground = [
        ({"id": i, "region": "r", "lon": 0.5, "lat": 0.5, "isolated": False}, [x, 0])
        for i, x, _ in train
    ]
    overhead = [({"id": i, "region": "r", "lon": 0.5, "lat": 0.5}, [y, 0]) for i, _, y in train]
    ground.append(
        ({"id": "q1", "region": "r", "lon": 0.0101, "lat": 0.0005, "isolated": True}, [11, 0])
    )
    ground.append(
        ({"id": "q2", "region": "r", "lon": 0.0199, "lat": -0.0005, "isolated": True}, [19, 0])
    )
    ground.append(({"id": "far", "region": "r", "lon": 0.5, "lat": 0.5, "isolated": True}, [19, 0]))
    return store_from_arrays(tmp_path / "db", ground, overhead, tiles)


def test_evaluate_known_answer(tmp_path):
    store = known_store(tmp_path)
    result = evaluate(store, "gist", neighbors=1)
    assert result.queries == 2 and result.candidates == 4 and result.skipped == 1
    assert result.recall["1"] == 0.5 and result.recall["5"] == 1.0  # ranks 0 and 1
    assert result.top_1_percent == 0.5
    assert result.chance_top_1_percent == 0.25  # rank < 1 of 4 candidates
    # ranks 0 and 1 of 4: localised from 25 % and 50 % of candidates on
    assert result.area_under_curve == pytest.approx((76 + 51) / 2 / 101)


def test_cli_evaluate_json_and_curve(tmp_path):
    known_store(tmp_path)
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(tmp_path / "db"),
            "--feature",
            "gist",
            "--neighbors",
            "1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {
        "feature",
        "neighbors",
        "queries",
        "candidates",
        "top_1_percent",
        "recall",
        "curve",
    } <= set(data)
    assert data["curve"][-1] == [100.0, 1.0]
    assert (out / "curve.png").stat().st_size > 1000


def test_missing_feature_and_test_set(tmp_path):
    store = known_store(tmp_path)
    with pytest.raises(GeovecError, match="places_fc8"):
        evaluate(store, "places_fc8")
    result = CliRunner().invoke(
        app,
        [
            "localize",
            str(tmp_path / "db"),
            "--id",
            "q1",
            "--feature",
            "gist",
            "--neighbors",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["best"][0]["id"] == "t1" and data["true_rank"] == 0


@pytest.mark.parametrize("n", [20, 200, 3001])
def test_blocked_knn_is_exact(n):
    rng = np.random.default_rng(n)
    ground, aerial = rng.random((n, 6), np.float32), rng.random((n, 3), np.float32)
    queries = rng.random((9, 6), np.float32)
    k = min(30, n)
    d = ((queries[:, None] - ground[None]) ** 2).sum(-1)
    expected = aerial[np.argsort(d, axis=1)[:, :k]].mean(axis=1)
    np.testing.assert_allclose(
        neighbour_mean(queries, ground, aerial, 30, chunk=4), expected, rtol=1e-5
    )


def test_copies_of_the_true_tile_tie_in_every_block():
    """Ranks over several scan blocks: copies of a query's true tile, placed in other
    blocks, tie with it (float32 products of the same vectors must round alike)."""
    rng = np.random.default_rng(7)
    tiles = rng.normal(size=(9000, 205)).astype(np.float32)
    true = rng.integers(0, 9000, 40)
    for i, t in enumerate(true):
        tiles[(t + 4096 * np.arange(1, 3) + i) % 9000] = tiles[t]
    pred = (tiles[true] + rng.normal(scale=0.5, size=(40, 205))).astype(np.float32)
    d = ((pred[:, None].astype(np.float64) - tiles[None]) ** 2).sum(-1)
    expected = (d < d[np.arange(40), true][:, None]).sum(1)
    assert tile_ranks(pred, tiles, true, chunk=16).tolist() == expected.tolist()


def test_integer_features_rank_exactly():
    rng = np.random.default_rng(3)
    tiles = rng.integers(0, 3, (5000, 6)).astype(np.float32)  # many exact ties
    pred = rng.integers(0, 3, (30, 6)).astype(np.float32)
    true = rng.integers(0, 5000, 30)
    d = ((pred[:, None] - tiles[None]) ** 2).sum(-1)
    expected = (d < d[np.arange(30), true][:, None]).sum(1)
    assert tile_ranks(pred, tiles, true).tolist() == expected.tolist()


def test_localize_true_tile_is_the_containing_footprint(tmp_path):
    store = known_store(tmp_path)
    inside = localize(store, ident="q2", feature="gist", neighbors=1)
    assert inside.true_tile == "t2" and inside.true_rank == 1  # predicts [3, 0]: t3 is closer
    outside = localize(store, ident="far", feature="gist", neighbors=1)  # beyond every tile
    assert outside.true_tile is None and outside.true_rank is None
    assert outside.best[0]["id"] == "t3"  # still ranked


def test_aligned_and_unaligned_inputs_agree():
    """Blocks use aligned input in place and copy anything else: same answers both ways."""
    rng = np.random.default_rng(11)
    raw = rng.random((20001, 5)).astype(np.float32)
    unaligned = raw[1:]  # starts 20 bytes in: never on a 64-byte boundary with raw's
    aligned = take_rows(raw, np.arange(1, 20001))
    assert aligned.ctypes.data % 64 == 0 and (aligned == unaligned).all()
    queries = rng.random((7, 5)).astype(np.float32)
    true = rng.integers(0, 20000, 7)
    d = ((queries[:, None].astype(np.float64) - unaligned[None]) ** 2).sum(-1)
    expected = (d < d[np.arange(7), true][:, None]).sum(1)
    for tiles in (aligned, unaligned):
        assert tile_ranks(queries, tiles, true).tolist() == expected.tolist()
        np.testing.assert_allclose(
            neighbour_mean(queries, tiles, tiles, 3),
            tiles[np.argsort(d, axis=1)[:, :3]].mean(axis=1),
            rtol=1e-6,
        )
