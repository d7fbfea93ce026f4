"""Montages (geovec.report.montage): no blank gap a thumbnail could fill."""

import numpy as np
from PIL import Image

from geovec.analyses.search import SearchHit
from geovec.report.results import write_search_montage

THUMB = 160


def _blank_square(path, side: int) -> bool:
    """Whether the image at ``path`` has an all-white ``side`` x ``side`` square."""
    ink = (np.asarray(Image.open(path).convert("L")) < 250).astype(np.int64)
    sums = np.pad(ink.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    window = sums[side:, side:] - sums[:-side, side:] - sums[side:, :-side] + sums[:-side, :-side]
    return bool((window == 0).any())


def test_the_search_montage_leaves_no_blank_gap(tmp_path):
    """The query beside the results, not a row of one beside four empty places; each
    caption right under its photo (4:3 photos are shorter than the square aerials)."""
    Image.new("RGB", (256, 256), (0, 120, 0)).save(tmp_path / "query.png")
    hits = []
    for i in range(5):
        Image.new("RGB", (256, 256), (0, 40 * i, 120)).save(tmp_path / f"a{i}.png")
        Image.new("RGB", (400, 300), (200, 40 * i, 0)).save(tmp_path / f"g{i}.jpg")
        aerial, photo = str(tmp_path / f"a{i}.png"), str(tmp_path / f"g{i}.jpg")
        hits.append(SearchHit(f"t{i}", 1.0 + i, 0.0, 0.0, "r", aerial, photo, f"g{i}"))
    path = write_search_montage(tmp_path / "query.png", hits, tmp_path / "search.png")
    assert not _blank_square(path, THUMB)
    with Image.open(path) as img:
        assert img.height < 2 * (THUMB + 48) + 20  # two rows of results, not three
