import json

from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.crossview import evaluate
from geovec.demo import run_demo


def test_demo_end_to_end_and_rerun(tmp_path):
    lines = []
    result = run_demo(tmp_path / "demo", say=lines.append, ground=40, extent_km=4.0)
    assert result.report.exists() and "no converted CNN weights" in "\n".join(lines)
    numbers = json.loads((tmp_path / "demo" / "results.json").read_text())
    cross = numbers["crossview"][0]
    assert cross["feature"] == "gist" and cross["queries"] > 0
    # GIST localises better than chance: the area under the localisation curve (1 - the mean
    # fraction of candidates to retrieve) is above the 0.5 of random ranking
    localised = evaluate(geovec.open(tmp_path / "demo" / "db"), "gist", neighbors=5)
    assert localised.queries >= 4 and localised.area_under_curve > 0.6
    assert cross["chance_top_1_percent"] > 0 and "area under curve" in "\n".join(lines)
    assert 0 <= numbers["classify"]["results"][0]["accuracy"] <= 1
    assert all(lc["class_accuracy"] > lc["chance"] for lc in numbers["landcover"])
    html = result.report.read_text()
    for figure in ("curve.png", "landcover_charleston.png", "search.png", "classify_gist.png"):
        assert figure in html and (tmp_path / "demo" / "figures" / figure).exists()
    args = ["demo", str(tmp_path / "demo"), "--ground", "40", "--extent-km", "4"]
    again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "reused" in again.output and "ingested 0" in again.output
