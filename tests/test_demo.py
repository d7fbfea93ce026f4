import json

import pytest
from scipy.stats import binom
from typer.testing import CliRunner

from geovec.cli import app
from geovec.demo import run_demo


@pytest.mark.slow
def test_demo_end_to_end_and_rerun(tmp_path):
    """The README's first command at its default size (about 4 minutes on 2 cores): every
    step runs, and the paper's phenomena show up in the synthetic world, measured."""
    lines = []
    result = run_demo(tmp_path / "demo", say=lines.append)
    said = "\n".join(lines)
    assert result.report.exists() and "no converted CNN weights" in said
    numbers = json.loads((tmp_path / "demo" / "results.json").read_text())
    cross = numbers["crossview"][0]
    assert cross["feature"] == "gist" and cross["neighbors"] == 30 and "area under curve" in said
    # GIST cross-view top-1% clearly above chance: that many localised queries would happen
    # by chance (random ranking localises each with probability `chance`) less than 1 in 20
    queries, chance = cross["queries"], cross["chance_top_1_percent"]
    hits = round(cross["top_1_percent"] * queries)
    assert queries >= 30 and binom.sf(hits - 1, queries, chance) < 0.05, (hits, queries, chance)
    assert cross["area_under_curve"] > 0.6  # random ranking: 0.5
    classify = numbers["classify"]
    assert classify["results"][0]["accuracy"] > classify["chance"]
    assert all(lc["class_accuracy"] > lc["chance"] for lc in numbers["landcover"])
    html = result.report.read_text()
    for figure in ("curve.png", "landcover_charleston.png", "search.png", "classify_gist.png"):
        assert figure in html and (tmp_path / "demo" / "figures" / figure).exists()
    again = CliRunner().invoke(app, ["demo", str(tmp_path / "demo")], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "reused" in again.output and "ingested 0" in again.output
