"""geovec: location dependence of CNN features (Workman & Jacobs, CVPR Workshops 2015).

Flax AlexNet (ImageNet CaffeNet and Places205) loaded from Caffe weights, GIST, geotagged
embeddings in LanceDB, and the paper's analyses as DuckDB spatial SQL plus vector search.
"""

__version__ = "0.1.0"
