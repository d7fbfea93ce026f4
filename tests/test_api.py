"""The public API: ``import geovec`` names everything, lazily (the README's Python section
runs as a script in tests/test_readme.py)."""

import subprocess
import sys
from pathlib import Path

import geovec
from geovec import _LAZY


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
