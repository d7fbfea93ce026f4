"""Convert a Caffe .caffemodel into geovec's safetensors weights, without Caffe: decode,
map onto the Flax AlexNet strictly, check the published checksum, write atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save as safetensors_bytes

from geovec.defaults import __version__
from geovec.errors import ArchitectureMismatchError, GeovecError
from geovec.nets.caffe import read_binaryproto, read_caffemodel
from geovec.nets.caffe_to_flax import caffe_to_flax
from geovec.nets.labels import read_labels
from geovec.nets.registry import NetworkInfo, network
from geovec.nets.weights import FORMAT, weights_path, write_atomically
from geovec.resources import data_dir


@dataclasses.dataclass(frozen=True)
class ConversionResult:
    """What ``convert_caffemodel`` wrote and what it found out about the source file."""

    net: str
    path: Path
    source_sha256: str
    checksum: str  # "verified", "mismatch" or "unknown"
    checksum_note: str
    labels: int


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
                f"{info.name} needs its own mean image: give it as the mean argument "
                f"({info.mean_hint or 'a .binaryproto or .npy file'})"
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
      net: "caffenet", "places205" or "places365".
      mean: the network's mean as .binaryproto or .npy (an image or 3 values, BGR, 0-255);
        CaffeNet defaults to the ILSVRC 2012 mean, Places205 and Places365 require one
        (places365CNN_mean.binaryproto, or the ImageNet mean file).
      labels: optional category file (categoryIndex_places205.csv, synset_words.txt,
        categories_places365.txt, IO_places365.txt); default: the network's list shipped
        with geovec where there is one (Places365's IO_places365.txt).
      out: output file; default ``<weights dir>/<net>.safetensors``.

    Raises:
      CaffeFormatError, ArchitectureMismatchError, LabelsError, GeovecError. On any error
      no output file is left behind.
    """
    info = network(net)
    src = Path(caffemodel)
    mean_bgr = _read_mean(info, Path(mean) if mean else None)
    if labels is None and info.labels_file:
        labels = data_dir("weights") / info.labels_file
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
