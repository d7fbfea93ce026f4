import numpy as np
import pytest

from geovec.errors import GeovecError
from geovec.features.indoor import category_io, indoor_mask

LABELS = ["/k/kitchen", "/c/coast", "/b/bayou", "/m/museum/indoor", "/c/church/outdoor", "/z/zzz"]


def test_categories():
    assert [category_io(n) for n in LABELS] == [1, 2, 2, 1, 2, None]


def test_mask_from_probabilities():
    prob = np.eye(6)[[0, 1, 3, 5, 2]] * 0.9 + 0.01
    assert indoor_mask(prob, LABELS).tolist() == [True, False, True, False, False]


def test_needs_labels():
    with pytest.raises(GeovecError, match="--labels"):
        indoor_mask(np.ones((1, 205)), None)
