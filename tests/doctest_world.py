"""A pytest plugin (``-p tests.doctest_world``, set in pyproject.toml) that gives the
docstring examples of geovec real data: a tiny synthetic world, ingested with GIST and
isolated, built once per session. Doctests see these names:

- ``demo_world``: the world (:class:`geovec.synthetic.build.SynthSummary`);
- ``demo_db``: its database directory; ``demo_store``: that store, opened;
- ``demo_query``: the id of an isolated ground image that has a containing tile;
- ``demo_aerial``: the path of a stored overhead image;
- ``demo_tmp``: a fresh folder for the example's files;
- ``geovec`` and ``np``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

TINY_WORLD = {"seed": 2, "ground": 12, "extent_km": 2.5}
"""Small enough to build in seconds, large enough for every analysis to have test and
training images in both regions."""


def pytest_configure(config):
    """No test or doctest writes compiled programs to the user's cache folder: the
    compilation cache is off in the test process and its children unless a test turns it
    on in a folder of its own (tests/conftest.py: ``compile_cache_dir``)."""
    os.environ["GEOVEC_XLA_CACHE"] = "off"


@pytest.fixture(scope="session")
def tiny_world_store(tmp_path_factory):
    """The doctests' names for the tiny world: GIST features, isolated test images."""
    import geovec

    folder = tmp_path_factory.mktemp("doctest_world")
    previous = os.environ.get("GEOVEC_WEIGHTS")
    os.environ["GEOVEC_WEIGHTS"] = str(folder / "no_weights")  # GIST only, whatever is installed
    try:
        world = geovec.synth(folder / "world", **TINY_WORLD)
        store = geovec.open(folder / "db")
        geovec.ingest(store, world.manifest, features=["gist"], batch_size=32)
        geovec.isolate(store)
        query = geovec.evaluate(store, "gist").ranks.column("query_id")[0].as_py()
    finally:
        if previous is None:
            os.environ.pop("GEOVEC_WEIGHTS")
        else:
            os.environ["GEOVEC_WEIGHTS"] = previous
    return {
        "demo_world": world,
        "demo_db": store.path,
        "demo_store": store,
        "demo_query": query,
        "demo_aerial": store.read("overhead", ["path"]).column("path")[0].as_py(),
    }


@pytest.fixture(autouse=True)
def _doctest_names(request):
    """Fill the doctest namespace (only doctests pay for building the world)."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    import geovec

    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(request.getfixturevalue("tiny_world_store"), geovec=geovec, np=np)
    namespace["demo_tmp"] = request.getfixturevalue("tmp_path")
