"""The README's own-imagery walk-through ("## Your own imagery"), its commands run as written
through the CLI on a folder of geotagged photos, a GeoTIFF and a districts layer made
here: it ends with named regions, a classification table and a land-cover figure titled
by its region."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from tests import aerial_files
from tests.images import write_gps_jpeg

README = Path(__file__).resolve().parent.parent / "README.md"
runner = CliRunner()

WEST = (-79.947, 32.780)  # each region: four photos within 60 m, two isolated ones
EAST = (-79.933, 32.780)
ISOLATED = {
    WEST: [(-79.952, 32.7775), (-79.943, 32.7825)],
    EAST: [(-79.928, 32.7775), (-79.937, 32.7825)],
}


def walkthrough() -> list[str]:
    """The commands of the section's first block: comments dropped, ``&&`` split."""
    section = README.read_text().split("## Your own imagery", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    commands = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands


def make_inputs(folder: Path) -> None:
    """ortho.tif (UTM, 3 m pixels, over the README's bbox and 500 m more), photos/ and
    districts.geojson (west and east of -79.94)."""
    from pyproj import Transformer
    from rasterio.transform import from_origin

    to_utm = Transformer.from_crs("EPSG:4326", aerial_files.UTM, always_xy=True)
    (x0, x1), (y0, y1) = (
        np.array(v) for v in to_utm.transform([-79.955, -79.925], [32.775, 32.785])
    )
    left, top = float(x0.min()) - 500, float(y1.max()) + 500
    width, height = int((x1.max() + 500 - left) / 3), int((top - y0.min() + 500) / 3)
    rng = np.random.default_rng(0)
    pixels = np.repeat(
        np.repeat(rng.integers(0, 256, (height // 20 + 1, width // 20 + 1, 3)), 20, 0), 20, 1
    )
    aerial_files.write_geotiff(
        folder / "ortho.tif",
        pixels[:height, :width].astype(np.uint8),
        from_origin(left, top, 3.0, 3.0),
        aerial_files.UTM,
        compress="deflate",
    )
    photos = folder / "photos"
    photos.mkdir()
    n = 0
    for (lon, lat), alone in ISOLATED.items():
        for i in range(4):
            write_gps_jpeg(photos / f"p{n:02d}.jpg", lon + i * 2e-4, lat + (i % 2) * 2e-4, seed=n)
            n += 1
        for lon_i, lat_i in alone:
            write_gps_jpeg(photos / f"p{n:02d}.jpg", lon_i, lat_i, seed=n)
            n += 1

    def square(west, east):
        ring = [[west, 32.77], [east, 32.77], [east, 32.79], [west, 32.79], [west, 32.77]]
        return {"type": "Polygon", "coordinates": [ring]}

    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "west"}, "geometry": square(-79.96, -79.94)},
            {"type": "Feature", "properties": {"name": "east"}, "geometry": square(-79.94, -79.92)},
        ],
    }
    (folder / "districts.geojson").write_text(json.dumps(layer))


@pytest.mark.slow  # eleven commands, 42-48 s on 2 busy cores (load 12-23): over 10 s
def test_readme_own_imagery_walkthrough(tmp_path, monkeypatch):
    make_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    import geovec.report.results as results

    titles = []
    draw = results.image_pair
    monkeypatch.setattr(
        results, "image_pair", lambda *a, **k: titles.append(k.get("suptitle")) or draw(*a, **k)
    )
    outputs = []
    for command in walkthrough():
        command, _, target = command.partition(" > ")
        words = shlex.split(command)
        assert words[0] == "geovec", command
        result = runner.invoke(app, words[1:])
        assert result.exit_code == 0, f"{command}: {result.output}"
        assert "None" not in result.output and "null" not in result.output, command
        if target:
            Path(target.strip()).write_text(result.stdout)
        outputs.append(result.output)
    with geovec.open(tmp_path / "geo") as store:
        for view in ("ground", "overhead", "map"):
            regions = {r for (r,) in store.sql(f"select distinct region from {view}").fetchall()}
            assert regions == {"west", "east"}, view
        assert store.count("ground", "isolated") == 4
    table = outputs[-2]  # classify
    assert re.search(r"feature\s+accuracy\s+east\s+west", table) and "\ngist " in table
    assert titles and titles[-1] == "west" and (tmp_path / "west.png").stat().st_size > 0
    assert outputs[-1].startswith("west: ")
