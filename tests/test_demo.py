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
    # the learned head, trained on the pairs but never on the test images nor near them:
    # its area under the curve for random ranks would be 0.5 +- 0.04 (52 queries), so
    # above 0.62 it ranks far better than chance (3 standard deviations)
    learned = next(c for c in numbers["crossview"] if c["method"] == "learned")
    assert learned["feature"] == "gist_head" and learned["queries"] == queries
    assert learned["area_under_curve"] > 0.62, learned["area_under_curve"]
    assert numbers["head"]["excluded"] == {"isolated": numbers["isolation"]["isolated"]}
    assert "trained gist_head on" in said
    classify = numbers["classify"]
    assert classify["results"][0]["accuracy"] > classify["chance"]
    assert all(lc["class_accuracy"] > lc["chance"] for lc in numbers["landcover"])
    # the per-region breakdown (evaluate --by the regions' outlines): every query in its region
    assert list(cross["by"]) == ["charleston", "sanfrancisco"]
    assert sum(m["queries"] for m in cross["by"].values()) == queries
    assert cross["by"]["charleston"]["queries"] == cross["regions"]["charleston"]["queries"]
    html = result.report.read_text()
    assert "<h3>Per region</h3>" in html and "geovec evaluate --by regions.geojson" in html
    for figure in ("curve.png", "landcover_charleston.png", "search.png", "classify_gist.png"):
        assert figure in html and (tmp_path / "demo" / "figures" / figure).exists()
    for figure in ("overview_charleston.png", "coverage.png", "examples.png", "compare.png"):
        assert figure in html and (tmp_path / "demo" / "figures" / figure).exists()
    side = numbers["compare"]
    assert [r["feature"] for r in side["rows"]] == result.features and not side["skipped"]
    # every row holds every demo feature: the same places are all of them
    assert side["counts"]["ground"]["with_all"] == side["counts"]["ground"]["rows"]
    assert side["crossview"]["queries"] == queries
    assert abs(side["rows"][0]["area_under_curve"] - cross["area_under_curve"]) < 0.01
    again = CliRunner().invoke(app, ["demo", str(tmp_path / "demo")], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "reused" in again.output and "ingested 0" in again.output
