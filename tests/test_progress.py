"""Progress bars (geovec.progress): a rate from the first update, never a dash, and a
line that fits an 80-column terminal with the latest loss on its own line."""

import io
import re

from rich.console import Console

from geovec.progress import ProgressReporter


def _drawn(label: str, total: int, done: int, unit: str, detail: str = "", width: int = 80):
    """What the bar shows when it stops (a console that is not a terminal draws once)."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    with ProgressReporter(label, total, unit=unit, console=console) as bar:
        if done:
            bar.advance(done)
        if detail:
            bar.describe(detail)
    return out.getvalue()


def test_the_rate_shows_from_the_first_update():
    drawn = _drawn("ingest", 600, 512, "images")
    assert re.search(r"\b512/600 +[\d.]+ images/s", drawn), drawn
    assert "- images/s" not in _drawn("ingest", 600, 0, "images")


def test_a_training_bar_fits_80_columns():
    detail = "epoch 3: loss 0.123, validation R@1 0.456"
    drawn = _drawn("train clip_head", 40 * 20 * 256, 256, "pairs", detail)
    lines = drawn.rstrip("\n").splitlines()
    assert all(len(line) <= 80 for line in lines), drawn
    assert re.search(r"^train clip_head .*256/204800 +[\d.]+ pairs/s +0:00:\d\d +\S+$", lines[0])
    assert lines[1].strip() == detail
