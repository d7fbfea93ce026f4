import numpy as np
import pytest

from geovec.analyses.metrics import (
    area_under_curve,
    chance_area_under_curve,
    localisation_curve,
    recall_at,
    top_one_percent,
)


def test_curve_top1_and_recall():
    ranks = np.array([0, 0, 3, 50, 99])
    curve = localisation_curve(ranks, 100)
    values = [v for _, v in curve]
    assert values == sorted(values) and values[-1] == 1.0 and curve[0] == [0.0, 0.0]
    assert dict(map(tuple, curve))[1.0] == pytest.approx(0.4)  # ranks 0, 0 within the top 1 %
    assert top_one_percent(ranks, 100) == pytest.approx(0.4)
    assert top_one_percent(np.array([0, 1, 3, 4, 9]), 400) == pytest.approx(0.6)  # rank < 4
    assert recall_at(ranks) == {"1": 0.4, "5": 0.6, "10": 0.6}


@pytest.mark.parametrize("n", [1, 7, 50, 99, 100, 101, 250, 1000, 12345])
def test_curve_at_one_percent_is_top_one_percent(n):
    """One rule: the curve at 1 % counts the same queries as top-1 %, the first
    max(1, N // 100) candidates, also below 100 candidates (where "(rank + 1) / N <= 1 %"
    counted none)."""
    ranks = np.random.default_rng(n).integers(0, n, 400)
    ranks[:50] = 0  # some true tiles first
    curve = dict(map(tuple, localisation_curve(ranks, n)))
    assert (
        curve[1.0] == top_one_percent(ranks, n) == pytest.approx(np.mean(ranks < max(1, n // 100)))
    )
    assert curve[0.0] == 0.0 and curve[100.0] == 1.0


def test_curve_with_a_candidate_count_per_query():
    ranks = np.array([0, 0, 1, 2])
    counts = np.array([40, 200, 200, 300])  # top-1 %: the first 1, 2, 2, 3
    curve = dict(map(tuple, localisation_curve(ranks, counts)))
    assert curve[1.0] == top_one_percent(ranks, counts) == 1.0
    assert curve[2.0] == 1.0 and curve[0.0] == 0.0


@pytest.mark.parametrize("counts", [[4], [8], [100], [1000], [1, 4, 8, 333]])
def test_chance_area_is_the_mean_area_of_every_rank(counts):
    """Random ranking's expected area, exactly: a query with N candidates holds each rank
    0..N-1 with probability 1/N, so its expected area is the area of all N ranks at once.
    Below 100 candidates it is under 0.5 (0.44 at N = 4), so "chance 0.5" misled there."""
    per_n = [area_under_curve(localisation_curve(np.arange(n), n)) for n in counts]
    assert chance_area_under_curve(np.array(counts)) == pytest.approx(np.mean(per_n))
    assert chance_area_under_curve(np.array([4])) == pytest.approx(0.4406, abs=1e-4)
    assert chance_area_under_curve(np.array([1000])) == pytest.approx(0.5, abs=1e-3)
    assert chance_area_under_curve(np.array([], np.int64)) == 0.0
