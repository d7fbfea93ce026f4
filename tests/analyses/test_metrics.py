import numpy as np
import pytest

from geovec.analyses.metrics import localisation_curve, recall_at, top_one_percent


def test_curve_top1_and_recall():
    ranks = np.array([0, 0, 3, 50, 99])
    curve = localisation_curve(ranks, 100)
    values = [v for _, v in curve]
    assert values == sorted(values) and values[-1] == 1.0 and curve[0] == [0.0, 0.0]
    assert dict(map(tuple, curve))[1.0] == pytest.approx(0.4)  # ranks 0, 0 within the top 1 %
    assert top_one_percent(ranks, 100) == pytest.approx(0.4)
    assert top_one_percent(np.array([0, 1, 3, 4, 9]), 400) == pytest.approx(0.6)  # rank < 4
    assert recall_at(ranks) == {"1": 0.4, "5": 0.6, "10": 0.6}
