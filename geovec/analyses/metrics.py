"""Metrics of cross-view localisation (paper, Section 4.3): the cumulative curve, top-1 %,
its chance level, the area under the curve and recall@K, all from the rank of each
query's true tile (candidates strictly closer than it) and its candidate count.

One rule for "within the top p %" (:func:`retrieved`), the same in top-1 % and at every
point of the curve: the first ``max(1, floor(N * p / 100))`` of a query's N candidates,
for p > 0 (none at p = 0). It is the cross-view community's R@top-1 % (CVUSA, CVACT,
VIGOR: the first ``max(1, N // 100)`` candidates), so the figures compare with theirs, and
the curve at 1 % is top-1 % whatever N: with fewer than 100 candidates "1 %" is the first
one, never none.
"""

from __future__ import annotations

import numpy as np

RECALL_AT = (1, 5, 10)


def retrieved(candidates, percent: float) -> np.ndarray:
    """How many candidates "the top ``percent`` %" of N candidates is: the first
    ``max(1, floor(N * percent / 100))`` for ``percent`` > 0, none at 0 (see the module)."""
    candidates = np.asarray(candidates, np.int64)
    if percent <= 0:
        return np.zeros_like(candidates)
    share = np.floor(candidates * (percent / 100.0) + 1e-9).astype(np.int64)
    return np.maximum(1, share)


def localisation_curve(
    ranks: np.ndarray, candidates: np.ndarray, points: int = 101
) -> list[list[float]]:
    """[[percent of candidates retrieved, fraction of queries localised], ...] for 0..100 %.

    A query counts as localised at p % when its true tile is among the first
    :func:`retrieved` (N, p) candidates: rank < max(1, floor(N * p / 100)) for p > 0, the
    rule of :func:`top_one_percent`, so the curve at 1 % is top-1 %.
    """
    ranks = np.asarray(ranks)
    grid = np.linspace(0, 100, points)
    if len(ranks) == 0:
        return [[float(p), 0.0] for p in grid]
    n = np.broadcast_to(np.asarray(candidates), ranks.shape)
    return [[float(p), float(np.mean(ranks < retrieved(n, p)))] for p in grid]


def top_one_percent(ranks: np.ndarray, candidates: np.ndarray) -> float:
    """Fraction of queries whose true tile is among the first max(1, N // 100) of their N
    candidates (rank < max(1, N // 100)): the cross-view community's R@top-1 %."""
    if len(ranks) == 0:
        return 0.0
    return float(np.mean(np.asarray(ranks) < retrieved(candidates, 1.0)))


def chance_top_one_percent(candidates: np.ndarray) -> float:
    """The top-1 % that random ranking would score on average, over queries with N
    candidates each: mean of max(1, floor(N / 100)) / N."""
    candidates = np.asarray(candidates)
    if candidates.size == 0:
        return 0.0
    return float(np.mean(retrieved(candidates, 1.0) / candidates))


def area_under_curve(curve: list[list[float]]) -> float:
    """Mean fraction of queries localised over 0..100 % of candidates retrieved: 1 when every
    true tile ranks first, about 0.5 for random ranking."""
    return float(np.mean([fraction for _, fraction in curve])) if curve else 0.0


def recall_at(ranks: np.ndarray, ks=RECALL_AT) -> dict[str, float]:
    """{"1": R@1, "5": R@5, "10": R@10}: fraction of queries with rank < k."""
    ranks = np.asarray(ranks)
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else 0.0 for k in ks}
