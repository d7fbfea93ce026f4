import csv
import hashlib

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from geovec.cli import app
from geovec.geo.ortho import Orthophoto
from geovec.ingestion.sources import read_source
from geovec.synthetic.build import synth
from geovec.synthetic.regions import CLASSES
from tests.doctest_world import TINY_WORLD

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_world(tiny_world_store):
    """The session's tiny world (tests/doctest_world.py), built once for every test."""
    return tiny_world_store["demo_world"]


SMALLEST = {"ground": 4, "extent_km": 1.0, "workers": 1}


def digest(folder):
    h = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix in (".csv", ".png", ".jpg")
    ):
        h.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def test_plan_is_deterministic_per_seed(tmp_path):
    """The same seed plans the same images at the same places (and different seeds not);
    rendering is a function of the plan (see test_cli_synth_equals_the_library)."""
    from geovec.synthetic.plan import plan_region
    from geovec.synthetic.regions import REGIONS

    style = REGIONS["charleston"]
    one, two, other = (
        plan_region(tmp_path / name, 0, style, seed=seed, ground=6, extent_km=1.0)
        for name, seed in (("one", 3), ("two", 3), ("other", 4))
    )

    def jobs(plan):
        return [(j.kind, j.x, j.y, j.heading, j.size, j.seed) for j, _ in plan.jobs]

    assert jobs(one) == jobs(two) and one.manifest == two.manifest and one.truth == two.truth
    assert (one.world.cover == two.world.cover).all()
    assert jobs(one) != jobs(other)


@pytest.mark.slow
def test_deterministic_per_seed(tmp_path):
    first = synth(tmp_path / "first", seed=3, **SMALLEST)
    again = synth(tmp_path / "again", seed=3, **SMALLEST)
    assert digest(again.directory) == digest(first.directory)
    other = synth(tmp_path / "other", seed=4, **SMALLEST)
    assert digest(other.directory) != digest(first.directory)


def test_rerun_reuses(tiny_world):
    assert synth(tiny_world.directory, **TINY_WORLD).reused


def test_cli_synth_equals_the_library(tmp_path):
    """geovec synth writes, byte for byte, the world that synth() writes for the same
    settings (with another number of worker processes): rendering is deterministic."""
    args = ["synth", str(tmp_path / "cli"), "--seed", "5", "--ground", "4", "--extent-km", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    world = synth(tmp_path / "api", seed=5, ground=4, extent_km=1.0, workers=1)
    assert digest(tmp_path / "cli") == digest(world.directory)
    assert f"wrote {world.ground} ground, {world.overhead} overhead" in result.output
    again = runner.invoke(app, args)
    assert f"reused {world.ground} ground" in again.output
    bad = runner.invoke(app, ["synth", str(tmp_path / "x"), "--extent-km", "0.1"])
    assert bad.exit_code == 1 and "extent_km must be between 1 and 50 km" in bad.output


def test_manifest_validates(tiny_world):
    records, failures = read_source(tiny_world.manifest)
    assert failures == []
    views = {v: sum(r.view == v for r in records) for v in ("ground", "overhead", "map")}
    assert views == {
        "ground": tiny_world.ground,
        "overhead": tiny_world.overhead,
        "map": tiny_world.tiles,
    }
    assert views["ground"] >= 24 and views["map"] >= 2 * 9
    sizes = {Image.open(r.path).size for r in records if "_h" in r.id and r.view == "ground"}
    assert sizes == {(800, 600)}  # panorama cutouts
    assert {r.region for r in records} == {"charleston", "sanfrancisco"}


def test_every_ground_image_names_its_aerial_in_pair(tiny_world):
    """ground.pair, the one link, is filled by the world itself: each ground row names its
    aerial, and each aerial names the ground image it is centred on."""
    records, _ = read_source(tiny_world.manifest)
    ground = {r.id: r for r in records if r.view == "ground"}
    overhead = {r.id: r for r in records if r.view == "overhead"}
    assert all(g.pair in overhead for g in ground.values())
    assert all(ground[o.pair].pair == o.id for o in overhead.values())


def test_truth_matches_rendered_content(tiny_world):
    truth = list(csv.DictReader(open(tiny_world.truth)))
    assert {t["landcover"] for t in truth} <= set(CLASSES)
    tiles = {t["id"]: t["landcover"] for t in truth if t["view"] == "map"}
    stats = {}
    for ident, cls in tiles.items():
        region = ident.split("_t")[0]
        img = np.asarray(
            Image.open(tiny_world.directory / region / "tiles" / f"{ident}.png"), float
        )
        stats.setdefault(cls, []).append((img[..., 2] - img[..., 0]).mean())  # blueness
    assert {"water", "urban"} <= set(stats), sorted(stats)
    assert np.mean(stats["water"]) > np.mean(stats["urban"]) + 20


def test_landcover_raster_is_georeferenced(tiny_world):
    png = tiny_world.directory / "charleston" / "landcover.png"
    ortho = Orthophoto.open(png)
    cover = np.load(png.with_suffix(".npy"))
    h, w = cover.shape
    centre = ortho.affine @ np.array([w / 2, h / 2, 1.0])
    assert np.abs(centre).max() < 20  # the raster is centred on the region's origin
