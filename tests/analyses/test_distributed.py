"""Ranks from Ray tasks (queries in chunks, candidates in blocks) equal the local ones."""

import numpy as np

from geovec.analyses.distributed import _rank_task, distributed_ranks
from geovec.analyses.knn import neighbour_mean, tile_ranks


def _data(seed=0):
    rng = np.random.default_rng(seed)
    candidates = rng.standard_normal((3000, 32)).astype(np.float32)
    queries = rng.standard_normal((500, 32)).astype(np.float32)
    true_idx = rng.integers(0, 3000, 500)
    return queries, candidates, true_idx


def test_block_ranks_add_up_to_the_full_rank():  # no cluster needed: the task itself
    queries, candidates, true_idx = _data()
    full = tile_ranks(queries, candidates, true_idx)
    parts = sum(
        _rank_task(queries, candidates, s, min(s + 700, 3000), true_idx)
        for s in range(0, 3000, 700)
    )
    np.testing.assert_array_equal(parts, full)


def test_ray_tasks_give_the_local_ranks(ray_cluster):
    queries, candidates, true_idx = _data(1)
    rng = np.random.default_rng(2)
    ground = rng.standard_normal((800, 32)).astype(np.float32)
    aerial = rng.standard_normal((800, 32)).astype(np.float32)
    local = tile_ranks(neighbour_mean(queries, ground, aerial, 30), candidates, true_idx)
    remote = distributed_ranks(
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
