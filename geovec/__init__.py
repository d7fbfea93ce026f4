"""geovec: location dependence of CNN features, as software.

A JAX/Flax AlexNet (ImageNet CaffeNet, Places205) loaded from the original Caffe weights,
geotagged embeddings in LanceDB tables, and the analyses of Workman & Jacobs (CVPRW 2015)
as DuckDB spatial SQL plus vector search.

>>> import geovec
>>> store = geovec.open("geo")                               # doctest: +SKIP
>>> geovec.ingest(store, "world/manifest.csv")               # doctest: +SKIP
"""

__version__ = "0.1.0"

from geovec.ingest import IngestSummary, extract_missing, ingest  # noqa: E402
from geovec.store import Store, open  # noqa: E402,A004

__all__ = ["IngestSummary", "Store", "__version__", "extract_missing", "ingest", "open"]
