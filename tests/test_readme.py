"""The README's code blocks run as written: the Python section as a script of its own (no
``if __name__ == "__main__":`` guard, as a reader saves it) in a subprocess, and the SQL
section's plain DuckDB session; every other block is listed here with the reason it is not
run, so a new block is either run or explained."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
HANG_LIMIT_S = 300
"""A guard against a hang (a worker pool that never returns), not a speed check: the
script takes seconds."""

RUN = ("import geovec\n", "LOAD '.venv/")
"""The first lines of the blocks the tests below run."""
NOT_RUN = {
    "make demo": "the demo at its default size takes minutes (tests/test_demo.py runs it, "
    "slow tier); make test is the whole suite; geovec serve does not return",
    "geovec weights convert CAFFEMODEL": "the command list: a synopsis, not commands",
    "geovec synth world ": "the default-size world (2,788 images) takes minutes to ingest, and "
    "its ids (charleston_00010, charleston_t040) are not in a tiny world",
    "geovec grid --bbox": "the reader's own orthophoto and photos",
    "geovec dataset cvusa": "the CVUSA download (tests/ingestion build small trees)",
    "geovec dataset places": "a VPR benchmark download",
    "geovec evaluate geo --feature gist --json ": "the default-size world's ids, and VIGOR",
    "geovec evaluate geo --feature gist --prior-m": "VIGOR, and the reader's own photo",
    "geovec evaluate geo --feature gist --by": "the reader's polygon layers",
    "geovec isolate geo ": "a learned head on the default-size world, and CVUSA",
    "geovec weights add-onnx": "an ONNX model file",
    "geovec ingest geo Core-S2L2A": "published embedding files",
    "geovec compare geo": "a clip feature column",
    "geovec export geo": "the default-size world's ids (tests/exports run each export)",
    "SELECT id, ST_AsText(geometry)": "the Export block's file",
    "geovec weights convert bvlc": "the published Caffe files (tests/nets convert random ones)",
    "geovec/  __init__.py": "the package layout, not code",
}
"""The first line of each block that is not run (matched as a prefix), and why."""


def blocks() -> list[tuple[str, str]]:
    """Every fenced block of the README: (language tag, text)."""
    return re.findall(r"^```(\w*)\n(.*?)^```", README.read_text(), re.S | re.M)


def block(first_line: str) -> str:
    """The block whose first line starts with ``first_line``."""
    found = [text for _, text in blocks() if text.startswith(first_line)]
    assert len(found) == 1, first_line
    return found[0]


def readme_python() -> str:
    section = README.read_text().split("## Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_every_block_is_run_or_says_why_not():
    for _, text in blocks():
        if text.startswith(RUN):
            continue
        first = text.splitlines()[0] if text.strip() else "(empty)"
        assert any(text.startswith(start) for start in NOT_RUN), (
            f"a README block that no test runs and NOT_RUN does not explain: {first!r}"
        )


def readme_folder(tiny_world_store, tmp_path: Path, rerender: int = 0) -> Path:
    """A fresh folder holding the README's ``world`` (the session's tiny world: same
    settings) and ``geo`` (a copy of its store). ``rerender``: that many images are taken
    away (with the world's done-marker), so ``geovec.synth`` renders them again, in its
    worker pool."""
    world = tiny_world_store["demo_world"]
    shutil.copytree(world.directory, tmp_path / "world", symlinks=True)
    shutil.copytree(tiny_world_store["demo_db"], tmp_path / "geo")
    if rerender:
        (tmp_path / "world" / "synth.json").unlink()
        for tile in sorted((tmp_path / "world" / "charleston" / "tiles").glob("*.png"))[:rerender]:
            tile.unlink()
    return tmp_path


def test_readme_python_section_runs_as_a_script(tiny_world_store, tmp_path):
    """The README's example saved as example.py and run with ``python example.py``, as a
    reader would: no main guard. Two of the world's tiles are missing, so synth renders
    them in worker processes (which once ran the script again and hung); ingest finds
    everything else stored. Every line runs, and what it prints is checked."""
    folder = readme_folder(tiny_world_store, tmp_path, rerender=2)
    code = readme_python()
    assert "import geovec\n" in code and "from geovec." not in code and "__main__" not in code
    (folder / "example.py").write_text(code)
    env = {**os.environ, "GEOVEC_WEIGHTS": os.fspath(folder / "no_weights")}
    run = subprocess.run(
        [sys.executable, "example.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT_S,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "__main__" not in run.stderr  # no "safe importing of main module" complaint
    assert len(list((folder / "world" / "charleston" / "tiles").glob("*.png"))) == len(
        list(Path(tiny_world_store["demo_world"].directory, "charleston", "tiles").glob("*.png"))
    )
    lines = run.stdout.splitlines()
    assert lines[0].startswith("gist: top-1% ") and "queries" in lines[0]
    assert "'query_id':" in lines[1] and "'true_tile':" in lines[1]
    assert any(line.startswith("charleston_") and "ground" in line for line in lines[3:6])
    assert any("chance" in line for line in lines)
    isolated = tiny_world_store["demo_store"].count("ground", "isolated AND region = 'charleston'")
    assert lines[-2].split()[1:] == ["charleston", str(isolated)]
    assert lines[-1].split()[1] == "sanfrancisco"


def test_readme_sql_section_runs_in_plain_duckdb(tiny_world_store, tmp_path):
    """The SQL section's session, statement by statement, in a plain DuckDB (a fresh
    process that imports duckdb alone), with the extensions loaded from their wheels by the
    README's relative paths, on the README's store ``geo``."""
    venv = Path(sys.prefix)
    if not (venv / "lib" / "python3.11" / "site-packages" / "duckdb_extension_lance").is_dir():
        pytest.skip(f"the README's paths name a Python 3.11 venv; this one is {venv}")
    folder = readme_folder(tiny_world_store, tmp_path)
    (folder / ".venv").symlink_to(venv)
    sql = block("LOAD '.venv/")
    script = (
        "import sys, duckdb\n"
        "con = duckdb.connect()\n"
        "for statement in sys.stdin.read().split(';'):\n"
        "    if statement.strip():\n"
        "        rows = con.sql(statement)\n"
        "        print('result:', rows.fetchall() if rows is not None else None)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        input=sql,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT_S,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    printed = [line[8:] for line in run.stdout.splitlines() if line.startswith("result: ")]
    assert len(printed) == 6, run.stdout  # LOAD, LOAD, ATTACH, SELECT, SET, SELECT
    isolated = eval(printed[3])  # the isolated photos: id, region, WKT point
    assert 0 < len(isolated) <= 5 and all(wkt.startswith("POINT (") for _, _, wkt in isolated)
    nearest = eval(printed[-1])
    assert len(nearest) == 5 and nearest[0][0] == "charleston_00001" and nearest[0][1] == 0
