"""Defaults of the analyses and the learned heads, each in one place for the library and
the command line alike.

A light module (no JAX, no LanceDB), so that the command line reads its defaults from here
without paying for the libraries the analyses load."""

DEFAULT_FEATURE = "places_fc8"
"""The feature every analysis uses unless told otherwise: Places205 fc8, the paper's."""
DEFAULT_NEIGHBORS = 30
"""K, the nearest training ground images whose aerial features are averaged (paper: 30)."""
DEFAULT_RADIUS_M = 250.0
"""Isolation radius in metres: a ground image with no other within it is a test image."""
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
