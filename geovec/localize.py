"""Localise one ground image (paper, Figure 10): score every map tile, best tiles first.

>>> result = localize(geovec.open("geo"), image="photo.jpg", feature="gist")  # doctest: +SKIP
>>> result.best[0]
{'id': 'charleston_t017', 'lon': -79.93, 'lat': 32.77, 'distance': 0.41}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.crossview import (
    DEFAULT_FEATURE,
    DEFAULT_NEIGHBORS,
    containing_tiles,
    load_region_data,
    neighbour_mean,
    tile_ranks,
)
from geovec.errors import GeovecError
from geovec.sql import connect
from geovec.store import Store, id_filter


@dataclasses.dataclass
class Localization:
    """Tiles ranked for one query. lon/lat in decimal degrees; distance in feature units."""

    query: str
    feature: str
    region: str | None
    best: list[dict]
    true_tile: str | None
    true_rank: int | None
    candidates: int
    scores: np.ndarray = dataclasses.field(repr=False)
    tile_lonlat: np.ndarray = dataclasses.field(repr=False)
    true_lonlat: tuple[float, float] | None = None

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("scores")
        d.pop("tile_lonlat")
        return d


def _query_vector(store: Store, feature: str, image: Path | None, ident: str | None):
    if ident is not None:
        store.require_feature("ground", feature)
        rows = store.read("ground", ["id", "region", "lon", "lat", feature], id_filter([ident]))
        if rows.num_rows == 0:
            raise GeovecError(f"no ground image with id {ident!r}")
        row = rows.to_pylist()[0]
        if row[feature] is None:
            raise GeovecError(f"ground image {ident!r} lacks {feature}; run geovec extract")
        vec = np.asarray(row[feature], np.float32)
        return vec, row["region"], (row["lon"], row["lat"]), ident
    from geovec.decode import load_rgb
    from geovec.extract import FeatureExtractor
    from geovec.sources import exif_position

    if image is None or not Path(image).is_file():
        raise GeovecError(f"{image}: no such image")
    vec = FeatureExtractor([feature], batch_size=1).extract([load_rgb(image)])[feature][0]
    try:
        true = exif_position(Path(image))
    except ValueError:
        true = None
    return vec, None, true, str(image)


def localize(
    store: Store,
    image: str | Path | None = None,
    *,
    ident: str | None = None,
    feature: str = DEFAULT_FEATURE,
    neighbors: int = DEFAULT_NEIGHBORS,
    region: str | None = None,
    top: int = 10,
) -> Localization:
    """Rank the map tiles for one ground image (a file, or a stored image by ``ident``)."""
    vec, own_region, true_lonlat, label = _query_vector(
        store, feature, Path(image) if image else None, ident
    )
    region = region or own_region
    datasets = load_region_data(store, feature, region)
    if region is None and len(datasets) > 1:
        names = ", ".join(str(d.region) for d in datasets)
        raise GeovecError(f"say which region to search with --region ({names})")
    d = datasets[0]
    train = [i for i, t in enumerate(d.train_ids) if t != ident]
    predicted = neighbour_mean(vec[None], d.train_ground[train], d.train_aerial[train], neighbors)
    true_tile = None
    if true_lonlat is not None:  # the tile whose footprint contains the photo, as evaluate
        with connect(store) as con:
            true_tile = containing_tiles(con, d.region, d.crs, [(label, *true_lonlat)]).get(label)
    true_idx = d.tile_ids.index(true_tile) if true_tile else 0
    rank, scores = tile_ranks(predicted, d.tiles, np.array([true_idx]), keep_scores=True)
    scores = scores[0]
    order = np.argsort(scores)[:top]
    best = [
        {
            "id": d.tile_ids[i],
            "lon": float(d.tile_lonlat[i, 0]),
            "lat": float(d.tile_lonlat[i, 1]),
            "distance": float(scores[i]),
        }
        for i in order
    ]
    return Localization(
        query=label,
        feature=feature,
        region=d.region,
        best=best,
        true_tile=true_tile,
        true_rank=int(rank[0]) if true_tile else None,
        candidates=len(d.tile_ids),
        scores=scores,
        tile_lonlat=d.tile_lonlat,
        true_lonlat=true_lonlat,
    )


def write_heatmap(result: Localization, path: Path) -> Path:
    """Paper Figure 10: every tile's score, the best tile and the true location marked."""
    from geovec.plots import tile_heatmap

    rank = (
        f", true tile rank {result.true_rank} of {result.candidates}"
        if result.true_rank is not None
        else ""
    )
    return tile_heatmap(
        result.tile_lonlat,
        result.scores,
        path,
        result.true_lonlat,
        best=int(np.argmin(result.scores)),
        title=f"{result.feature}{rank}",
    )
