"""Ranks from Ray tasks (queries in chunks, candidates in blocks) equal the local ones."""

import numpy as np

from geovec.analyses.distributed import _merge, _rank_task, distributed_rank_best
from geovec.analyses.knn import neighbour_mean, rank_and_best, tile_ranks


def _data(seed=0):
    rng = np.random.default_rng(seed)
    candidates = rng.standard_normal((3000, 32)).astype(np.float32)
    queries = rng.standard_normal((500, 32)).astype(np.float32)
    true_idx = rng.integers(0, 3000, 500)
    return queries, candidates, true_idx


def test_block_ranks_add_up_to_the_full_rank():  # no cluster needed: the task itself
    queries, candidates, true_idx = _data()
    full = tile_ranks(queries, candidates, true_idx)
    parts = [
        _rank_task(queries, candidates, s, min(s + 700, 3000), true_idx)
        for s in range(0, 3000, 700)
    ]
    np.testing.assert_array_equal(sum(p[0] for p in parts), full)


def test_block_bests_merge_to_the_full_best():
    """Integer features, every candidate twice: exact ties, between blocks too; the merged
    best is the local one (the true one at rank 0, else the nearest, the first among
    equals), and that is numpy's on the float64 distance matrix."""
    rng = np.random.default_rng(3)
    half = rng.integers(0, 10, (1500, 4)).astype(np.float32)
    candidates = np.concatenate([half, half[rng.permutation(1500)]])  # each one twice
    queries = rng.integers(0, 10, (300, 4)).astype(np.float32)
    true_idx = rng.integers(0, 3000, 300)
    ranks, best = rank_and_best(queries, candidates, true_idx)
    parts = [
        _rank_task(queries, candidates, s, min(s + 700, 3000), true_idx)
        for s in range(0, 3000, 700)
    ]
    merged_ranks, merged_best = _merge(parts, true_idx)
    d = ((queries[:, None].astype(float) - candidates[None].astype(float)) ** 2).sum(-1)
    want_ranks = (d < d[np.arange(300), true_idx][:, None]).sum(1)
    want_best = np.where(want_ranks == 0, true_idx, d.argmin(1))
    np.testing.assert_array_equal(ranks, want_ranks)
    np.testing.assert_array_equal(best, want_best)
    np.testing.assert_array_equal(merged_ranks, want_ranks)
    np.testing.assert_array_equal(merged_best, want_best)
    assert (want_best != true_idx).any() and (want_ranks == 0).any()
    assert (d.argmin(1) >= 700).any()  # some bests lie beyond the first block


def test_ray_tasks_give_the_local_ranks(ray_cluster):
    queries, candidates, true_idx = _data(1)
    rng = np.random.default_rng(2)
    ground = rng.standard_normal((800, 32)).astype(np.float32)
    aerial = rng.standard_normal((800, 32)).astype(np.float32)
    local, local_best = rank_and_best(
        neighbour_mean(queries, ground, aerial, 30), candidates, true_idx
    )
    remote, remote_best = distributed_rank_best(
        queries,
        candidates,
        true_idx,
        train_ground=ground,
        train_aerial=aerial,
        neighbors=30,
        query_chunk=128,
        candidate_block=1000,
    )
    np.testing.assert_array_equal(remote, local)
    np.testing.assert_array_equal(remote_best, local_best)  # best of the blocks' best
    assert (local_best >= 1000).any()


def test_pairs_protocol_on_ray_equals_local(ray_cluster, tmp_path):
    import geovec
    from tests.stores import latent_pair_store

    store, _, _ = latent_pair_store(tmp_path / "db", pairs=200)
    kwargs = dict(
        protocol="pairs",
        method="knn-average",
        ground_feature="latent_ground",
        overhead_feature="latent_overhead",
    )
    local = geovec.evaluate(store, **kwargs)
    remote = geovec.evaluate(store, engine="ray", **kwargs)
    assert remote.ranks.column("rank").to_pylist() == local.ranks.column("rank").to_pylist()
    assert remote.queries == 100
