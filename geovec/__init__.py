"""geovec: location dependence of CNN features, as software.

A JAX/Flax AlexNet (ImageNet CaffeNet, Places205) loaded from the original Caffe weights,
geotagged embeddings in LanceDB tables, and the analyses of Workman & Jacobs (CVPRW 2015)
as DuckDB spatial SQL plus vector search. Everything a user needs is a name here:

>>> import geovec
>>> with geovec.open(demo_db) as store:
...     result = geovec.evaluate(store, "gist")
...     result.queries == result.ranks.num_rows
True

Names are imported on first use, so ``import geovec`` stays light (no JAX until needed).
"""

import importlib as _importlib
import typing as _typing

from geovec.defaults import DEFAULT_BATCH_SIZE, __version__
from geovec.errors import (
    FeatureMissingError,
    GeovecError,
    ManifestError,
    QueryError,
    StoreError,
    WeightsNotFoundError,
)

_LAZY = {
    # the store
    "open": "geovec.store.database",
    "Store": "geovec.store.database",
    # bringing images in
    "ingest": "geovec.ingestion.run",
    "ingest_embeddings": "geovec.ingestion.embeddings",
    "extract_missing": "geovec.ingestion.run",
    "IngestSummary": "geovec.ingestion.run",
    "synth": "geovec.synthetic.build",
    "reference_grid": "geovec.geo.grid",
    "cut_aerial": "geovec.ingestion.aerial",
    "open_source": "geovec.geo.aerial",
    "import_dataset": "geovec.ingestion.datasets",
    # the networks and features
    "convert_caffemodel": "geovec.nets.convert",
    "load_weights": "geovec.nets.weights",
    "add_onnx": "geovec.encoders.registry",
    "FeatureExtractor": "geovec.features.extract",
    # the analyses: store, then feature, then keyword options
    "isolate": "geovec.analyses.isolation",
    "evaluate": "geovec.analyses.crossview",
    "evaluate_pairs": "geovec.analyses.pairs",
    "localize": "geovec.analyses.localize",
    "search": "geovec.analyses.search",
    "nearest_ground": "geovec.analyses.search",
    "classify": "geovec.analyses.classify",
    "landcover": "geovec.analyses.landcover",
    "compare": "geovec.analyses.compare",
    "coverage": "geovec.analyses.coverage",
    # learned cross-view heads
    "train": "geovec.heads.training",
    "embed": "geovec.heads.embedding",
    "load_head": "geovec.heads.file",
    "Head": "geovec.heads.file",
    "run_demo": "geovec.demo",
    # the web explorer (extra: geovec[serve])
    "serve": "geovec.explorer.server",
    "create_app": "geovec.explorer.app",
    # georeferenced products: GeoParquet, COG, STAC
    "export": "geovec.exports.tables",
    "export_stac": "geovec.exports.stac",
}

if _typing.TYPE_CHECKING:
    from geovec.analyses.classify import classify
    from geovec.analyses.compare import compare
    from geovec.analyses.coverage import coverage
    from geovec.analyses.crossview import evaluate
    from geovec.analyses.isolation import isolate
    from geovec.analyses.landcover import landcover
    from geovec.analyses.localize import localize
    from geovec.analyses.pairs import evaluate_pairs
    from geovec.analyses.search import nearest_ground, search
    from geovec.demo import run_demo
    from geovec.encoders.registry import add_onnx
    from geovec.explorer.app import create_app
    from geovec.explorer.server import serve
    from geovec.exports.stac import export_stac
    from geovec.exports.tables import export
    from geovec.features.extract import FeatureExtractor
    from geovec.geo.aerial import open_source
    from geovec.geo.grid import reference_grid
    from geovec.heads.embedding import embed
    from geovec.heads.file import Head, load_head
    from geovec.heads.training import train
    from geovec.ingestion.aerial import cut_aerial
    from geovec.ingestion.datasets import import_dataset
    from geovec.ingestion.embeddings import ingest_embeddings
    from geovec.ingestion.run import IngestSummary, extract_missing, ingest
    from geovec.nets.convert import convert_caffemodel
    from geovec.nets.weights import load_weights
    from geovec.store.database import Store, open
    from geovec.synthetic.build import synth

__all__ = [  # the lazy names (_LAZY) and the eager ones; tests check they agree
    "DEFAULT_BATCH_SIZE",
    "FeatureExtractor",
    "FeatureMissingError",
    "GeovecError",
    "Head",
    "IngestSummary",
    "ManifestError",
    "QueryError",
    "Store",
    "StoreError",
    "WeightsNotFoundError",
    "__version__",
    "add_onnx",
    "classify",
    "compare",
    "convert_caffemodel",
    "coverage",
    "create_app",
    "cut_aerial",
    "embed",
    "evaluate",
    "evaluate_pairs",
    "export",
    "export_stac",
    "extract_missing",
    "import_dataset",
    "ingest",
    "ingest_embeddings",
    "isolate",
    "landcover",
    "load_head",
    "load_weights",
    "localize",
    "nearest_ground",
    "open",
    "open_source",
    "reference_grid",
    "run_demo",
    "search",
    "serve",
    "synth",
    "train",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geovec' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names only: not the modules and helpers the package itself uses."""
    return sorted(__all__)
