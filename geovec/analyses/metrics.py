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

from geovec.errors import GeovecError
from geovec.geodesy import distance_m

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


CURVE_COLUMNS = ("percent", "localised")
"""The keys of a curve in JSON: percent of candidates retrieved, fraction localised."""


def curve_columns(curve) -> dict[str, list[float]]:
    """A curve (``[[percent, fraction], ...]``) as JSON writes it: two arrays,
    ``{"percent": [...], "localised": [...]}``; one already so is kept."""
    if isinstance(curve, dict):
        return {k: list(curve[k]) for k in CURVE_COLUMNS}
    return {k: [float(point[i]) for point in curve] for i, k in enumerate(CURVE_COLUMNS)}


def curve_points(curve) -> list[list[float]]:
    """A curve read from JSON, either way it was written (two arrays, or the pairs an
    older geovec wrote), as ``[[percent, fraction], ...]``."""
    if isinstance(curve, dict):
        return [[float(p), float(f)] for p, f in zip(*(curve[k] for k in CURVE_COLUMNS))]
    return [[float(p), float(f)] for p, f in curve]


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
    true tile ranks first; for random ranking see :func:`chance_area_under_curve`."""
    return float(np.mean([fraction for _, fraction in curve])) if curve else 0.0


def chance_area_under_curve(candidates: np.ndarray, points: int = 101) -> float:
    """The area under the curve that random ranking would score on average, over queries
    with N candidates each, on the curve's grid of ``points`` percentages: at p % a random
    rank is among the first :func:`retrieved` (N, p) with probability min(r, N) / N. About
    0.5 for many candidates, less for few, since "p %" of N rounds down (to one candidate
    at least): 0.44 at N = 4, 0.46 at N = 8. The rule of :func:`localisation_curve`."""
    candidates = np.asarray(candidates, np.int64)
    candidates = candidates[candidates > 0]
    if candidates.size == 0:
        return 0.0
    shares = [
        np.mean(np.minimum(retrieved(candidates, p), candidates) / candidates)
        for p in np.linspace(0, 100, points)
    ]
    return float(np.mean(shares))


def recall_at(ranks: np.ndarray, ks=RECALL_AT) -> dict[str, float]:
    """{"1": R@1, "5": R@5, "10": R@10}: fraction of queries with rank < k."""
    ranks = np.asarray(ranks)
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else 0.0 for k in ks}


WITHIN_M = (25.0, 100.0, 250.0, 500.0, 1000.0, 5000.0)
"""Default distance thresholds (metres) of ``within_m``: the place-recognition
community's 25 m, then the city scales of cross-view localisation."""


def threshold_key(metres: float) -> str:
    """A threshold as the text key of ``within_m``: "25", "1000", "2.5"."""
    metres = float(metres)
    return f"{metres:.0f}" if metres.is_integer() else f"{metres:g}"


def check_thresholds(within_m) -> tuple[float, ...]:
    """The thresholds as positive finite metres, ascending and distinct."""
    values = sorted({float(t) for t in within_m})
    if not values or not all(0 < t < float("inf") for t in values):
        raise GeovecError(f"distance thresholds must be positive metres, got {list(within_m)}")
    return tuple(values)


def error_summary(errors, within_m=WITHIN_M) -> dict:
    """Localisation error in metres, summarised: ``median_error_m`` and ``within_m`` (per
    threshold as text, the share of queries whose best candidate lies at most that far
    from their true position: error <= threshold) over the queries with a known error
    (NaN or None: unknown, a position missing), and ``queries_without_error``, how many
    queries had none. None for the median and the shares when no error is known."""
    errors = np.array([np.nan if e is None else e for e in errors], float)
    known = errors[np.isfinite(errors)]
    return {
        "median_error_m": float(np.median(known)) if len(known) else None,
        "within_m": {
            threshold_key(t): float(np.mean(known <= t)) if len(known) else None
            for t in check_thresholds(within_m)
        },
        "queries_without_error": int(len(errors) - len(known)),
    }


def as_misses(ranks) -> np.ndarray:
    """Ranks for the metrics, with -1 (the true candidate was not among the query's, as
    outside a GPS prior's circle) made a miss at every cutoff."""
    ranks = np.asarray(ranks, np.int64)
    return np.where(ranks < 0, np.iinfo(np.int64).max, ranks)


def best_errors(best, candidate_lonlat, query_lonlat) -> np.ndarray:
    """Per query, the geodesic metres from its best candidate (an index into the (N, 2)
    ``candidate_lonlat``, decimal degrees; -1: none) to its true position (``query_lonlat``
    rows); NaN where either position is unknown."""
    best = np.asarray(best, np.int64)
    out = np.full(len(best), np.nan)
    if len(best) == 0 or query_lonlat is None:
        return out
    where = np.asarray(candidate_lonlat, float).reshape(-1, 2)[np.maximum(best, 0)]
    truth = np.asarray(query_lonlat, float).reshape(-1, 2)
    known = (best >= 0) & np.isfinite(where).all(axis=1) & np.isfinite(truth).all(axis=1)
    if known.any():
        out[known] = distance_m(where[known, 0], where[known, 1], truth[known, 0], truth[known, 1])
    return out


def error_words(median_error_m, within_m) -> str:
    """ "; median error 312 m, within 1000 m 0.620" for a summary line ("" when unknown)."""
    if median_error_m is None:
        return ""
    key = "1000" if "1000" in within_m else next(iter(within_m), None)
    share = f", within {key} m {within_m[key]:.3f}" if key is not None else ""
    return f"; median error {median_error_m:.0f} m{share}"
