"""Figures (geovec.report.figures): the land-cover figure has coordinates, truth or not."""

import numpy as np

import geovec.report.figures as figures
from geovec.analyses.landcover import LandcoverResult
from geovec.report.results import write_landcover


def test_the_landcover_figure_without_truth_has_coordinates(tmp_path, monkeypatch):
    drawn = []
    save = figures._save
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.append(fig) or save(fig, path))
    image = np.random.default_rng(0).random((20, 30, 3))
    result = LandcoverResult(
        "no region", "gist", 60, [0.5, 0.2, 0.1], image,
        origin=(-79.93, 32.78), extent=(-1500.0, 1500.0, -1000.0, 1000.0),
    )  # fmt: skip
    path = write_landcover(result, tmp_path / "lc.png")
    assert path.stat().st_size > 1000
    (ax,) = drawn[0].axes
    assert ax.axison and "metres east of -79.9300, 32.7800" in ax.get_xlabel()
    assert ax.get_ylabel() == "metres north"
    assert tuple(ax.images[0].get_extent()) == (-1500.0, 1500.0, -1000.0, 1000.0)
