import numpy as np
import pytest
from pyproj import Geod
from typer.testing import CliRunner

from geovec.analyses.isolation import isolate
from geovec.cli import app
from tests.stores import store_from_arrays

GEOD = Geod(ellps="WGS84")


def random_ground(tmp_path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform([-80.0, 32.7], [-79.9, 32.8], (8, 2))
    pts = np.concatenate(
        [
            centres[rng.integers(0, 8, n // 2)] + rng.normal(0, 0.002, (n // 2, 2)),
            rng.uniform([-80.0, 32.7], [-79.9, 32.8], (n - n // 2, 2)),
        ]
    )
    rows = [
        ({"id": f"g{i}", "region": "r", "lon": lo, "lat": la}, [0.0])
        for i, (lo, la) in enumerate(pts)
    ]
    return store_from_arrays(tmp_path / "db", rows, [], []), pts


@pytest.mark.parametrize("radius", [150.0, 400.0])
def test_isolation_matches_brute_force(tmp_path, radius):
    store, pts = random_ground(tmp_path)
    result = isolate(store, radius_m=radius)
    n = len(pts)
    a, b = np.meshgrid(np.arange(n), np.arange(n))
    d = GEOD.inv(pts[a.ravel(), 0], pts[a.ravel(), 1], pts[b.ravel(), 0], pts[b.ravel(), 1])[
        2
    ].reshape(n, n)
    np.fill_diagonal(d, np.inf)
    expected = {f"g{i}" for i in range(n) if d[i].min() > radius}
    got = {r["id"] for r in store.read("ground", ["id", "isolated"]).to_pylist() if r["isolated"]}
    assert got == expected
    assert result.isolated == len(expected) and 0 < len(expected) < n
    splits = {r["id"]: r["split"] for r in store.read("ground", ["id", "split"]).to_pylist()}
    assert all(splits[i] == "test" for i in expected) and list(splits.values()).count(
        "train"
    ) == n - len(expected)


def test_cli_isolate_json(tmp_path):
    import json

    random_ground(tmp_path, n=60)
    result = CliRunner().invoke(
        app, ["isolate", str(tmp_path / "db"), "--radius-m", "300", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 60 and data["radius_m"] == 300


def test_bad_radius(tmp_path):
    random_ground(tmp_path, n=10)
    result = CliRunner().invoke(app, ["isolate", str(tmp_path / "db"), "--radius-m", "-5"])
    assert result.exit_code == 1 and "positive" in result.output


def test_isolate_links_a_store_of_an_older_geovec(tmp_path):
    """Stores made before ground.pair was the one link paired by equal ids: isolate (the
    step before every analysis) writes the link down, so the protocols find the pairs."""
    ground = [
        ({"id": f"g{i}", "region": "r", "lon": 10 + i / 100, "lat": 0.0}, [0.0]) for i in range(3)
    ]
    overhead = [
        ({"id": f"g{i}", "region": "r", "lon": 10 + i / 100, "lat": 0.0}, [0.0]) for i in range(2)
    ]
    store = store_from_arrays(tmp_path / "db", ground, overhead, [])
    isolate(store, radius_m=250.0)
    pairs = store.sql("select id, pair from ground order by id").fetchall()
    assert pairs == [("g0", "g0"), ("g1", "g1"), ("g2", None)]


def test_isolate_a_store_with_an_image_stored_twice(tmp_path):
    """Concurrent ingests of an older geovec could store an image twice: isolate treats the
    copies as one image (the merge would refuse a source with a repeated id)."""
    rows = [
        ({"id": "g0", "region": "r", "lon": 10.0, "lat": 0.0}, [0.0]),
        ({"id": "g1", "region": "r", "lon": 11.0, "lat": 0.0}, [0.0]),
    ]
    store = store_from_arrays(tmp_path / "db", rows, [], [])
    table = store.read("ground")
    store.table("ground").add(table.slice(1, 1))  # g1 again, past the id check of append
    result = isolate(store, radius_m=250.0)
    flags = store.sql("select id, isolated from ground order by id").fetchall()
    assert flags == [("g0", True), ("g1", False), ("g1", False)]
    assert result.total == 2
