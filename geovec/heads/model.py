"""The two-tower head: one small MLP per view, from a stored feature to a shared,
L2-normalised embedding, and the symmetric InfoNCE loss with a learnable temperature
(CLIP's form: in-batch negatives, both directions)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

MAX_LOGIT_SCALE = 100.0
"""Upper bound of exp(logit_scale), as CLIP: keeps the softmax from saturating."""
INITIAL_TEMPERATURE = 0.07


class Tower(nn.Module):
    """Standardised feature → Dense(hidden) → GELU → dropout → Dense(dim) → unit length."""

    hidden: int
    dim: int
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        x = nn.Dense(self.hidden, name="hidden")(x)
        x = nn.gelu(x)
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
        x = nn.Dense(self.dim, name="out")(x)
        return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


class TwoTower(nn.Module):
    """A ground tower, an overhead tower and the loss's temperature (as log scale)."""

    hidden: int
    dim: int
    dropout: float = 0.0

    def setup(self) -> None:
        self.ground = Tower(self.hidden, self.dim, self.dropout)
        self.overhead = Tower(self.hidden, self.dim, self.dropout)
        self.logit_scale = self.param(
            "logit_scale", lambda _: jnp.asarray(jnp.log(1 / INITIAL_TEMPERATURE), jnp.float32)
        )

    def __call__(self, ground: jax.Array, overhead: jax.Array, *, train: bool = False):
        return (
            self.ground(ground, train=train),
            self.overhead(overhead, train=train),
            self.logit_scale,
        )

    def embed_ground(self, x: jax.Array) -> jax.Array:
        return self.ground(x)

    def embed_overhead(self, x: jax.Array) -> jax.Array:
        return self.overhead(x)


def info_nce(ground: jax.Array, overhead: jax.Array, logit_scale: jax.Array) -> jax.Array:
    """Symmetric InfoNCE of a batch of unit embeddings whose i-th rows are a pair: the
    mean of the ground→overhead and overhead→ground cross-entropies, every other row of
    the batch a negative."""
    scale = jnp.exp(jnp.minimum(logit_scale, jnp.log(MAX_LOGIT_SCALE)))
    logits = scale * ground @ overhead.T
    labels = jnp.arange(ground.shape[0])
    forward = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    backward = optax.softmax_cross_entropy_with_integer_labels(logits.T, labels)
    return (forward.mean() + backward.mean()) / 2
