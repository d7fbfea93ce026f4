"""geovec.compare / geovec compare: the paper's analyses for several features at the same
places, on stores built from arrays (tests/stores.py)."""

import csv
import json

import numpy as np
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from tests.stores import add_rows

runner = CliRunner()
STEP = 480 / 111_320  # degrees of 480 m at the equator
GRID = 5  # tiles per side, per region
LATENT = 4
DIM = 16


def two_region_store(path, seed=0, extra=True):
    """Two regions (lon 0 and lon 1) of GRID x GRID 480 m tiles. ``good`` is informative:
    every image shows its tile's code through one linear map, plus a region offset, plus a
    little noise; ``noise`` is random. Each tile has one isolated test photo at its centre
    and three training photos (non-isolated, paired with an aerial image of their tile).

    With ``extra``: two more tiles per region, 1.4 km from the others, with their photos
    and pairs, that only ``good`` has (``noise`` null): "the same places" leaves them out.
    The other rows are the same with or without them."""
    rng, extra_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    lift = rng.normal(size=(LATENT, DIM)).astype(np.float32)
    both = {"ground": [], "overhead": [], "map": []}
    only_good = {"ground": [], "overhead": [], "map": []}

    def place(target, r, region, tid, lon, lat):
        code = r.normal(size=LATENT)

        def vec():
            v = code @ lift + 0.05 * r.normal(size=DIM)
            v[0] += 3.0 if region == "a" else -3.0
            return v.astype(np.float32)

        tile = {"id": tid, "region": region, "lon": lon, "lat": lat, "size_m": 480.0}
        target["map"].append((tile, vec()))
        photos = [(True, 0.0, 0.0)] + [(False, *r.uniform(-0.3, 0.3, 2) * STEP) for _ in "abc"]
        for k, (isolated, dx, dy) in enumerate(photos):
            gid = f"{tid}_{k}"
            at = {"region": region, "lon": lon + dx, "lat": lat + dy}
            g = {"id": gid, "isolated": isolated, "source": "flickr", **at}
            if not isolated:
                g["pair"] = f"o_{gid}"
                target["overhead"].append(({"id": f"o_{gid}", **at}, vec()))
            target["ground"].append((g, vec()))

    for region, lon0 in (("a", 0.0), ("b", 1.0)):
        for t in range(GRID * GRID):
            place(both, rng, region, f"{region}_t{t}", lon0 + (t % GRID) * STEP, (t // GRID) * STEP)
        for t in range(2 if extra else 0):
            place(
                only_good, extra_rng, region, f"{region}_x{t}", lon0 + (GRID + 3) * STEP, t * STEP
            )
    store = geovec.open(path)
    for view in ("ground", "overhead", "map"):
        items = both[view]
        noise = rng.normal(size=(len(items), DIM)).astype(np.float32)
        add_rows(
            store,
            view,
            [r for r, _ in items],
            {"good": np.array([v for _, v in items]), "noise": noise},
        )
        if only_good[view]:
            add_rows(
                store,
                view,
                [r for r, _ in only_good[view]],
                {"good": np.array([v for _, v in only_good[view]])},
            )
    return store


def test_compare_ranks_the_informative_feature_first(tmp_path):
    store = two_region_store(tmp_path / "db", extra=False)
    result = geovec.compare(store, ["noise", "good"], neighbors=3)
    rows = {r["feature"]: r for r in result.rows()}
    assert rows["good"]["dim"] == DIM and result.skipped == []
    for metric in ("classify_accuracy", "top_1_percent", "area_under_curve", "landcover_pca3"):
        assert rows["good"][metric] > rows["noise"][metric] + 0.2, metric
    assert rows["good"]["classify_accuracy"] > 0.95 and rows["good"]["area_under_curve"] > 0.9
    assert 0.3 < rows["noise"]["area_under_curve"] < 0.7  # chance: 0.5
    assert result.crossview["protocol"] == "map" and result.crossview["queries"] == 2 * GRID**2
    assert result.crossview["candidates"] == 2 * GRID**2
    assert result.classify["test"] == 2 * GRID**2
    assert set(result.landcover["features"]["good"]["regions"]) == {"a", "b"}
    chance = result.chance()
    assert chance["classify_accuracy"] == 0.5
    assert chance["area_under_curve"] == result.crossview["chance_area_under_curve"]
    assert 0.3 < chance["area_under_curve"] <= 0.5
    text = result.table()
    assert text.splitlines()[0].split()[:3] == ["feature", "dim", "accuracy"]
    assert "(chance)" in text and "ground 200 of 200" in text


def test_same_places_is_the_intersection_of_ids(tmp_path):
    """Rows that only ``good`` holds (two isolated photos, a training pair and two tiles per
    region) are left out of every analysis, for ``good`` too: both features are scored on
    the same queries, candidates, test photos and PCA tiles, and the counts say so."""
    store = two_region_store(tmp_path / "db", extra=True)
    result = geovec.compare(store, ["good", "noise"], neighbors=3)
    n_tiles = 2 * GRID**2
    assert result.counts["map"] == {
        "rows": n_tiles + 4,
        "with_all": n_tiles,
        "per_feature": {"good": n_tiles + 4, "noise": n_tiles},
    }
    assert result.counts["ground"]["with_all"] == 4 * n_tiles
    assert result.counts["ground"]["per_feature"]["good"] == 4 * n_tiles + 16
    assert result.crossview["queries"] == n_tiles and result.crossview["candidates"] == n_tiles
    assert result.classify["test"] == n_tiles
    assert result.landcover["regions"] == {"a": GRID**2, "b": GRID**2}
    # on its own, good would be scored on more places: compare did restrict it
    alone = geovec.evaluate(store, "good", neighbors=3)
    assert alone.queries == n_tiles + 4 and alone.candidates == n_tiles + 4
    # and good's numbers are those of a store that holds only the shared rows
    shared = geovec.compare(
        two_region_store(tmp_path / "shared", extra=False), ["good"], neighbors=3
    )
    assert result.rows()[0] == shared.rows()[0]


def test_skipped_analyses_are_said(tmp_path):
    """A pair-only store of one region (no positions, no map view): classification and
    land cover are skipped with their reasons, cross-view runs the pairs protocol."""
    rng = np.random.default_rng(1)
    codes = np.tile(rng.normal(size=(20, DIM)), (2, 1))  # 20 places, a test and a train pair
    split = ["test"] * 20 + ["train"] * 20
    ground = [
        {"id": f"g{i}", "region": "cvusa", "lon": None, "lat": None, "pair": f"o{i}", "split": s}
        for i, s in enumerate(split)
    ]
    overhead = [
        {"id": f"o{i}", "region": "cvusa", "lon": None, "lat": None, "split": s}
        for i, s in enumerate(split)
    ]
    store = geovec.open(tmp_path / "db")

    def noisy():
        return (codes + 0.05 * rng.normal(size=codes.shape)).astype(np.float32)

    add_rows(store, "ground", ground, {"good": noisy(), "noise": rng.normal(size=codes.shape)})
    add_rows(store, "overhead", overhead, {"good": noisy(), "noise": rng.normal(size=codes.shape)})
    result = geovec.compare(store, "good,noise", neighbors=1)
    assert result.crossview["protocol"] == "pairs" and result.crossview["queries"] == 20
    rows = {r["feature"]: r for r in result.rows()}
    assert rows["good"]["recall_1"] > 0.9 > rows["noise"]["recall_1"]
    assert rows["good"]["classify_accuracy"] is None and rows["good"]["landcover_pca3"] is None
    line = result.skipped_line()
    assert "classify (one region (cvusa)" in line and "landcover (no map view" in line

    args = ["compare", str(tmp_path / "db"), "--features", "good,noise", "--neighbors", "1"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "skipped: classify (one region" in out.output and "pairs protocol" in out.output


def test_cli_table_json_and_files(tmp_path):
    two_region_store(tmp_path / "db", extra=False)
    db = str(tmp_path / "db")
    out = runner.invoke(
        app,
        [
            "compare",
            db,
            "--features",
            "good,noise",
            "--neighbors",
            "3",
            "--json",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [r["feature"] for r in data["rows"]] == ["good", "noise"]
    assert data["rows"][0]["top_1_percent"] > data["rows"][1]["top_1_percent"]
    saved = json.loads((tmp_path / "o" / "compare.json").read_text())
    assert saved["rows"] == data["rows"]
    with open(tmp_path / "o" / "compare.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["feature"] for r in table] == ["good", "noise", "(chance)"]
    assert float(table[0]["area_under_curve"]) == data["rows"][0]["area_under_curve"]
    from PIL import Image

    with Image.open(tmp_path / "o" / "compare.png") as img:
        pixels = np.asarray(img.convert("L"))
    assert pixels.shape[1] > 300 and pixels.std() > 10  # drawn, not blank

    text = runner.invoke(app, ["compare", db, "--features", "good,noise"])
    assert text.exit_code == 0 and "(chance)" in text.output and "good" in text.output


def test_cli_user_errors_are_one_line(tmp_path):
    two_region_store(tmp_path / "db", extra=False)
    out = runner.invoke(app, ["compare", str(tmp_path / "db"), "--features", "good,clip"])
    assert out.exit_code == 1 and "no view has a feature 'clip'" in out.output
    assert len(out.output.strip().splitlines()) == 1
    missing = runner.invoke(app, ["compare", str(tmp_path / "none"), "--features", "good"])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_a_feature_one_view_lacks_is_skipped_where_that_view_is_needed(tmp_path):
    """``ground_only`` (as a published set of photo embeddings would be) is compared on
    region classification, and skipped, with its reason, for cross-view and land cover."""
    import pyarrow as pa

    from geovec.store.schema import feature_field, vectors_to_arrow

    store = two_region_store(tmp_path / "db", extra=False)
    ids, good = store.vectors("ground", "good")
    store.ensure_features("ground", [feature_field("ground_only", DIM)])
    store.update_columns(
        "ground", pa.table({"id": ids, "ground_only": vectors_to_arrow(good[:, ::-1])})
    )
    result = geovec.compare(store, ["good", "ground_only"], neighbors=3)
    rows = {r["feature"]: r for r in result.rows()}
    assert rows["ground_only"]["classify_accuracy"] > 0.9
    assert rows["ground_only"]["top_1_percent"] is None
    assert rows["ground_only"]["landcover_pca3"] is None
    assert rows["good"]["top_1_percent"] == 1.0 and rows["good"]["landcover_pca3"] > 0.5
    line = result.skipped_line()
    assert "crossview for ground_only (ground_only: no ground_only in overhead or map)" in line
    assert "landcover for ground_only (ground_only: no ground_only in map)" in line
    assert result.counts["map"]["per_feature"] == {"good": 2 * GRID**2}


def test_classify_skipped_for_rows_with_no_region_says_so(tmp_path):
    """Photos of your own, not named yet: 'no region' and the command that names them,
    never 'one region (none)'."""
    rng = np.random.default_rng(2)
    ground = [{"id": f"g{i}", "lon": 0.01 * i, "lat": 0.0} for i in range(4)]
    store = geovec.open(tmp_path / "db")
    add_rows(store, "ground", ground, {"good": rng.normal(size=(4, DIM)).astype(np.float32)})
    line = geovec.compare(store, "good").skipped_line()
    assert "classify (no named region: nothing to tell apart; 4 ground images with no " in line
    assert f"geovec regions {store.path} --from" in line and "(none)" not in line
