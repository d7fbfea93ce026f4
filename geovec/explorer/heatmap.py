"""A click on a photo: its nearest photos by a feature (``/api/neighbors``) and its
localisation heatmap (``/api/heatmap``, paper Figure 10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from geovec.analyses.search import nearest_ground
from geovec.defaults import DEFAULT_K, DEFAULT_NEIGHBORS
from geovec.errors import GeovecError
from geovec.explorer.geojson import collection, point
from geovec.explorer.requests import RequestError
from geovec.explorer.tiles import check_k
from geovec.geodesy import footprint_rings
from geovec.report.figures import heatmap_colours

if TYPE_CHECKING:
    from geovec.explorer.answers import Explorer

MAX_NEIGHBORS = 1000
"""Most nearest neighbours one heatmap may score each tile with."""


def neighbours(explorer: Explorer, ident: str, feature: str | None = None, k: int = DEFAULT_K):
    """The ``k`` ground images nearest photo ``ident`` by ``feature`` (GeoJSON)."""
    feature = explorer.feature(feature)
    check_k(k)
    found = nearest_ground(explorer.store, feature, id=explorer.ground_id(ident), k=k)
    return {
        "id": ident,
        "feature": feature,
        **collection([point(n.as_dict()) for n in found], len(found), None),
    }


def heatmap(
    explorer: Explorer, ident: str, feature: str | None = None, neighbors: int = DEFAULT_NEIGHBORS
) -> dict:
    """Localise photo ``ident`` (paper, Figure 10): every map tile of its region as a
    GeoJSON polygon with its score (distance; lower is better), rank and colour (the
    heatmap figure's), the best tiles, the true position and tile, the true rank.

    Kept per (photo, feature, neighbours, store version), the region's inputs loaded once
    per store version (:mod:`geovec.explorer.heatmap_cache`)."""
    feature = explorer.feature(feature)
    for view in ("overhead", "map"):
        explorer.feature(feature, view)
    if not 1 <= neighbors <= MAX_NEIGHBORS:
        raise RequestError(f"neighbors must be 1 to {MAX_NEIGHBORS}, got {neighbors}")
    return explorer.heatmaps.answer(
        (ident, feature, neighbors),
        lambda version: _heatmap(explorer, ident, feature, neighbors, version),
    )


def _heatmap(explorer: Explorer, ident: str, feature: str, neighbors: int, version) -> dict:
    found = explorer.heatmaps.localize(explorer.ground_id(ident), feature, neighbors, version)
    sizes = found.tile_size_m
    if sizes is None or not np.isfinite(sizes).any():
        raise GeovecError("the map tiles have no size_m; the heatmap needs their footprints")
    sizes = np.where(np.isfinite(sizes), sizes, np.nanmedian(sizes))
    rings = footprint_rings(
        found.tile_lonlat[:, 0], found.tile_lonlat[:, 1], sizes, continuous=True
    )
    # one numbering with the true rank: 1 + the tiles strictly closer (ties share a rank)
    ranks = 1 + np.searchsorted(np.sort(found.scores), found.scores, side="left")
    ids = found.tile_ids
    if found.true_rank is not None and found.true_tile in ids:
        ranks[ids.index(found.true_tile)] = found.true_rank + 1  # as evaluate counts it
    colours = heatmap_colours(found.scores)
    tiles = [
        {
            "type": "Feature",
            "id": ids[i],
            "geometry": {"type": "Polygon", "coordinates": [rings[i].round(7).tolist()]},
            "properties": {
                "id": ids[i],
                "score": float(found.scores[i]),
                "rank": int(ranks[i]),
                "colour": colours[i],
            },
        }
        for i in range(len(found.scores))
    ]
    out = found.as_dict()
    out["tiles"] = {"type": "FeatureCollection", "features": tiles}
    return out
