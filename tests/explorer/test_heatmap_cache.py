"""Heatmaps read only their region's vectors, once per store version: a second region's
rows are never read for a click in the first (an infinite value there does not stop it), many clicks
load the region once, a write starts afresh, and the answers are localize's own."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from geovec.analyses.localize import localize
from geovec.analyses.region_data import load_region_data
from geovec.errors import NonFiniteFeatureError
from geovec.explorer.heatmap_cache import HeatmapCache
from tests.stores import add_rows, store_from_arrays

STEP = 480 / 111_320  # degrees of longitude for 480 m at the equator


def region_rows(region: str, lon0: float, rng):
    """Four 480 m tiles east of lon0, six training pairs, three isolated queries inside
    tiles 1 to 3; 2-value features."""
    tiles = [
        ({"id": f"{region}t{i}", "region": region, "lon": lon0 + i * STEP, "lat": 0.0,
          "size_m": 480.0}, [float(i), 0.0])
        for i in range(4)
    ]  # fmt: skip
    ground, overhead = [], []
    for i in range(6):
        lon = lon0 + (i % 4) * STEP + 0.0005
        ground.append(
            ({"id": f"{region}g{i}", "region": region, "lon": lon, "lat": 0.001,
              "isolated": False, "pair": f"{region}o{i}"}, list(rng.normal(size=2)))
        )  # fmt: skip
        overhead.append(
            ({"id": f"{region}o{i}", "region": region, "lon": lon, "lat": 0.001},
             [float(i % 4), 0.0])
        )  # fmt: skip
    for i in range(1, 4):
        ground.append(
            ({"id": f"{region}q{i}", "region": region, "lon": lon0 + i * STEP, "lat": -0.0005,
              "isolated": True}, list(rng.normal(size=2)))
        )  # fmt: skip
    return ground, overhead, tiles


@pytest.fixture
def two_regions(tmp_path):
    """Regions a (near 0, 0) and b (near 10, 0)."""
    rng = np.random.default_rng(0)
    a, b = region_rows("a", 0.0, rng), region_rows("b", 10.0, rng)
    return store_from_arrays(tmp_path / "db", a[0] + b[0], a[1] + b[1], a[2] + b[2])


def test_a_click_reads_only_its_regions_vectors(two_regions):
    store = two_regions
    bad = {"id": "bbad", "region": "b", "lon": 10.0, "lat": 0.0, "isolated": False}
    add_rows(store, "ground", [bad], {"gist": np.array([[np.inf, 0.0]], np.float32)})
    with pytest.raises(NonFiniteFeatureError):  # the whole store is read: b's infinity stops it
        load_region_data(store, "gist")
    (data,) = load_region_data(store, "gist", "a")
    assert data.region == "a" and sorted(data.train_ids) == [f"ag{i}" for i in range(6)]
    assert len(data.tile_ids) == 4 and data.train_lonlat.shape == (6, 2)
    found = HeatmapCache(store).localize("aq2", "gist", 3)
    assert found.region == "a" and found.true_tile == "at2"


def test_region_inputs_are_loaded_once_per_store_version(two_regions):
    store = two_regions
    cache = HeatmapCache(store)
    for ident in ("aq1", "aq2", "aq3", "ag0", "ag4"):  # isolated photos and training ones
        found = cache.localize(ident, "gist", 3)
        plain = localize(store, "gist", id=ident, neighbors=3)
        np.testing.assert_allclose(found.scores, plain.scores)
        assert (found.true_rank, found.left_out) == (plain.true_rank, plain.left_out)
    assert cache.loads == 1
    cache.localize("bq1", "gist", 3)
    assert cache.loads == 2
    new = {"id": "ag9", "region": "a", "lon": 0.001, "lat": 0.001, "isolated": False}
    add_rows(store, "ground", [new], {"gist": np.zeros((1, 2), np.float32)})
    cache.localize("aq1", "gist", 3)
    assert cache.loads == 3  # the ground table changed: read again


def test_an_answer_is_computed_once_per_version(two_regions):
    store = two_regions
    cache = HeatmapCache(store)
    computed = []
    barrier = threading.Barrier(6)

    def compute(version):
        assert version == cache.version()
        computed.append(1)
        return {"tiles": {"features": []}, "n": len(computed)}

    def ask(_):
        barrier.wait()
        return cache.answer(("aq1", "gist", 30), compute)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(ask, range(6)))
    assert len(computed) == 1 and all(a is answers[0] for a in answers)
    assert cache.answer(("aq1", "gist", 31), compute)["n"] == 2  # other neighbours
    new = {"id": "x", "region": "a", "lon": 0.5, "lat": 0.5}
    add_rows(store, "overhead", [new], {"gist": np.zeros((1, 2), np.float32)})
    assert cache.answer(("aq1", "gist", 30), compute)["n"] == 3  # a new store version
