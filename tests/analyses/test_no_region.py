"""Rows without a region (own photos, grid, aerial before --region) are shown as "no
region" everywhere (isolate, evaluate's JSON, classify's refusal, landcover and its
figure, the explorer's /api/landcover), never "None" or "null", and are addressed as
region="" (geovec.store.regions)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.store.regions import NO_REGION, region_filter, region_key, region_label
from tests.stores import store_from_arrays

runner = CliRunner()
STEP = 480 / 111_320  # degrees of 480 m at the equator


def no_region_store(path, region=None):
    """A 3 x 3 grid of map tiles, six paired training photos near its centre and three
    isolated photos far apart over it: every row of ``region`` (None: no region)."""
    rng = np.random.default_rng(0)
    tiles = [
        ({"id": f"t{i}", "region": region, "lon": c * STEP, "lat": r * STEP, "size_m": 480.0}, v)
        for i, ((r, c), v) in enumerate(
            zip(((r, c) for r in range(3) for c in range(3)), rng.normal(size=(9, 8)))
        )
    ]
    ground, overhead = [], []
    for i in range(6):
        lon, lat = STEP + i * 1e-4, STEP
        ground.append(
            (
                {"id": f"g{i}", "region": region, "lon": lon, "lat": lat, "pair": f"o{i}"},
                rng.normal(size=8),
            )
        )
        overhead.append(
            ({"id": f"o{i}", "region": region, "lon": lon, "lat": lat}, rng.normal(size=8))
        )
    for i, (c, r) in enumerate([(0, 0), (2, 0), (0, 2)]):
        ground.append(
            (
                {"id": f"q{i}", "region": region, "lon": c * STEP, "lat": r * STEP},
                rng.normal(size=8),
            )
        )
    return store_from_arrays(path, ground, overhead, tiles)


@pytest.fixture
def db(tmp_path):
    no_region_store(tmp_path / "db")
    return tmp_path / "db"


def test_addresses_and_labels():
    assert region_label(None) == NO_REGION == "no region" and region_label("") == NO_REGION
    assert region_label("west") == "west"
    assert region_key("") is None and region_key(NO_REGION) is None and region_key("x") == "x"
    assert region_filter("") == "region IS NULL" and region_filter("it's") == "region = 'it''s'"


def test_isolate_evaluate_and_classify_say_no_region(db):
    result = runner.invoke(app, ["isolate", str(db)])
    assert result.exit_code == 0, result.output
    assert "  no region: 3 of 9" in result.output and "None" not in result.output
    result = runner.invoke(app, ["evaluate", str(db), "--feature", "gist", "--json"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["regions"]) == [NO_REGION]
    result = runner.invoke(app, ["classify", str(db)])
    assert result.exit_code == 1
    assert "found none; 9 ground images with no region" in result.output
    assert "geovec regions" in result.output and "None" not in result.output


def test_classify_leaves_rows_without_a_region_out(tmp_path):
    store = no_region_store(tmp_path / "a", region="a")
    b = no_region_store(tmp_path / "b", region="b")
    for view in ("ground", "overhead", "map"):  # region b beside a, ids apart
        rows = b.read(view).to_pylist()
        for row in rows:
            row["id"] = "b" + row["id"]
            row["lon"] += 0.5
            if row.get("pair"):
                row["pair"] = "b" + row["pair"]
        from tests.stores import add_rows

        add_rows(store, view, rows, {"gist": np.array([r.pop("gist") for r in rows], np.float32)})
    from geovec.store.regions import set_regions

    set_regions(store, "ground", ["g0", "bg0"], [None, None])
    geovec.isolate(store)
    table = geovec.classify(store, ["gist"])
    assert table.regions == ["a", "b"] and table.unassigned == 2
    assert "2 ground images with no region left out" in table.table()


def test_landcover_of_no_region(db, monkeypatch):
    store = geovec.open(db)
    result = geovec.landcover(store, "gist")
    assert result.region is None and result.as_dict()["region"] == NO_REGION
    assert geovec.landcover(store, "gist", region="").tiles == 9
    import geovec.report.results as results

    titles = []
    monkeypatch.setattr(results, "image_pair", lambda *a, **k: titles.append(k["suptitle"]))
    results.write_landcover(result, db.parent / "lc.png")
    assert titles == [NO_REGION]
    out = runner.invoke(
        app,
        [
            "landcover",
            str(db),
            "--region",
            "",
            "--feature",
            "gist",
            "--out",
            str(db.parent / "x.png"),
        ],
    )
    assert out.exit_code == 0, out.output
    assert out.output.startswith("no region: 9 tiles")


def test_explorer_landcover_of_no_region(db):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app

    with TestClient(create_app(db)) as client:
        info = client.get("/api/info").json()
        assert [r["region"] for r in info["regions"]] == [None]
        meta = client.get("/api/landcover", params={"region": "", "feature": "gist"})
        assert meta.status_code == 200, meta.text
        assert meta.json()["region"] == NO_REGION and "region=&" in meta.json()["url"]
        assert client.get(meta.json()["url"]).status_code == 200
