"""The public API: ``import geovec`` names everything, lazily, and the README's Python
section runs as it stands."""

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geovec
from geovec import _LAZY

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_public_name_is_listed_and_resolves():
    assert set(_LAZY) <= set(geovec.__all__)
    for name in geovec.__all__:
        assert getattr(geovec, name) is not None, name
    assert set(geovec.__all__) <= set(dir(geovec))
    assert (Path(geovec.__file__).parent / "py.typed").exists()


def test_analyses_take_store_then_feature_then_keywords():
    import inspect

    for name in ("evaluate", "localize", "search", "landcover"):
        params = list(inspect.signature(getattr(geovec, name)).parameters.values())
        assert [p.name for p in params[:2]] == ["store", "feature"], name
        assert all(p.kind is p.KEYWORD_ONLY for p in params[2:]), name
    classify = list(inspect.signature(geovec.classify).parameters)
    assert classify[:2] == ["store", "features"]
    isolate = inspect.signature(geovec.isolate).parameters
    assert isolate["radius_m"].kind is inspect.Parameter.KEYWORD_ONLY


def test_import_geovec_stays_light():
    """``import geovec`` loads neither JAX nor LanceDB nor DuckDB until a name needs them."""
    code = "import sys, geovec; print(sorted({'jax', 'lancedb', 'duckdb'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def readme_python() -> str:
    section = README.read_text().split("## Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_section_runs(tiny_world_store, tmp_path, monkeypatch):
    """The README's example, run as it stands in a fresh folder. Its world is the session's
    tiny world (same settings, so synth reuses it) and its store a copy of the session's,
    so ingest finds everything stored: every line runs, and what it prints is checked."""
    world = tiny_world_store["demo_world"]
    shutil.copytree(world.directory, tmp_path / "world", symlinks=True)
    shutil.copytree(tiny_world_store["demo_db"], tmp_path / "geo")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GEOVEC_WEIGHTS", os.fspath(tmp_path / "no_weights"))
    code = readme_python()
    assert "import geovec\n" in code and "from geovec." not in code
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("gist: top-1% ") and "queries" in lines[0]
    assert "'query_id':" in lines[1] and "'true_tile':" in lines[1]
    assert any(line.startswith("charleston_") and "ground" in line for line in lines[3:6])
    assert any("chance" in line for line in lines)
    assert lines[-2].split()[1:] == [
        "charleston",
        str(world_isolated(tiny_world_store, "charleston")),
    ]
    assert lines[-1].split()[1] == "sanfrancisco"


def world_isolated(names: dict, region: str) -> int:
    return names["demo_store"].count("ground", f"isolated AND region = '{region}'")
