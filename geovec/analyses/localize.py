"""Localise one ground image (paper, Figure 10): score every map tile of its region, best
tiles first, the true tile's rank when the photo's position is known.

The K nearest training images it averages are the evaluation's: for an isolated image, all
of them (as ``evaluate`` scores it); for any other photo (a stored image that is not
isolated, or an image file with a position), all but those within the isolation radius of
its position (WGS84 geodesic), since a test image of ``evaluate`` has none there (that is
what isolated means): otherwise a photo would be scored with its own neighbours' aerials,
a flattering rank. ``left_out`` says how many were left out, within ``left_out_within_m``
metres.

The best guess is the top tile (``best_id``, its centre ``best_lonlat``), chosen as
``evaluate`` chooses it (:func:`geovec.analyses.knn.settle_best`); ``error_m`` is the
geodesic from its centre to the photo's position when that is known. With a GPS prior
(``prior_m``) only the tiles within that many metres of the prior position are ranked:
``prior_lonlat`` given, else the photo's position moved ``prior_noise_m`` metres as
:mod:`geovec.analyses.priors` moves it (by the photo's id or file name and ``seed``).

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

from geovec.analyses.dead_ends import no_training
from geovec.analyses.knn import neighbour_mean, partial_ranks, settle_best, tile_ranks
from geovec.analyses.priors import Prior, candidates_within
from geovec.analyses.region_data import RegionData, load_region_data
from geovec.analyses.regions import containing_tiles
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_NEIGHBORS, DEFAULT_RADIUS_M, DEFAULT_TOP
from geovec.errors import GeovecError
from geovec.geodesy import distance_m
from geovec.heads.file import Head, as_head
from geovec.ingestion.embeddings import require_computable
from geovec.store import Store
from geovec.store.filters import id_filter
from geovec.store.regions import region_address, region_key, region_label


@dataclasses.dataclass
class Localization:
    """Tiles ranked for one query. lon/lat in decimal degrees; distance in feature units.

    ``best`` is an Arrow table (id, lon, lat, distance) of the best tiles, nearest first;
    ``scores`` the distance of every tile, in the order of ``tile_lonlat``. ``left_out``:
    training images within ``left_out_within_m`` metres of the photo's position, left out
    of its nearest neighbours as the evaluation's are (see the module); None with a learned
    head, which averages no neighbours. ``left_out_within_m`` is None where nothing is left
    out by position: an isolated image (none is that close), or an unknown position."""

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
    left_out: int | None = None
    left_out_within_m: float | None = None
    isolated: bool | None = None  # the stored image's flag (None: a file, or not isolated yet)
    best_id: str | None = None  # the best guess: the top tile
    best_lonlat: tuple[float, float] | None = None  # its centre, decimal degrees
    error_m: float | None = None  # geodesic metres from it to the photo (None: unknown)
    prior: dict | None = None  # radius_m, noise_m, seed, lon, lat, candidates, true_outside

    def guess(self) -> str:
        """One line on the best guess: its tile and position, and its error when the
        photo's position is known."""
        lon, lat = self.best_lonlat
        error = "" if self.error_m is None else f": {self.error_m:.0f} m from the photo"
        return f"best guess {self.best_id} at lon {lon:.5f} lat {lat:.5f}{error}"

    def prior_note(self) -> str | None:
        """One line on the GPS prior (None without one)."""
        if not self.prior:
            return None
        p = self.prior
        outside = "; the true tile lies outside it (a miss)" if p["true_outside"] else ""
        return (
            f"prior {p['radius_m']:g} m around lon {p['lon']:.5f} lat {p['lat']:.5f}: "
            f"{p['candidates']} candidate tiles{outside}"
        )

    def rank_line(self) -> str:
        """One line on the true tile: its rank, or why the photo has none (no position:
        a file without EXIF GPS, a stored photo of a pair-only dataset; or no map tile
        containing its position)."""
        if self.true_rank is not None:
            return f"true tile {self.true_tile}: rank {self.true_rank} of {self.candidates}"
        if not _known(self.true_lonlat):
            return (
                "true rank unknown: the photo has no position (no EXIF GPS in the file, or "
                "none stored), so no tile is known to be its own"
            )
        lon, lat = self.true_lonlat
        if self.true_tile is not None:  # inside a tile that the prior left out
            return f"true rank unknown: its tile {self.true_tile} is not among the candidates"
        return (
            f"true rank unknown: no map tile of {region_label(self.region)} contains the "
            f"photo's position (lon {lon:.5f}, lat {lat:.5f})"
        )

    def note(self) -> str | None:
        """One line on the neighbours left out, None when there is nothing to say (an
        isolated image, a learned head)."""
        if self.left_out is None or (self.left_out_within_m is None and self.isolated):
            return None
        if self.left_out_within_m is None:
            return "position unknown: no training image left out of its nearest neighbours"
        return (
            f"left out {self.left_out} training images within {self.left_out_within_m:g} m of "
            "the photo from its nearest neighbours, as for the isolated images of evaluate"
        )

    def as_dict(self) -> dict:
        """For JSON: ``best`` as a list of rows, without the per-tile arrays; ``note`` the
        line of :meth:`note`."""
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("scores", "tile_lonlat", "tile_ids", "tile_paths", "tile_size_m")
        }
        out["best"] = self.best.to_pylist()
        out["note"] = self.note()
        out["rank_line"] = self.rank_line()
        return out


def _stored_query(store: Store, feature: str, ident: str):
    store.require_feature("ground", feature)
    columns = ["id", "region", "lon", "lat", "isolated", feature]
    rows = store.read("ground", columns, id_filter([ident]))
    if rows.num_rows == 0:
        raise GeovecError(f"no ground image with id {ident!r}")
    row = rows.to_pylist()[0]
    if row[feature] is None:
        raise GeovecError(
            f"ground image {ident!r} lacks {feature}: geovec extract {store.path} "
            f"--features {feature} --view ground"
        )
    vec = np.asarray(row[feature], np.float32)
    return vec, row["region"], (row["lon"], row["lat"]), ident, row["isolated"]


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
    return vec, None, true, str(image), None


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
    radius_m: float = DEFAULT_RADIUS_M,
    data: RegionData | None = None,
    prior_m: float | None = None,
    prior_lonlat: tuple[float, float] | None = None,
    prior_noise_m: float = 0.0,
    seed: int = 0,
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
      radius_m: the isolation radius (metres, as ``geovec isolate`` used): training images
        this close to the photo are left out of its nearest neighbours, as the evaluation's
        test images have none.
      data: the region's inputs as :func:`load_region_data` gives them for ``feature`` (a
        caller localising many photos of one store version loads them once); read here
        when not given.
      prior_m: a GPS prior: rank only the tiles within this many metres (geodesic) of
        ``prior_lonlat`` (lon, lat, decimal degrees), else of the photo's position moved
        ``prior_noise_m`` metres in a random direction drawn with ``seed``.
    """
    if not 0 < radius_m < float("inf"):  # NaN and inf too
        raise GeovecError(f"the isolation radius must be positive metres, got {radius_m}")
    if (image is None) == (id is None):
        raise GeovecError("give an image file or the id of a stored ground image (one of them)")
    learned = None
    if head is not None:
        learned = as_head(head)
        learned.check_store(store, ("map",) if image is not None else ("ground", "map"))
        feature = learned.ground_feature
    if id is not None:
        vec, own_region, true_lonlat, label, isolated = _stored_query(store, feature, id)
    else:
        require_computable(store, "ground", feature, "localize a stored image by its id")
        vec, own_region, true_lonlat, label, isolated = _image_query(Path(image), feature)
    if region is None and id is not None:  # the stored photo's own ("": it has none)
        region = region_address(own_region)
    if data is not None:
        if region is not None and data.region != region_key(region):
            raise GeovecError(
                f"the region data given are of {region_label(data.region)!r}, "
                f"not {region_label(region)!r}"
            )
        datasets = [data]
    else:
        datasets = load_region_data(
            store, feature, region, learned.overhead_feature if learned is not None else None
        )
    if region is None and len(datasets) > 1:
        names = ", ".join(region_label(d.region) for d in datasets)
        raise GeovecError(
            f"the store has several regions ({names}): say which region to search "
            '(--region NAME; --region "" for the rows without a region)'
        )
    d = datasets[0]
    prior = None
    if prior_m is not None:
        d, prior = _within_prior(
            store, d, prior_m, prior_lonlat, prior_noise_m, seed, label, true_lonlat
        )
    elif prior_lonlat is not None or prior_noise_m or seed:
        raise GeovecError("a prior position, noise or seed goes with a prior radius (prior_m)")
    tiles = d.tiles
    left_out = within_m = None
    if learned is not None:
        predicted, tiles = learned.embed_ground(vec[None]), learned.embed_overhead(tiles)
    else:
        by_position = not isolated and _known(true_lonlat)  # an isolated image has none near
        near = _near_photo(
            store, d.train_ids, true_lonlat if by_position else None, radius_m, d.train_lonlat
        )
        train = [i for i, t in enumerate(d.train_ids) if t != id and not near[i]]
        left_out = sum(1 for i, t in enumerate(d.train_ids) if t != id and near[i])
        within_m = float(radius_m) if by_position else None
        if left_out and not train:
            raise GeovecError(
                f"every training image of region {region_label(d.region)} lies within "
                f"{radius_m:g} m of the "
                "photo: none is left to average (an evaluation would not score it either)"
            )
        if not train:
            raise GeovecError(
                f"region {region_label(d.region)} has no training pair to average (a "
                "non-isolated photo with an overhead image): " + no_training(store, feature)
            )
        predicted = neighbour_mean(
            vec[None], d.train_ground[train], d.train_aerial[train], neighbors
        )
    true_tile = None
    if true_lonlat is not None:  # the tile whose footprint contains the photo, as evaluate
        with store.cursor() as con:
            true_tile = containing_tiles(con, [(label, *true_lonlat)], region=d.region).get(label)
    inside = true_tile in d.tile_ids
    if prior is not None:
        prior["true_outside"] = bool(true_tile) and not inside
    true_idx = np.array([d.tile_ids.index(true_tile) if inside else 0])
    rank, scores = tile_ranks(predicted, tiles, true_idx, keep_scores=True)
    scores = scores[0]
    _, nearest, _ = partial_ranks(predicted, tiles, true_idx, len(tiles))
    best_i = int(settle_best(rank, nearest, true_idx)[0] if inside else nearest[0])
    rest = [i for i in np.argsort(scores, kind="stable") if i != best_i]
    order = np.array([best_i, *rest[: max(top - 1, 0)]], np.int64)[:top]
    best_lonlat = (float(d.tile_lonlat[best_i, 0]), float(d.tile_lonlat[best_i, 1]))
    error_m = None
    if _known(true_lonlat):
        error_m = float(distance_m(*best_lonlat, *true_lonlat))
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
        true_rank=int(rank[0]) if inside else None,
        candidates=len(d.tile_ids),
        scores=scores,
        tile_lonlat=d.tile_lonlat,
        tile_ids=d.tile_ids,
        tile_paths=d.tile_paths,
        tile_size_m=d.tile_size_m,
        true_lonlat=true_lonlat,
        left_out=left_out,
        left_out_within_m=within_m,
        isolated=isolated,
        best_id=d.tile_ids[best_i],
        best_lonlat=best_lonlat,
        error_m=error_m,
        prior=prior,
    )


def _within_prior(store, d: RegionData, radius_m, lonlat, noise_m, seed, label, true_lonlat):
    """The region's data narrowed to the tiles within ``radius_m`` metres of the prior,
    and the prior's facts (for :attr:`Localization.prior`)."""
    prior = Prior(radius_m, noise_m, seed)
    if lonlat is not None:
        if noise_m:
            raise GeovecError("a given prior position is not moved: no prior noise with it")
        p_lon, p_lat = (float(v) for v in lonlat)
        if not (-180 <= p_lon <= 180 and -90 <= p_lat <= 90):
            raise GeovecError(f"the prior must be lon,lat in decimal degrees, got {lonlat}")
    elif _known(true_lonlat):
        moved = prior.positions([label], [true_lonlat[0]], [true_lonlat[1]])
        p_lon, p_lat = float(moved[0][0]), float(moved[1][0])
    else:
        raise GeovecError(
            "a prior radius needs a prior position (lon,lat) or a photo whose position is known"
        )
    with store.cursor() as con:
        _, keep = candidates_within(
            con, [p_lon], [p_lat], d.tile_lonlat[:, 0], d.tile_lonlat[:, 1], radius_m
        )
    if len(keep) == 0:
        raise GeovecError(
            f"no map tile of region {region_label(d.region)} lies within {radius_m:g} m "
            "of the prior "
            f"(lon {p_lon:.5f}, lat {p_lat:.5f})"
        )
    facts = {**prior.as_dict(), "lon": p_lon, "lat": p_lat, "candidates": len(keep)}
    sizes = d.tile_size_m[keep] if d.tile_size_m is not None else None
    narrowed = dataclasses.replace(
        d,
        tile_ids=[d.tile_ids[i] for i in keep],
        tiles=d.tiles[keep],
        tile_lonlat=d.tile_lonlat[keep],
        tile_paths=[d.tile_paths[i] for i in keep] if d.tile_paths else [],
        tile_size_m=sizes,
    )
    return narrowed, facts


def _known(lonlat) -> bool:
    return lonlat is not None and None not in lonlat


def _near_photo(
    store: Store, ids: list[str], lonlat, radius_m: float, positions: np.ndarray | None = None
) -> np.ndarray:
    """Per ground id, whether its position lies within ``radius_m`` metres (geodesic) of
    ``lonlat``; all False when ``lonlat`` is unknown, False for ids without a position.
    ``positions``: the ids' lon/lat (N, 2), when known (else read from the store)."""
    if not _known(lonlat) or not ids:
        return np.zeros(len(ids), bool)
    if positions is not None and len(positions) == len(ids):
        lon, lat = positions[:, 0].astype(float), positions[:, 1].astype(float)
    else:
        rows = store.read("ground", ["id", "lon", "lat"])
        at = {i: k for k, i in enumerate(rows.column("id").to_pylist())}
        take = np.array([at[i] for i in ids], np.int64)
        lon = rows.column("lon").to_numpy(zero_copy_only=False).astype(float)[take]
        lat = rows.column("lat").to_numpy(zero_copy_only=False).astype(float)[take]
    located = np.isfinite(lon) & np.isfinite(lat)
    near = np.zeros(len(ids), bool)
    if located.any():
        near[located] = distance_m(lonlat[0], lonlat[1], lon[located], lat[located]) <= radius_m
    return near
