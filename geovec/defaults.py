"""The package's version and the defaults of extraction, the analyses and the learned
heads, each in one place for the library and the command line alike.

A bottom module (it imports nothing), so that every room reads these from here rather
than from the package top (which imports every room, lazily), and the command line reads
its defaults without paying for the libraries the analyses load."""

__version__ = "0.1.0"
"""geovec's version (pyproject.toml says the same; tests/test_layers.py checks it),
written into each feature column's provenance and each table's metadata."""

DEFAULT_BATCH_SIZE = 64
"""Images per jitted forward pass unless told otherwise. On 2 CPU cores CaffeNet runs
fastest here at 64 (bench/extract.py: 77-80 images/s, against 72-73 at 32)."""

DEFAULT_FEATURE = "places_fc8"
"""The feature every analysis uses unless told otherwise: Places205 fc8, the paper's."""
DEFAULT_NEIGHBORS = 30
"""K, the nearest training ground images whose aerial features are averaged (paper: 30)."""
DEFAULT_RADIUS_M = 250.0
"""Isolation radius in metres: a ground image with no other within it is a test image."""
DEFAULT_THRESHOLD_M = 25.0
"""Metres within which a database image is a query's positive on the places protocol (the
visual place recognition benchmarks' 25 m)."""
DEFAULT_RECALL_AT = (1, 5, 10, 20)
"""The N of recall@N on the places protocol (as the VPR benchmark code reports them)."""
DEFAULT_K = 10
"""Nearest aerial images that a search returns."""
DEFAULT_TOP = 10
"""Best tiles that a localisation keeps."""
DEFAULT_TRAIN_PER_REGION = 10_000
"""Training images per region for the region classifier (at most)."""
DEFAULT_PIXELS_PER_TILE = 6
"""Land-cover image pixels per tile spacing."""

# learned cross-view heads (geovec train)
DEFAULT_HEAD_DIM = 256
"""Length of a learned head's embedding."""
DEFAULT_HEAD_HIDDEN = 512
"""Width of each tower's hidden layer."""
DEFAULT_EPOCHS = 40
"""Passes over the training pairs (the best one on the held-out pairs is kept)."""
DEFAULT_HEAD_BATCH = 256
"""Pairs per training step: each pair's negatives are the batch's other pairs."""
DEFAULT_HEAD_SPLIT = "train"
"""The split whose pairs a head trains on."""
