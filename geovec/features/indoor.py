"""The indoor/outdoor filter: Places205's top-1 scene category, mapped to indoor or
outdoor with the Places365 label file (weights/IO_places365.txt) plus a small table for
the Places205 names it lacks (weights/places205_io_extra.txt).
"""

from __future__ import annotations

import functools

import numpy as np

from geovec.errors import GeovecError
from geovec.resources import data_dir

INDOOR, OUTDOOR = 1, 2


@functools.cache
def io_table() -> dict[str, int]:
    """Scene category path (``/k/kitchen``) → 1 (indoor) or 2 (outdoor)."""
    table: dict[str, int] = {}
    for name in ("IO_places365.txt", "places205_io_extra.txt"):
        for line in (data_dir("weights") / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                category, value = line.rsplit(maxsplit=1)
                table[category] = int(value)
    return table


def category_io(category: str) -> int | None:
    """1 indoor, 2 outdoor, None when unknown. ``/x/name/indoor`` decides by its suffix."""
    if category.endswith("/indoor"):
        return INDOOR
    if category.endswith("/outdoor"):
        return OUTDOOR
    table = io_table()
    if category in table:
        return table[category]
    return table.get(category.rsplit("/", 1)[0]) if category.count("/") > 2 else None


def indoor_mask(prob: np.ndarray, labels: list[str] | None) -> np.ndarray:
    """True where the top-1 Places category of each (N, 205) probability row is indoor.

    Raises:
      GeovecError: the converted Places weights carry no category names.
    """
    if not labels:
        raise GeovecError(
            "the indoor/outdoor filter needs Places205 category names: reconvert with "
            "geovec weights convert ... --net places205 --labels categoryIndex_places205.csv"
        )
    prob = np.asarray(prob)
    if prob.ndim != 2 or prob.shape[1] != len(labels):
        raise GeovecError(f"expected (N, {len(labels)}) probabilities, got {prob.shape}")
    io = np.array([category_io(name) == INDOOR for name in labels])
    return io[prob.argmax(axis=1)]


def top_categories(prob: np.ndarray, labels: list[str]) -> list[str]:
    """The top-1 Places category name of each (N, len(labels)) probability row."""
    return [labels[i] for i in np.asarray(prob).argmax(axis=1)]
