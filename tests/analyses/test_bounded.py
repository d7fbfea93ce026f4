"""The exact bounded ranking kernel against brute force: every kind of bound gives the
ranks and nearest candidates of exact arithmetic, ties and copies included."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geovec.analyses import bounded, knn
from geovec.analyses.bounded import bounded_rank_best, closer_pairs, principal_basis
from geovec.analyses.knn import closer_than_true, rank_and_best, tile_ranks

MODES = [("dense", 1), ("int8", 1), ("int8", 2), ("projection", 1)]


@pytest.fixture(autouse=True)
def small_blocks():
    """Several candidate blocks and query chunks even for tiny inputs, of few shapes (so
    few compilations)."""
    with (
        mock.patch.object(bounded, "CANDIDATE_BLOCK", 128),
        mock.patch.object(bounded, "QUERY_CHUNK", 8),
        mock.patch.object(knn, "EXACT_MIN_DIM", 1),  # knn's entry points on this kernel
    ):
        yield


def brute_force(queries, candidates, true_idx, limit=None):
    """(ranks, nearest) by the definition, in float64 (exact for the dyadic inputs below)."""
    q, c = np.asarray(queries, np.float64), np.asarray(candidates, np.float64)
    d = ((q[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    true = d[np.arange(len(q)), true_idx]
    ranks = (d < true[:, None]).sum(1)
    limit = len(c) if limit is None else limit
    nearest = np.argmin(d[:, :limit], axis=1) if limit else np.full(len(q), -1)
    return ranks, nearest


def run(queries, candidates, true_idx, mode, layers, limit=None):
    basis = None
    if mode == "projection":
        basis = principal_basis(candidates, queries, 2)
        if len(basis) == 0:
            mode, basis = "dense", None
    return bounded_rank_best(queries, candidates, true_idx, limit, mode, layers, basis)


@st.composite
def problems(draw):
    """Dyadic features (small integers times a power of two: float32 and float64 exact),
    with copies of true candidates, all-zero rows and a scale far from 1."""
    dim = draw(st.sampled_from([1, 300]))  # one value; across the 256-value pieces
    m = draw(st.integers(1, 300))
    n = draw(st.integers(1, 20))
    seed = draw(st.integers(0, 2**32 - 1))
    span = draw(st.sampled_from([1, 2, 8]))
    scale = 2.0 ** draw(st.integers(-6, 6))
    rng = np.random.default_rng(seed)
    candidates = rng.integers(-span, span + 1, (m, dim)) * scale
    queries = rng.integers(-span, span + 1, (n, dim)) * scale
    if draw(st.booleans()):
        candidates = np.abs(candidates)  # non-negative, as CNN features are
        queries = np.abs(queries)
    true_idx = rng.integers(0, m, n)
    for i in range(draw(st.integers(0, n))):  # copies of true candidates elsewhere
        candidates[rng.integers(0, m)] = candidates[true_idx[i]]
    candidates[rng.random(m) < 0.1] = 0.0
    queries[rng.random(n) < 0.1] = 0.0
    limit = draw(st.none() | st.integers(0, m))
    return queries.astype(np.float32), candidates.astype(np.float32), true_idx, limit


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(problem=problems(), which=st.sampled_from(MODES))
def test_ranks_and_nearest_equal_brute_force(problem, which):
    queries, candidates, true_idx, limit = problem
    ranks, nearest, score = run(queries, candidates, true_idx, *which, limit=limit)
    expected, expected_nearest = brute_force(queries, candidates, true_idx, limit)
    assert ranks.tolist() == expected.tolist()
    # the nearest: the least distance, the smallest index among equals
    assert nearest.tolist() == expected_nearest.tolist()
    if limit != 0:
        c = candidates.astype(np.float64)
        q = queries.astype(np.float64)
        want = (c[nearest] ** 2).sum(1) - 2 * (q * c[nearest]).sum(1)
        np.testing.assert_array_equal(score, want)


@pytest.mark.parametrize("mode,layers", MODES)
def test_real_valued_features_rank_exactly(mode, layers):
    """CNN-like rows (non-negative, low rank) and dimensions across the 256-value pieces:
    the ranks of float64 arithmetic, with copies of the true rows tying."""
    rng = np.random.default_rng(5)
    mix = rng.standard_normal((8, 300))
    candidates = (np.maximum(rng.standard_normal((700, 8)) @ mix, 0) + 0.01).astype(np.float32)
    true_idx = rng.integers(0, 700, 50)
    candidates[(true_idx[:20] + 350) % 700] = candidates[true_idx[:20]]
    queries = (candidates[true_idx] + rng.normal(scale=0.3, size=(50, 300))).astype(np.float32)
    ranks, nearest, _ = run(queries, candidates, true_idx, mode, layers)
    expected, expected_nearest = brute_force(queries, candidates, true_idx)
    assert ranks.tolist() == expected.tolist()
    assert nearest.tolist() == expected_nearest.tolist()


def test_distances_within_float32_rounding_rank_exactly():
    """|c|^2 - 2 q.c of 2^24 + 1 against 2^24: equal in float32 (the former kernel's tie),
    one apart exactly; the true tile [4096, 1] has one closer, [4096, 0]."""
    tiles = np.array([[4096, 1], [4096, 0], [4097, 0]], np.float32)
    queries = np.zeros((1, 2), np.float32)
    assert tile_ranks(queries, tiles, np.array([0])).tolist() == [1]
    ranks, best = rank_and_best(queries, tiles, np.array([0]))
    assert ranks.tolist() == [1] and best.tolist() == [1]


def test_the_cost_model_picks_a_source_and_stays_exact():
    """Past the size where the cost model runs, whatever it picks ranks exactly."""
    rng = np.random.default_rng(9)
    mix = rng.standard_normal((6, 32))
    candidates = np.maximum(rng.standard_normal((2049, 6)) @ mix, 0).astype(np.float32)
    queries = (candidates + rng.normal(scale=0.5, size=candidates.shape)).astype(np.float32)
    true_idx = np.arange(2049)
    ranks, _ = rank_and_best(queries, candidates, true_idx)
    c, q = candidates.astype(np.float64), queries.astype(np.float64)
    e = (c * c).sum(1)[None, :] - 2 * q @ c.T
    assert ranks.tolist() == (e < e[true_idx, true_idx][:, None]).sum(1).tolist()


def test_closer_pairs_agree_with_the_ranks():
    """The semi-positives' count decides as the ranks do: over all candidates it is the
    rank itself."""
    rng = np.random.default_rng(2)
    candidates = rng.integers(0, 3, (40, 5)).astype(np.float32)
    queries = rng.integers(0, 3, (6, 5)).astype(np.float32)
    true_idx = rng.integers(0, 40, 6)
    every = np.tile(np.arange(40), (6, 1))
    assert closer_than_true(queries, candidates, true_idx, every).tolist() == (
        tile_ranks(queries, candidates, true_idx).tolist()
    )
    assert closer_pairs(queries, candidates, true_idx, [], []).tolist() == []
