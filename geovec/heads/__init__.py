"""Learned cross-view heads: a two-tower network trained on the stored features of
ground/overhead pairs, mapping both views into one L2-normalised embedding space (beyond
the paper's kNN average; after Workman et al. 2015 and Sample4Geo 2023).

- :mod:`.model`: the towers and the symmetric InfoNCE loss (Flax);
- :mod:`.pairs`: which pairs it may train on, streamed from the Lance tables;
- :mod:`.training`: the training loop (optax AdamW, warm-up and cosine decay);
- :mod:`.file`: the head file (safetensors) and applying a head to features;
- :mod:`.embedding`: the learned embeddings written back as feature columns.
"""

from geovec.heads.embedding import EmbedSummary, embed
from geovec.heads.file import Head, load_head
from geovec.heads.training import TrainSummary, train

__all__ = ["EmbedSummary", "Head", "TrainSummary", "embed", "load_head", "train"]
