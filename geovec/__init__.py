"""geovec: location dependence of CNN features, as software.

A JAX/Flax AlexNet (ImageNet CaffeNet, Places205) loaded from the original Caffe weights,
geotagged embeddings in LanceDB tables, and the analyses of Workman & Jacobs (CVPRW 2015)
as DuckDB spatial SQL plus vector search.

>>> import geovec
>>> store = geovec.open("geo")                               # doctest: +SKIP
>>> geovec.ingest(store, "world/manifest.csv")               # doctest: +SKIP

Names are imported on first use, so ``import geovec`` stays light (no JAX until needed).
"""

import importlib

__version__ = "0.1.0"

DEFAULT_BATCH_SIZE = 64
"""Images per jitted forward pass unless told otherwise. On 2 CPU cores CaffeNet runs
fastest here at 64 (bench/extract.py: 77-80 images/s, against 72-73 at 32)."""

_EXPORTS = {
    "open": "geovec.store",
    "Store": "geovec.store",
    "ingest": "geovec.ingestion",
    "extract_missing": "geovec.ingestion",
    "IngestSummary": "geovec.ingestion",
    "synth_world": "geovec.synth.build",
}

__all__ = ["DEFAULT_BATCH_SIZE", "__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name.removesuffix("_world"))
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geovec' has no attribute {name!r}")
