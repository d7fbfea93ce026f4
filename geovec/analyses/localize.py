"""Localise one ground image (paper, Figure 10): score every map tile of its region, best
tiles first, the true tile's rank when the photo's position is known.

>>> result = localize(demo_store, "gist", id=demo_query)
>>> result.best.column_names
['id', 'lon', 'lat', 'distance']
>>> result.candidates == len(result.scores)
True
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa

from geovec.analyses.knn import neighbour_mean, tile_ranks
from geovec.analyses.region_data import load_region_data
from geovec.analyses.regions import containing_tiles
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_NEIGHBORS, DEFAULT_TOP
from geovec.errors import GeovecError
from geovec.heads.file import Head, as_head
from geovec.store import Store
from geovec.store.filters import id_filter


@dataclasses.dataclass
class Localization:
    """Tiles ranked for one query. lon/lat in decimal degrees; distance in feature units.

    ``best`` is an Arrow table (id, lon, lat, distance) of the best tiles, nearest first;
    ``scores`` the distance of every tile, in the order of ``tile_lonlat``."""

    query: str
    feature: str
    region: str | None
    best: pa.Table
    true_tile: str | None
    true_rank: int | None
    candidates: int
    scores: np.ndarray = dataclasses.field(repr=False)
    tile_lonlat: np.ndarray = dataclasses.field(repr=False)
    tile_ids: list = dataclasses.field(default_factory=list, repr=False)
    tile_paths: list = dataclasses.field(default_factory=list, repr=False)
    tile_size_m: np.ndarray | None = dataclasses.field(default=None, repr=False)
    true_lonlat: tuple[float, float] | None = None

    def as_dict(self) -> dict:
        """For JSON: ``best`` as a list of rows, without the per-tile arrays."""
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("scores", "tile_lonlat", "tile_ids", "tile_paths", "tile_size_m")
        }
        out["best"] = self.best.to_pylist()
        return out


def _stored_query(store: Store, feature: str, ident: str):
    store.require_feature("ground", feature)
    rows = store.read("ground", ["id", "region", "lon", "lat", feature], id_filter([ident]))
    if rows.num_rows == 0:
        raise GeovecError(f"no ground image with id {ident!r}")
    row = rows.to_pylist()[0]
    if row[feature] is None:
        raise GeovecError(f"ground image {ident!r} lacks {feature}; compute it with geovec extract")
    return np.asarray(row[feature], np.float32), row["region"], (row["lon"], row["lat"]), ident


def _image_query(image: Path, feature: str):
    from geovec.features.decode import load_rgb
    from geovec.features.extract import FeatureExtractor
    from geovec.ingestion.exif import exif_position

    if not image.is_file():
        raise GeovecError(f"{image}: no such image")
    vec = FeatureExtractor([feature], batch_size=1).extract([load_rgb(image)])[feature][0]
    try:
        true = exif_position(image)
    except ValueError:
        true = None
    return vec, None, true, str(image)


def localize(
    store: Store,
    feature: str = DEFAULT_FEATURE,
    *,
    image: str | Path | None = None,
    id: str | None = None,  # noqa: A002 - the stored image's id, as in the tables
    neighbors: int = DEFAULT_NEIGHBORS,
    region: str | None = None,
    top: int = DEFAULT_TOP,
    head: str | Path | Head | None = None,
) -> Localization:
    """Rank the map tiles for one ground image: an image file (its EXIF GPS position, when
    it has one, gives the true tile) or a stored ground image by ``id``.

    Args:
      region: whose tiles to score (default: the stored image's; needed for a file when
        the store has several regions).
      top: how many best tiles to keep.
      head: score with a learned head (``geovec train``) instead of the paper's kNN
        average: its ground embedding of the photo against its overhead embedding of every
        tile; its ground feature replaces ``feature``.
    """
    if (image is None) == (id is None):
        raise GeovecError("give an image file or the id of a stored ground image (one of them)")
    learned = None
    if head is not None:
        learned = as_head(head)
        learned.check_store(store, ("map",) if image is not None else ("ground", "map"))
        feature = learned.ground_feature
    if id is not None:
        vec, own_region, true_lonlat, label = _stored_query(store, feature, id)
    else:
        vec, own_region, true_lonlat, label = _image_query(Path(image), feature)
    region = region or own_region
    datasets = load_region_data(
        store, feature, region, learned.overhead_feature if learned is not None else None
    )
    if region is None and len(datasets) > 1:
        names = ", ".join(str(d.region) for d in datasets)
        raise GeovecError(f"the store has several regions ({names}): say which region to search")
    d = datasets[0]
    tiles = d.tiles
    if learned is not None:
        predicted, tiles = learned.embed_ground(vec[None]), learned.embed_overhead(tiles)
    else:
        train = [i for i, t in enumerate(d.train_ids) if t != id]
        predicted = neighbour_mean(
            vec[None], d.train_ground[train], d.train_aerial[train], neighbors
        )
    true_tile = None
    if true_lonlat is not None:  # the tile whose footprint contains the photo, as evaluate
        with store.cursor() as con:
            true_tile = containing_tiles(con, [(label, *true_lonlat)], region=d.region).get(label)
    true_idx = d.tile_ids.index(true_tile) if true_tile else 0
    rank, scores = tile_ranks(predicted, tiles, np.array([true_idx]), keep_scores=True)
    scores = scores[0]
    order = np.argsort(scores)[:top]
    best = pa.table(
        {
            "id": [d.tile_ids[i] for i in order],
            "lon": d.tile_lonlat[order, 0],
            "lat": d.tile_lonlat[order, 1],
            "distance": scores[order].astype(np.float64),
        }
    )
    return Localization(
        query=label,
        feature=learned.name if learned is not None else feature,
        region=d.region,
        best=best,
        true_tile=true_tile,
        true_rank=int(rank[0]) if true_tile else None,
        candidates=len(d.tile_ids),
        scores=scores,
        tile_lonlat=d.tile_lonlat,
        tile_ids=d.tile_ids,
        tile_paths=d.tile_paths,
        tile_size_m=d.tile_size_m,
        true_lonlat=true_lonlat,
    )
