"""A learned head on disk: one safetensors file holding both towers (their Dense kernels
and biases), the input standardisation of each view, the temperature, and in its metadata
the feature names and dimensions, the training split, seed, exclusions and metrics.

Tensor names: ``{ground,overhead}/{hidden,out}/{kernel,bias}``,
``{ground,overhead}/{mean,scale}`` (inputs are ``(x - mean) / scale`` before the tower)
and ``logit_scale``. Metadata values are text (JSON for the nested ones), as safetensors
requires; nothing in it depends on the clock, so one seed gives one file.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import struct
from pathlib import Path

import numpy as np

from geovec.errors import HeadError
from geovec.nets.weights import write_atomically

FORMAT = "geovec-head-1"
SIDES = ("ground", "overhead")
TOWER_OF_VIEW = {"ground": "ground", "overhead": "overhead", "map": "overhead"}
"""The tower that embeds each view: map tiles are aerial images, as the overhead view."""
NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
ROWS_PER_CALL = 4096
"""Rows embedded per jitted call (one fixed shape: the last call is padded)."""


def head_name(path: str | Path) -> str:
    """The head's name from its file name (``heads/gist_head.safetensors`` → ``gist_head``):
    lower-case letters, digits and underscores, as its feature columns are named."""
    name = Path(path).name.removesuffix(".safetensors").lower().replace("-", "_")
    if not NAME.match(name):
        raise HeadError(
            f"{path}: a head's file name becomes its columns' names ({name}_ground): use "
            "letters, digits and underscores, starting with a letter"
        )
    return name


@dataclasses.dataclass
class Head:
    """A trained two-tower head. ``params`` is the Flax parameter tree; ``mean``/``scale``
    the per-view input standardisation; ``metadata`` what training recorded."""

    name: str
    ground_feature: str
    overhead_feature: str
    ground_dim: int
    overhead_dim: int
    dim: int
    hidden: int
    params: dict
    mean: dict[str, np.ndarray]
    scale: dict[str, np.ndarray]
    metadata: dict = dataclasses.field(default_factory=dict)

    def column(self, side: str) -> str:
        """The feature column of one side's embeddings: ``<name>_ground``, or
        ``<name>_overhead`` (on overhead and map)."""
        return f"{self.name}_{side}"

    @property
    def ground_column(self) -> str:
        return self.column("ground")

    @property
    def overhead_column(self) -> str:
        return self.column("overhead")

    def feature(self, side: str) -> str:
        """The stored feature one side's tower takes."""
        return self.ground_feature if side == "ground" else self.overhead_feature

    def input_dim(self, side: str) -> int:
        """The length of that feature."""
        return self.ground_dim if side == "ground" else self.overhead_dim

    def embed(self, side: str, x: np.ndarray) -> np.ndarray:
        """Unit-length embeddings (N, dim) float32 of stored features of one side
        ("ground" or "overhead"; map tiles use the overhead tower)."""
        x = np.asarray(x, np.float32)
        want = self.input_dim(side)
        if x.ndim != 2 or x.shape[1] != want:
            raise HeadError(
                f"head {self.name} takes {self.feature(side)} ({want} values) on the {side} "
                f"side, got {x.shape[-1]} values"
            )
        x = (x - self.mean[side]) / self.scale[side]
        apply = _tower_apply(self.hidden, self.dim, side)
        out = np.empty((len(x), self.dim), np.float32)
        for start in range(0, len(x), ROWS_PER_CALL):
            chunk = x[start : start + ROWS_PER_CALL]
            rows = len(chunk)
            size = ROWS_PER_CALL if len(x) > ROWS_PER_CALL else _bucket(rows)
            padded = np.zeros((size, x.shape[1]), np.float32)
            padded[:rows] = chunk
            out[start : start + rows] = np.asarray(apply(self.params, padded))[:rows]
        return out

    def embed_ground(self, x: np.ndarray) -> np.ndarray:
        return self.embed("ground", x)

    def embed_overhead(self, x: np.ndarray) -> np.ndarray:
        return self.embed("overhead", x)

    def check_store(self, store, views=("ground", "overhead")) -> None:
        """HeadError, in one line naming both, where a view's feature is absent or of
        another length than the head was trained on."""
        for view in views:
            side = TOWER_OF_VIEW[view]
            feature, want = self.feature(side), self.input_dim(side)
            have = store.features(view)
            if have.get(feature) != want:
                found = f"{have[feature]} values" if feature in have else "no such column"
                raise HeadError(
                    f"head {self.name} needs {view}.{feature} with {want} values; the store "
                    f"{store.path} has {found} (features: {', '.join(have) or 'none'})"
                )

    def save(self, path: str | Path) -> Path:
        """Write the head to ``path`` atomically (a temporary file, then a rename)."""
        from flax.traverse_util import flatten_dict
        from safetensors.numpy import save

        tensors = {
            "/".join(key): np.array(value, np.float32, order="C")
            for key, value in flatten_dict(self.params).items()
        }
        for side in SIDES:
            tensors[f"{side}/mean"] = np.asarray(self.mean[side], np.float32)
            tensors[f"{side}/scale"] = np.asarray(self.scale[side], np.float32)
        metadata = {
            "format": FORMAT,
            "name": self.name,
            "ground_feature": self.ground_feature,
            "overhead_feature": self.overhead_feature,
            "ground_dim": str(self.ground_dim),
            "overhead_dim": str(self.overhead_dim),
            "dim": str(self.dim),
            "hidden": str(self.hidden),
            "training": json.dumps(self.metadata, sort_keys=True),
        }
        path = Path(path)
        write_atomically(path, _canonical(save(tensors, metadata=metadata)))
        return path


def new_head(
    name: str,
    features: tuple[str, str],
    dims: tuple[int, int],
    *,
    hidden: int,
    dim: int,
    seed: int,
    mean: dict | None = None,
    scale: dict | None = None,
    metadata: dict | None = None,
) -> Head:
    """An untrained head (its weights drawn from ``seed``): where training starts, and the
    random baseline a trained head must beat."""
    import jax
    import jax.numpy as jnp

    from geovec.heads.model import TwoTower

    model = TwoTower(hidden=hidden, dim=dim)
    params = model.init(jax.random.PRNGKey(seed), jnp.zeros((1, dims[0])), jnp.zeros((1, dims[1])))[
        "params"
    ]
    return Head(
        name=name,
        ground_feature=features[0],
        overhead_feature=features[1],
        ground_dim=dims[0],
        overhead_dim=dims[1],
        dim=dim,
        hidden=hidden,
        params=jax.tree_util.tree_map(np.asarray, params),
        mean=mean or {s: np.zeros(d, np.float32) for s, d in zip(SIDES, dims)},
        scale=scale or {s: np.ones(d, np.float32) for s, d in zip(SIDES, dims)},
        metadata=metadata or {},
    )


def _canonical(payload: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted: the writer emits the
    metadata in a hash map's order, which changes from run to run. The header keeps its
    length (padded with spaces, as the format allows), so the tensor offsets hold."""
    (length,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8 : 8 + length])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) > length:  # cannot happen for the same content; keep the original
        return payload
    return payload[:8] + text.ljust(length, b" ") + payload[8 + length :]


def _bucket(rows: int) -> int:
    """A padded row count for a short call: the next power of two (few shapes to compile)."""
    return 1 << max(0, (rows - 1).bit_length())


@functools.cache
def _tower_apply(hidden: int, dim: int, side: str):
    import jax

    from geovec.heads.model import TwoTower

    model = TwoTower(hidden=hidden, dim=dim)
    method = "embed_ground" if side == "ground" else "embed_overhead"
    return jax.jit(lambda params, x: model.apply({"params": params}, x, method=method))


def load_head(path: str | Path) -> Head:
    """Read a head file written by :meth:`Head.save` (``geovec train``).

    Raises:
      HeadError: no such file, not a safetensors file, or not a geovec head.
    """
    from flax.traverse_util import unflatten_dict
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise HeadError(f"{path}: no such head file (train one with geovec train)")
    try:
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise HeadError(f"{path}: not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise HeadError(f"{path}: not a geovec head (format {meta.get('format')!r})")
    try:
        mean = {side: tensors.pop(f"{side}/mean") for side in SIDES}
        scale = {side: tensors.pop(f"{side}/scale") for side in SIDES}
        head = Head(
            name=meta["name"],
            ground_feature=meta["ground_feature"],
            overhead_feature=meta["overhead_feature"],
            ground_dim=int(meta["ground_dim"]),
            overhead_dim=int(meta["overhead_dim"]),
            dim=int(meta["dim"]),
            hidden=int(meta["hidden"]),
            params=unflatten_dict({tuple(k.split("/")): v for k, v in tensors.items()}),
            mean=mean,
            scale=scale,
            metadata=json.loads(meta.get("training", "{}")),
        )
        for side in SIDES:
            kernel = head.params[side]["hidden"]["kernel"]
            if kernel.shape != (head.input_dim(side), head.hidden) or head.params[side]["out"][
                "kernel"
            ].shape != (
                head.hidden,
                head.dim,
            ):
                raise HeadError(f"{path}: the {side} tower's shapes do not match its metadata")
    except (KeyError, ValueError) as exc:
        raise HeadError(f"{path}: an incomplete geovec head ({exc})") from None
    return head


def as_head(head: str | Path | Head) -> Head:
    """A head, loaded from its file when given a path."""
    return head if isinstance(head, Head) else load_head(head)


def check_unseen(head: Head, store, *, split: str | None = None) -> None:
    """HeadError where evaluating ``head`` on ``store`` would score images it may have
    trained on: it was trained before the store's test images were isolated, or on the
    very split it would now be evaluated on."""
    trained_split = head.metadata.get("split")
    if split is not None and trained_split == split:
        raise HeadError(
            f"head {head.name} was trained on split {split!r}: evaluate it on another split"
        )
    isolated = store.count("ground", "isolated = true")
    if split is None and isolated and not head.metadata.get("isolated_at_training"):
        raise HeadError(
            f"head {head.name} was trained before the test images were isolated, so it may "
            f"have trained on them: train it again (geovec train {store.path} ...)"
        )
