import json

import numpy as np
from typer.testing import CliRunner

from geovec.analyses.classify import classify
from geovec.cli import app
from tests.stores import store_from_arrays


def region_store(tmp_path, shift=3.0):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(120):
        region = "a" if i % 2 else "b"
        vec = rng.normal(size=8) + (shift if region == "a" else -shift) * np.eye(8)[1]
        rows.append(
            (
                {
                    "id": f"g{i}",
                    "region": region,
                    "lon": i * 0.01,
                    "lat": 0.0,
                    "isolated": i % 5 == 0,
                },
                vec,
            )
        )
    return store_from_arrays(tmp_path / "db", rows, [], [])


def test_separable_regions_are_classified(tmp_path):
    result = classify(region_store(tmp_path), ["gist"], train_per_region=30)
    r = result.results[0]
    assert r.accuracy > 0.9 and r.train == 60 and r.test == 24
    assert set(r.typical) == {"a", "b"} and len(r.ambiguous) == 6


def test_noise_is_near_chance(tmp_path):
    result = classify(region_store(tmp_path, shift=0.0), ["gist"])
    assert result.results[0].accuracy < 0.8


def test_cli_classify(tmp_path):
    region_store(tmp_path)
    result = CliRunner().invoke(app, ["classify", str(tmp_path / "db"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"][0]["feature"] == "gist"
    table = CliRunner().invoke(app, ["classify", str(tmp_path / "db")])
    assert "gist" in table.output and "chance" in table.output
