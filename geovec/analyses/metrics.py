"""Metrics of cross-view localisation (paper, Section 4.3): the cumulative curve, top-1 %,
its chance level, the area under the curve and recall@K, all from the rank of each
query's true tile (candidates strictly closer than it) and its candidate count."""

from __future__ import annotations

import numpy as np

RECALL_AT = (1, 5, 10)


def localisation_curve(
    ranks: np.ndarray, candidates: np.ndarray, points: int = 101
) -> list[list[float]]:
    """[[percent of candidates retrieved, fraction of queries localised], ...] for 0..100 %.

    A query counts as localised at p % when its true tile is among the top p % of its
    region's candidates: (rank + 1) / N * 100 <= p.
    """
    ranks = np.asarray(ranks)
    needed = (ranks + 1) / np.asarray(candidates) * 100.0
    grid = np.linspace(0, 100, points)
    if len(ranks) == 0:
        return [[float(p), 0.0] for p in grid]
    return [[float(p), float(np.mean(needed <= p + 1e-9))] for p in grid]


def top_one_percent(ranks: np.ndarray, candidates: np.ndarray) -> float:
    """Fraction of queries whose rank is below max(1, floor(N / 100))."""
    if len(ranks) == 0:
        return 0.0
    limit = np.maximum(1, np.asarray(candidates) // 100)
    return float(np.mean(np.asarray(ranks) < limit))


def chance_top_one_percent(candidates: np.ndarray) -> float:
    """The top-1 % that random ranking would score on average, over queries with N
    candidates each: mean of max(1, floor(N / 100)) / N."""
    candidates = np.asarray(candidates)
    if candidates.size == 0:
        return 0.0
    return float(np.mean(np.maximum(1, candidates // 100) / candidates))


def area_under_curve(curve: list[list[float]]) -> float:
    """Mean fraction of queries localised over 0..100 % of candidates retrieved: 1 when every
    true tile ranks first, about 0.5 for random ranking."""
    return float(np.mean([fraction for _, fraction in curve])) if curve else 0.0


def recall_at(ranks: np.ndarray, ks=RECALL_AT) -> dict[str, float]:
    """{"1": R@1, "5": R@5, "10": R@10}: fraction of queries with rank < k."""
    ranks = np.asarray(ranks)
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else 0.0 for k in ks}
