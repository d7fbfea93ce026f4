"""What ingest reads and what it rejects: one :class:`Record` per image to ingest, one
:class:`Failure` per input that could not be used."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.errors import ImageDecodeError
from geovec.store.finite import nonfinite_rows


@dataclasses.dataclass(frozen=True)
class Record:
    """One image to ingest. ``lon``, ``lat`` in WGS84 decimal degrees (None for the ground
    and overhead images of pair-only datasets); ``pair`` links a ground image to its
    overhead image's id, ``semi_pairs`` to aerials that show it off centre (VIGOR)."""

    id: str
    path: Path
    view: str
    lon: float | None
    lat: float | None
    region: str | None = None
    source: str | None = None
    pair: str | None = None
    split: str | None = None
    size_m: float | None = None
    semi_pairs: tuple[str, ...] | None = None


@dataclasses.dataclass
class Failure:
    """An input that could not be used, and why (a row of the ``failures`` table)."""

    path: str
    view: str
    stage: str
    error: str

    def row(self) -> dict:
        return dataclasses.asdict(self)


PREPARE_ERRORS = (ImageDecodeError, ValueError, MemoryError)
"""What decoding and preprocessing an image may raise: the image becomes a failure row."""


def failure_stage(exc: BaseException) -> str:
    """The ``stage`` of a failure row for one of :data:`PREPARE_ERRORS`."""
    return "decode" if isinstance(exc, ImageDecodeError) else "preprocess"


def failure_reason(exc: BaseException) -> str:
    """The ``error`` of a failure row: the exception's message, or its class name when it
    has none (``str(MemoryError())`` is empty)."""
    return str(exc) or exc.__class__.__name__


def prepare_failure(record: Record, exc: BaseException) -> Failure:
    """The failure row of an image whose decoding or preprocessing raised ``exc``."""
    return Failure(str(record.path), record.view, failure_stage(exc), failure_reason(exc))


FEATURES_STAGE = "features"
"""The stage of an image whose features came out NaN or infinite."""


def split_finite(
    records: list[Record], values: dict[str, np.ndarray]
) -> tuple[list[Record], dict[str, np.ndarray], list[Failure]]:
    """The rows of a chunk whose every feature is finite (records and (N, D) values, in
    order), and a failure row (stage ``features``) for each of the others: a NaN would
    rank as the best match of every comparison it enters."""
    bad = {name: nonfinite_rows(v) for name, v in values.items()}
    refused = np.logical_or.reduce([*bad.values(), np.zeros(len(records), bool)])
    if not refused.any():
        return records, values, []
    failures = [
        Failure(
            str(records[i].path),
            records[i].view,
            FEATURES_STAGE,
            "NaN or infinity in " + ", ".join(name for name, b in bad.items() if b[i]),
        )
        for i in np.flatnonzero(refused)
    ]
    keep = np.flatnonzero(~refused)
    return [records[i] for i in keep], {n: v[keep] for n, v in values.items()}, failures
