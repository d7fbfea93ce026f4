import csv
import hashlib

import numpy as np
import pytest
from PIL import Image

from geovec.geo.ortho import Orthophoto
from geovec.ingestion.sources import read_source
from geovec.synthetic.build import synth
from geovec.synthetic.regions import CLASSES


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("w") / "world", seed=3, ground=12, extent_km=2.5)


def digest(folder):
    h = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix in (".csv", ".png", ".jpg")
    ):
        h.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def test_deterministic_per_seed(tiny_world, tmp_path):
    again = synth(tmp_path / "again", seed=3, ground=12, extent_km=2.5, workers=1)
    assert digest(again.directory) == digest(tiny_world.directory)
    other = synth(tmp_path / "other", seed=4, ground=12, extent_km=2.5, workers=1)
    assert digest(other.directory) != digest(tiny_world.directory)


def test_rerun_reuses(tiny_world):
    assert synth(tiny_world.directory, seed=3, ground=12, extent_km=2.5).reused


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
    if "water" in stats and "urban" in stats:
        assert np.mean(stats["water"]) > np.mean(stats["urban"]) + 20


def test_landcover_raster_is_georeferenced(tiny_world):
    png = tiny_world.directory / "charleston" / "landcover.png"
    ortho = Orthophoto.open(png)
    cover = np.load(png.with_suffix(".npy"))
    h, w = cover.shape
    centre = ortho.affine @ np.array([w / 2, h / 2, 1.0])
    assert np.abs(centre).max() < 20  # the raster is centred on the region's origin
