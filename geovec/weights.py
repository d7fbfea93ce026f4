"""Converted network weights: the weights directory, conversion from Caffe, loading, listing.

A converted network is one safetensors file ``<net>.safetensors`` in the weights directory
(``$GEOVEC_WEIGHTS``, default ``$XDG_DATA_HOME/geovec/weights`` or
``~/.local/share/geovec/weights``). It holds the Flax parameters (``conv1.kernel``, ...),
the per-channel BGR mean (``mean_bgr``, 0-255 scale) and, in its metadata, the source
file's name, sha256 and checksum verdict, the labels and the geovec version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as safetensors_bytes

from geovec import __version__
from geovec.caffe import read_binaryproto, read_caffemodel
from geovec.convert import caffe_to_flax, check_params
from geovec.errors import ArchitectureMismatchError, GeovecError, LabelsError, WeightsNotFoundError
from geovec.labels import read_labels
from geovec.model import AlexNet
from geovec.resources import weights_manifest

FORMAT = "geovec-weights-1"


@dataclasses.dataclass(frozen=True)
class NetworkInfo:
    """A network geovec knows, from weights/manifest.json."""

    name: str
    description: str
    feature_prefix: str
    num_classes: int
    norm_before_pool: bool
    mean_bgr: tuple[float, float, float] | None
    known_files: tuple[dict, ...]
    mean_hint: str = ""
    labels_hint: str = ""

    def model(self) -> AlexNet:
        """The Flax module of this network."""
        return AlexNet(num_classes=self.num_classes, norm_before_pool=self.norm_before_pool)


def networks() -> dict[str, NetworkInfo]:
    """Known networks by name ("caffenet", "places205")."""
    out = {}
    for name, facts in weights_manifest()["networks"].items():
        mean = facts.get("mean_bgr")
        out[name] = NetworkInfo(
            name=name,
            description=facts["description"],
            feature_prefix=facts["feature_prefix"],
            num_classes=facts["num_classes"],
            norm_before_pool=facts["norm_before_pool"],
            mean_bgr=tuple(mean) if mean else None,
            known_files=tuple(facts.get("known_files", ())),
            mean_hint=facts.get("mean_hint", ""),
            labels_hint=facts.get("labels_hint", ""),
        )
    return out


def network(name: str) -> NetworkInfo:
    """The known network ``name``; a clear error naming the choices otherwise."""
    known = networks()
    if name not in known:
        raise GeovecError(f"unknown network {name!r}; choose one of: {', '.join(sorted(known))}")
    return known[name]


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
class ConversionResult:
    """What ``convert_caffemodel`` wrote and what it found out about the source file."""

    net: str
    path: Path
    source_sha256: str
    checksum: str  # "verified", "mismatch" or "unknown"
    checksum_note: str
    labels: int


@dataclasses.dataclass(frozen=True)
class LoadedWeights:
    """Converted weights of one network, ready for the Flax module."""

    net: NetworkInfo
    params: dict[str, dict[str, np.ndarray]]
    mean_bgr: np.ndarray  # (3,) float32, 0-255 scale, B, G, R
    labels: list[str] | None
    metadata: dict[str, str]
    path: Path


def file_digests(path: Path) -> dict[str, str]:
    """sha1 and sha256 of a file, read in 8 MiB chunks."""
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            sha1.update(chunk)
            sha256.update(chunk)
    return {"sha1": sha1.hexdigest(), "sha256": sha256.hexdigest()}


def verify_checksum(info: NetworkInfo, path: Path, digests: dict[str, str]) -> tuple[str, str]:
    """Compare a source file's digests with the network's published ones.

    Returns ("verified" | "mismatch" | "unknown", a sentence for the user).
    """
    for known in info.known_files:
        for algo in ("sha256", "sha1"):
            if known.get(algo) and known[algo] == digests[algo]:
                return "verified", f"{algo} matches the published {known['name']}"
    for known in info.known_files:
        if known["name"] == path.name:
            published = [a for a in ("sha256", "sha1") if known.get(a)]
            if published:
                algo = published[0]
                return "mismatch", (
                    f"{path.name}: {algo} {digests[algo]} differs from the published "
                    f"{known[algo]}; the file may be damaged or a different release"
                )
    return "unknown", "no published checksum for this file"


def _read_mean(info: NetworkInfo, mean: Path | None) -> np.ndarray:
    if mean is None:
        if info.mean_bgr is None:
            raise GeovecError(
                f"{info.name} needs its own mean image: pass --mean {info.mean_hint or 'FILE'}"
            )
        return np.asarray(info.mean_bgr, dtype=np.float32)
    arr = np.load(mean) if Path(mean).suffix == ".npy" else read_binaryproto(mean)
    arr = np.asarray(arr, dtype=np.float64)
    arr = arr.reshape(-1) if arr.size == 3 else arr.reshape(-1, *arr.shape[-2:])
    if arr.ndim == 3 and arr.shape[0] == 3:
        arr = arr.mean(axis=(1, 2))
    if arr.shape != (3,):
        raise GeovecError(f"{mean}: a mean must be 3 channel values or a (3, H, W) BGR image")
    return arr.astype(np.float32)


def convert_caffemodel(
    caffemodel: str | Path,
    net: str,
    *,
    mean: str | Path | None = None,
    labels: str | Path | None = None,
    out: str | Path | None = None,
) -> ConversionResult:
    """Convert a Caffe .caffemodel into geovec's safetensors weights, atomically.

    Args:
      caffemodel: the Caffe weights (current or V1 format).
      net: "caffenet" or "places205".
      mean: the network's mean as .binaryproto or .npy (an image or 3 values, BGR, 0-255);
        CaffeNet defaults to the ILSVRC 2012 mean, Places205 requires its own.
      labels: optional category file (categoryIndex_places205.csv, synset_words.txt).
      out: output file; default ``<weights dir>/<net>.safetensors``.

    Raises:
      CaffeFormatError, ArchitectureMismatchError, LabelsError, GeovecError. On any error
      no output file is left behind.
    """
    info = network(net)
    src = Path(caffemodel)
    mean_bgr = _read_mean(info, Path(mean) if mean else None)
    label_list = read_labels(labels, info.num_classes) if labels else None
    layers = read_caffemodel(src)
    try:
        params = caffe_to_flax(layers, info.model())
    except ArchitectureMismatchError as exc:
        raise ArchitectureMismatchError(f"{src.name} is not a {net} network: {exc}") from exc
    digests = file_digests(src)
    verdict, note = verify_checksum(info, src, digests)
    tensors = {
        f"{layer}.{key}": value for layer, blobs in params.items() for key, value in blobs.items()
    }
    tensors["mean_bgr"] = mean_bgr
    metadata = {
        "format": FORMAT,
        "net": net,
        "source_file": src.name,
        "source_sha256": digests["sha256"],
        "source_sha1": digests["sha1"],
        "checksum": verdict,
        "labels": json.dumps(label_list) if label_list else "",
        "geovec_version": __version__,
        "converted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    target = Path(out) if out else weights_path(net)
    write_atomically(target, safetensors_bytes(tensors, metadata=metadata))
    return ConversionResult(
        net=net,
        path=target,
        source_sha256=digests["sha256"],
        checksum=verdict,
        checksum_note=note,
        labels=len(label_list) if label_list else 0,
    )


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
