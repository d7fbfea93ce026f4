"""What ingest reads and what it rejects: one :class:`Record` per image to ingest, one
:class:`Failure` per input that could not be used."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from geovec.errors import ImageDecodeError


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
