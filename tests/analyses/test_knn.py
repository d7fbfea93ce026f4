import numpy as np
import pytest

from geovec.analyses.knn import neighbour_mean, take_rows, tile_ranks

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
