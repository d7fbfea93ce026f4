"""Locate the data that ships with geovec: the sql/ queries and the weights/ manifest.

In an installed wheel both folders live inside the package (``geovec/sql``,
``geovec/weights``); in a source checkout they sit at the repository's top level.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """Directory of shipped data ``name`` ("sql" or "weights")."""
    packaged = resources.files("geovec") / name
    if packaged.is_dir():
        return Path(str(packaged))
    return _CHECKOUT_ROOT / name


@functools.cache
def weights_manifest() -> dict:
    """The parsed weights/manifest.json: networks, input facts, published checksums."""
    return json.loads((data_dir("weights") / "manifest.json").read_text())
