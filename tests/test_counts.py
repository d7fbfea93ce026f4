"""Counts in words (geovec.counts): one image, two images, in every message."""

import re
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from geovec.cli import app
from geovec.counts import count, plural
from geovec.ingestion.aerial import AerialSummary
from geovec.report.terminal import format_table

PACKAGE = Path(__file__).resolve().parent.parent / "geovec"
NOUNS = (
    "images|rows|tiles|queries|pairs|candidates|photos|items|collections|views|regions|"
    "partitions|results|differences|squares|points|tables|failures|heads|indexes|groups"
)
COUNTED = re.compile(r"(?<!-)\{[^{}]+\} (" + NOUNS + r")\b(?!/)")
"""A count printed with a plural noun after it, whatever the count: "{n} images" (not a
range, "{low}-{high} candidates")."""
NOT_COUNTS = ("{feature} pairs", 'photos are" if located > 1 else "the one photo is"')


def test_count_says_one_and_many():
    assert count(1, "image") == "1 image"
    assert count(0, "image") == "0 images"
    assert count(2, "query") == "2 queries"
    assert count(3, "index") == "3 indexes"
    assert count(2, "day") == "2 days"
    assert count(5, "ground photo") == "5 ground photos"
    assert count(1, "ground photo") == "1 ground photo"
    assert count(2, "datum", "data") == "2 data"
    assert plural("batch") == "batches"


def test_one_image_is_one_image(tmp_path):
    line = AerialSummary(1, 0, tmp_path, tmp_path / "m.csv", tmp_path / "f.csv", 1.0).line()
    assert line.startswith(f"wrote 1 image to {tmp_path} ")
    assert format_table(pa.table({"a": [1]})).endswith("(1 row)")
    out = tmp_path / "grid.csv"
    result = CliRunner().invoke(app, ["grid", "--bbox", "0,0,0.004,0.004", "--out", str(out)])
    assert result.exit_code == 0 and result.output.strip() == f"wrote 1 tile to {out}"


def test_no_message_prints_a_count_with_a_fixed_plural():
    """Every count of things in geovec's messages goes through geovec.counts.count."""
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COUNTED.search(line)
        and " has no " not in line
        and not any(n in line for n in NOT_COUNTS)
    ]
    assert found == [], "\n".join(found)
