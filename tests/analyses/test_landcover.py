import json

import numpy as np
import pytest
from typer.testing import CliRunner

from geovec.analyses.interpolate import natural_neighbour, sibson_weights
from geovec.analyses.landcover import landcover, pca
from geovec.cli import app
from geovec.errors import GeovecError
from tests.stores import store_from_arrays


def test_pca_matches_numpy_svd():
    x = np.random.default_rng(0).normal(size=(50, 8)) @ np.diag([5, 3, 2, 1, 1, 0.5, 0.2, 0.1])
    scores, ratio = pca(x)
    centred = x - x.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(scores), np.abs(u[:, :3] * s[:3]), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ratio, s[:3] ** 2 / (s**2).sum(), rtol=1e-4)


def test_sibson_reproduces_linear_field_inside_hull():
    rng = np.random.default_rng(1)
    sites = rng.uniform(0, 1000, (60, 2))
    values = sites @ np.array([0.3, -1.2]) + 7
    points = rng.uniform(250, 750, (80, 2))
    got = natural_neighbour(sites, values, points)[:, 0]
    np.testing.assert_allclose(got, points @ np.array([0.3, -1.2]) + 7, rtol=1e-9, atol=1e-6)


def test_sibson_is_not_nearest_neighbour_and_weights_sum_to_one():
    sites = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], float)
    ((idx, w),) = sibson_weights(sites, np.array([[0.5, 0.5]]))
    np.testing.assert_allclose(sorted(w), [0.25] * 4)
    assert sibson_weights(sites, np.array([[5.0, 5.0]]))[0] == (None, None)


def tile_store(tmp_path):
    rng = np.random.default_rng(2)
    rows, truth = [], ["id,landcover"]
    for i in range(8):
        for j in range(8):
            cls = "water" if i < 4 else "urban"
            vec = rng.normal(size=16) + (5 if cls == "water" else -5) * np.eye(16)[0]
            ident = f"t{i}_{j}"
            rows.append(
                (
                    {
                        "id": ident,
                        "region": "r",
                        "lon": 0.005 * j,
                        "lat": -0.005 * i,
                        "size_m": 480.0,
                    },
                    vec,
                )
            )
            truth.append(f"{ident},{cls}")
    (tmp_path / "truth.csv").write_text("\n".join(truth))
    return store_from_arrays(tmp_path / "db", [], [], rows)


def test_landcover_separates_known_classes(tmp_path):
    store = tile_store(tmp_path)
    result = landcover(store, feature="gist", truth=tmp_path / "truth.csv", pixels_per_tile=3)
    assert result.image.shape[2] == 3 and 0 <= result.image.min() and result.image.max() <= 1
    assert result.class_accuracy > 0.9 and result.chance == 0.5
    assert result.explained_variance[0] > result.explained_variance[1]


def test_cli_landcover(tmp_path):
    tile_store(tmp_path)
    out = tmp_path / "lc.png"
    result = CliRunner().invoke(
        app,
        [
            "landcover",
            str(tmp_path / "db"),
            "--feature",
            "gist",
            "--out",
            str(out),
            "--truth",
            str(tmp_path / "truth.csv"),
            "--pixels-per-tile",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tiles"] == 64 and out.stat().st_size > 1000
    missing = CliRunner().invoke(app, ["landcover", str(tmp_path / "db"), "--out", str(out)])
    assert missing.exit_code == 1 and "geovec extract" in missing.output


@pytest.mark.parametrize("n", [3])
def test_too_few_tiles(tmp_path, n):
    rows = [
        ({"id": f"t{i}", "region": "r", "lon": i * 0.01, "lat": 0.0}, [float(i), 0.0])
        for i in range(n)
    ]
    store = store_from_arrays(tmp_path / "db", [], [], rows)
    with pytest.raises(GeovecError, match="has 3 map tiles; PCA needs at least 4"):
        landcover(store, feature="gist")


def test_a_region_the_tiles_lack_lists_theirs(tmp_path):
    rows = [
        ({"id": f"t{i}", "region": "r", "lon": i * 0.01, "lat": 0.0}, [float(i), 0.0, 1.0])
        for i in range(4)
    ]
    store = store_from_arrays(tmp_path / "db", [], [], rows)
    with pytest.raises(GeovecError, match="no map tile is in region 'typo'; the tiles' regions: r"):
        landcover(store, feature="gist", region="typo")
    with pytest.raises(GeovecError, match="regions: r"):
        landcover(store, feature="gist", region="")  # the tiles with no region: none here
