"""The indoor/outdoor filter: the top-1 scene category of a Places network, mapped to
indoor or outdoor with the Places365 label file (weights/IO_places365.txt) plus a small
table for the Places205 names it lacks (weights/places205_io_extra.txt).

The network is Places365-AlexNet where its weights are converted (its categories are the
ones IO_places365.txt labels), else Places205 (:func:`scene_network`).
"""

from __future__ import annotations

import functools

import numpy as np

from geovec.errors import GeovecError
from geovec.nets.registry import network
from geovec.nets.weights import available_networks
from geovec.resources import data_dir

INDOOR, OUTDOOR = 1, 2
SCENE_NETWORKS = ("places365", "places205")
"""Networks the filter can read, in order of preference."""


def scene_network() -> tuple[str, str]:
    """(network, its probability feature) that the indoor/outdoor filter reads: Places365
    where its weights are converted, else Places205 (whose weights then must be)."""
    have = set(available_networks())
    net = next((n for n in SCENE_NETWORKS if n in have), SCENE_NETWORKS[-1])
    return net, f"{network(net).feature_prefix}_prob"


@functools.cache
def io_table(net: str = "places205") -> dict[str, int]:
    """Scene category path (``/k/kitchen``) → 1 (indoor) or 2 (outdoor): for Places365 its
    own IO_places365.txt alone, for Places205 that file with the hand-made table laid over
    it (which also says /t/train_station/platform is outdoor where Places365 says indoor)."""
    table: dict[str, int] = {}
    extra = () if net == "places365" else ("places205_io_extra.txt",)
    for name in ("IO_places365.txt", *extra):
        for line in (data_dir("weights") / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                category, value = line.rsplit(maxsplit=1)
                table[category] = int(value)
    return table


def category_io(category: str, net: str = "places205") -> int | None:
    """1 indoor, 2 outdoor, None when unknown, for a category of ``net``'s list.
    ``/x/name/indoor`` decides by its suffix."""
    if category.endswith("/indoor"):
        return INDOOR
    if category.endswith("/outdoor"):
        return OUTDOOR
    table = io_table(net)
    if category in table:
        return table[category]
    return table.get(category.rsplit("/", 1)[0]) if category.count("/") > 2 else None


def indoor_mask(prob: np.ndarray, labels: list[str] | None, net: str = "places205") -> np.ndarray:
    """True where the top-1 Places category of each (N, classes) probability row is indoor.

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
    io = np.array([category_io(name, net) == INDOOR for name in labels])
    return io[prob.argmax(axis=1)]


def top_categories(prob: np.ndarray, labels: list[str]) -> list[str]:
    """The top-1 Places category name of each (N, len(labels)) probability row."""
    return [labels[i] for i in np.asarray(prob).argmax(axis=1)]
