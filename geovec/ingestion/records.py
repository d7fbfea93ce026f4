"""What ingest reads and what it rejects: one :class:`Record` per image to ingest, one
:class:`Failure` per input that could not be used."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Record:
    """One image to ingest. ``lon``, ``lat`` in WGS84 decimal degrees."""

    id: str
    path: Path
    view: str
    lon: float
    lat: float
    region: str | None = None
    source: str | None = None
    pair: str | None = None
    split: str | None = None
    size_m: float | None = None


@dataclasses.dataclass
class Failure:
    """An input that could not be used, and why (a row of the ``failures`` table)."""

    path: str
    view: str
    stage: str
    error: str

    def row(self) -> dict:
        return dataclasses.asdict(self)
