"""The ONNX encoders a user added: each a model file and its record in the weights directory.

``add_onnx`` checks a model (:func:`~geovec.encoders.model.inspect_model`), copies it to
``<weights dir>/onnx/<name>.onnx`` and writes ``<name>.json`` beside it: the file's
sha256, size and origin, the input and output it is fed by, the feature length and the
preprocessing (:class:`~geovec.encoders.preprocessing.Preprocessing`). Both are written
atomically (a temporary file, then a rename). From then on ``name`` is a feature name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from geovec.defaults import __version__
from geovec.encoders.model import ModelFacts, inspect_model, onnxruntime, open_session
from geovec.encoders.preprocessing import Preprocessing, default_mean_std
from geovec.errors import EncoderError
from geovec.nets.alexnet import FEATURE_LAYERS
from geovec.nets.registry import networks
from geovec.nets.weights import weights_dir, write_atomically
from geovec.store.schema import BASE_SCHEMAS

FORMAT = "geovec-onnx-encoder-1"
NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A feature name: lower-case letters, digits and underscores, a letter first."""


def encoders_dir() -> Path:
    """Where added ONNX encoders live: ``<weights dir>/onnx``."""
    return weights_dir() / "onnx"


@dataclasses.dataclass(frozen=True)
class EncoderInfo:
    """An added ONNX encoder: its name (= feature name), model file, sha256, the model's
    input/output facts and the preprocessing of its input."""

    name: str
    path: Path
    sha256: str
    size_bytes: int
    source_file: str
    facts: ModelFacts
    preprocessing: Preprocessing
    record: Path

    @property
    def dim(self) -> int:
        return self.facts.dim


def builtin_features() -> set[str]:
    """Feature names geovec computes itself (GIST and every network's layers)."""
    names = {"gist"}
    for info in networks().values():
        names |= {f"{info.feature_prefix}_{layer}" for layer in FEATURE_LAYERS}
    return names


def check_name(name: str) -> str:
    """``name`` if it can name a new feature column; an EncoderError saying why not."""
    if not NAME.fullmatch(name or ""):
        raise EncoderError(
            f"encoder name {name!r} must be lower-case letters, digits and underscores, "
            "a letter first, at most 63 characters (it names a feature column)"
        )
    if name in builtin_features():
        raise EncoderError(f"{name!r} is one of geovec's own features; choose another --name")
    reserved = {f for schema in BASE_SCHEMAS.values() for f in schema.names} | {"features"}
    if name in reserved:
        raise EncoderError(f"{name!r} is a column of geovec's tables; choose another --name")
    return name


def sha256_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _record_path(name: str) -> Path:
    return encoders_dir() / f"{name}.json"


def encoder_names() -> list[str]:
    """Names of the added encoders, sorted."""
    folder = encoders_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if NAME.fullmatch(p.stem))


def find_encoder(name: str) -> EncoderInfo | None:
    """The added encoder ``name``, None when there is none of that name.

    Raises:
      EncoderError: its record is unreadable or damaged.
    """
    if not NAME.fullmatch(name or ""):
        return None
    record = _record_path(name)
    if not record.is_file():
        return None
    try:
        facts = json.loads(record.read_text())
        if facts.get("format") != FORMAT:
            raise ValueError(f"format {facts.get('format')!r}, not {FORMAT}")
        return EncoderInfo(
            name=name,
            path=record.parent / facts["model"],
            sha256=facts["sha256"],
            size_bytes=int(facts["size_bytes"]),
            source_file=facts.get("source_file", ""),
            facts=ModelFacts(**facts["model_facts"]),
            preprocessing=Preprocessing.from_dict(facts["preprocessing"]),
            record=record,
        )
    except EncoderError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EncoderError(
            f"{record}: damaged encoder record ({exc}); add the model again with "
            f"geovec weights add-onnx MODEL.onnx --name {name}"
        ) from None


def encoder_info(name: str) -> EncoderInfo:
    """The added encoder ``name``; an EncoderError naming the add-onnx command otherwise."""
    info = find_encoder(name)
    if info is None:
        raise EncoderError(
            f"no ONNX encoder named {name!r} in {encoders_dir()}; add one with: "
            f"geovec weights add-onnx MODEL.onnx --name {name}"
        )
    return info


def _copy(source: Path, folder: Path) -> tuple[Path, str]:
    """Copy ``source`` into ``folder`` as a temporary file; (its path, the sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".onnx.tmp")
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(8 << 20):
                digest.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), digest.hexdigest()


def add_onnx(
    model: str | Path,
    name: str,
    *,
    size: int | None = None,
    mean: tuple[float, float, float] | None = None,
    std: tuple[float, float, float] | None = None,
    scale: int = 1,
    channels: str = "rgb",
    crop: str = "none",
    output: str | None = None,
) -> EncoderInfo:
    """Check an ONNX image encoder and add it as the feature ``name``.

    Args:
      model: the .onnx file (one NCHW float32 image input, fixed or dynamic batch; one
        [batch, dim] output, or several and ``output`` naming one).
      name: the feature name (a new column name).
      size: input side S in pixels (default: the model's fixed side, else 224).
      mean, std: per R, G, B channel on the ``scale`` (default: ImageNet's).
      scale: 1 (pixels / 255, values 0-1) or 255 (0-255).
      channels: "rgb" or "bgr" (the order the model was trained on).
      crop: "none" (resize the whole image to S x S) or "centre" (shorter side to S, then
        the centre S x S).
      output: which output to read, where the model has several.

    Returns the encoder's record. Adding the same file with the same settings again is a
    no-op.

    Raises:
      EncoderError: the model, the name or the settings do not fit (one line saying what).
    """
    source = Path(model)
    check_name(name)
    if crop == "center":
        crop = "centre"
    scale = int(scale)
    default_mean, default_std = default_mean_std(scale)
    facts = inspect_model(source, size=size, output=output)
    prep = Preprocessing(
        size=facts.side,
        mean=tuple(mean) if mean is not None else default_mean,
        std=tuple(std) if std is not None else default_std,
        scale=scale,
        channels=channels,
        crop=crop,
    )
    folder = encoders_dir()
    tmp, sha256 = _copy(source, folder)
    try:
        existing = find_encoder(name)
        if existing is not None:
            if (
                existing.sha256 == sha256
                and existing.preprocessing == prep
                and (existing.facts == facts)
            ):
                return existing
            raise EncoderError(
                f"an encoder named {name!r} is already added ({existing.source_file}, sha256 "
                f"{existing.sha256[:16]}...); choose another --name, or delete "
                f"{existing.record} and {existing.path} first"
            )
        try:
            copied = open_session(tmp)
        except EncoderError:
            raise EncoderError(
                f"{source.name} loads where it is but not once copied: it keeps its weights "
                "in external data files; save it as one file (onnx.save(model, path, "
                "save_as_external_data=False)) and add that"
            ) from None
        if inspect_model(tmp, size=prep.size, output=facts.output, session=copied) != facts:
            raise EncoderError(f"{source.name}: the copy does not behave as the original")
        target = folder / f"{name}.onnx"
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    stat = target.stat()
    record = {
        "format": FORMAT,
        "name": name,
        "model": target.name,
        "sha256": sha256,
        "size_bytes": stat.st_size,
        "source_file": source.name,
        "source_path": str(source.resolve()),
        "model_facts": facts.as_dict(),
        "preprocessing": prep.as_dict(),
        "preprocessing_text": prep.describe(),
        "onnxruntime_version": onnxruntime().__version__,
        "geovec_version": __version__,
        "added_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_atomically(_record_path(name), (json.dumps(record, indent=2) + "\n").encode())
    return encoder_info(name)


def list_encoders() -> list[dict[str, object]]:
    """One row per added encoder: name, length, file, sha256, preprocessing."""
    rows = []
    for name in encoder_names():
        try:
            info = encoder_info(name)
        except EncoderError as exc:
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append(
            {
                "name": name,
                "dim": info.dim,
                "path": str(info.path),
                "present": info.path.is_file(),
                "source_file": info.source_file,
                "sha256": info.sha256,
                "input": info.facts.input,
                "output": info.facts.output,
                "batch": info.facts.batch,
                "preprocessing": info.preprocessing.describe(),
            }
        )
    return rows
