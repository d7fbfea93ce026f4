"""Converted network weights: the weights directory, loading, listing.

A converted network is one safetensors file ``<net>.safetensors`` in the weights directory
(``$GEOVEC_WEIGHTS``, default ``$XDG_DATA_HOME/geovec/weights`` or
``~/.local/share/geovec/weights``). It holds the Flax parameters (``conv1.kernel``, ...),
the per-channel BGR mean (``mean_bgr``, 0-255 scale) and, in its metadata, the source
file's name, sha256 and checksum verdict, the labels and the geovec version.
:mod:`geovec.nets.convert` writes it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open

from geovec.errors import ArchitectureMismatchError, LabelsError, WeightsNotFoundError
from geovec.nets.caffe_to_flax import check_params
from geovec.nets.registry import NetworkInfo, network, networks

FORMAT = "geovec-weights-1"


def weights_dir() -> Path:
    """Directory of converted weights: $GEOVEC_WEIGHTS, else the per-user data directory."""
    if env := os.environ.get("GEOVEC_WEIGHTS"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "geovec" / "weights"


def weights_path(net: str) -> Path:
    """Where the converted weights of ``net`` live (whether or not they exist yet)."""
    return weights_dir() / f"{net}.safetensors"


@dataclasses.dataclass(frozen=True)
class LoadedWeights:
    """Converted weights of one network, ready for the Flax module."""

    net: NetworkInfo
    params: dict[str, dict[str, np.ndarray]]
    mean_bgr: np.ndarray  # (3,) float32, 0-255 scale, B, G, R
    labels: list[str] | None
    metadata: dict[str, str]
    path: Path


def write_atomically(target: Path, payload: bytes) -> None:
    """Write ``payload`` to ``target`` through a temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_weights(net: str, path: str | Path | None = None) -> LoadedWeights:
    """Load converted weights of ``net`` (default: from the weights directory).

    Raises:
      WeightsNotFoundError: nothing converted yet; the message names the convert command.
      ArchitectureMismatchError: the file does not fit the network.
    """
    info = network(net)
    path = Path(path) if path else weights_path(net)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"no converted {net} weights at {path}; run: geovec weights convert "
            f"<{net}.caffemodel> --net {net}"
        )
    try:
        with safe_open(str(path), framework="numpy") as fh:
            metadata = dict(fh.metadata() or {})
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    except (SafetensorError, OSError) as exc:
        raise ArchitectureMismatchError(f"{path}: not a readable safetensors file ({exc})") from exc
    if metadata.get("net") != net:
        raise ArchitectureMismatchError(
            f"{path} holds {metadata.get('net')!r} weights, not {net!r}"
        )
    mean_bgr = tensors.pop("mean_bgr", None)
    if mean_bgr is None or mean_bgr.shape != (3,):
        raise ArchitectureMismatchError(f"{path}: missing its (3,) mean_bgr tensor")
    params: dict[str, dict[str, np.ndarray]] = {}
    for key, value in tensors.items():
        layer, _, leaf = key.partition(".")
        params.setdefault(layer, {})[leaf] = value
    check_params(params, info.model())
    labels = json.loads(metadata["labels"]) if metadata.get("labels") else None
    if labels is not None and len(labels) != info.num_classes:
        raise LabelsError(f"{path}: {len(labels)} labels for {info.num_classes} classes")
    return LoadedWeights(info, params, mean_bgr, labels, metadata, path)


def list_weights() -> list[dict[str, object]]:
    """One row per known network: converted or not, where, from which file, checksum verdict."""
    rows = []
    for name, info in networks().items():
        path = weights_path(name)
        row: dict[str, object] = {"net": name, "converted": path.is_file(), "path": str(path)}
        if path.is_file():
            try:
                with safe_open(str(path), framework="numpy") as fh:
                    meta = fh.metadata() or {}
            except (SafetensorError, OSError):
                meta = {"checksum": "unreadable file"}
            row.update(
                source_file=meta.get("source_file", ""),
                source_sha256=meta.get("source_sha256", ""),
                checksum=meta.get("checksum", ""),
                labels=bool(meta.get("labels")),
                size_mb=round(path.stat().st_size / 1e6, 1),
            )
        row["description"] = info.description
        rows.append(row)
    return rows


def available_networks() -> list[str]:
    """Networks whose converted weights are present in the weights directory."""
    return [name for name in networks() if weights_path(name).is_file()]
