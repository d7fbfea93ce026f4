"""Land-cover visualisation (paper, Figure 7): PCA of a feature over every map tile of a
region; the top three components become R, G, B (each scaled to [0, 1]) and are filled in
between tile centres by natural-neighbour (Sibson) interpolation in the region's metric
frame (:mod:`geovec.analyses.interpolate`).

>>> result = landcover(demo_store, "gist", region="charleston", truth=demo_world.truth)
>>> result.image.shape[2], result.class_accuracy > result.chance
(3, True)
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from geovec.analyses.interpolate import natural_neighbour
from geovec.counts import count
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_PIXELS_PER_TILE
from geovec.errors import GeovecError
from geovec.geo.grid import local_crs
from geovec.store import Store
from geovec.store.regions import region_key, region_label


def pca(x: np.ndarray, components: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N, components) and explained variance ratios, by SVD of the centred data (JAX)."""
    x = jnp.asarray(x, jnp.float32)
    centred = x - x.mean(axis=0)
    u, s, _ = jnp.linalg.svd(centred, full_matrices=False)
    scores = u[:, :components] * s[:components]
    ratio = (s**2 / jnp.maximum(jnp.sum(s**2), 1e-30))[:components]
    return np.asarray(scores), np.asarray(ratio)


@dataclasses.dataclass
class TrueCover:
    """The true land-cover class around each pixel of the image (its nearest tile's)."""

    classes: list[str]  # class names, sorted
    grid: np.ndarray = dataclasses.field(repr=False)  # (H, W) int, index into classes
    colours: dict[str, str] = dataclasses.field(default_factory=dict)  # class -> "#rrggbb"


@dataclasses.dataclass
class LandcoverResult:
    """The synthetic land-cover image and how well its colours separate true classes."""

    region: str | None  # None: the tiles with no region (shown as "no region")
    feature: str
    tiles: int
    explained_variance: list[float]
    image: np.ndarray = dataclasses.field(repr=False)  # (H, W, 3) float in [0, 1], north up
    class_accuracy: float | None = None  # nearest-centroid, leave-one-out, component space
    chance: float | None = None
    truth: TrueCover | None = dataclasses.field(default=None, repr=False)
    origin: tuple[float, float] | None = dataclasses.field(default=None, repr=False)
    """lon, lat (decimal degrees) of the centre of the azimuthal equidistant frame
    (:func:`geovec.geo.grid.local_crs`) the image is drawn in."""
    extent: tuple[float, float, float, float] | None = dataclasses.field(default=None, repr=False)
    """The image's outer edges in that frame: west, east, south, north (metres)."""
    tile_lonlat: np.ndarray | None = dataclasses.field(default=None, repr=False)
    """(N, 2) lon, lat of the tiles' centres (decimal degrees), for their footprints."""
    tile_size_m: np.ndarray | None = dataclasses.field(default=None, repr=False)
    """(N,) the tiles' footprint sides in metres (NaN where unknown)."""

    def as_dict(self) -> dict:
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("image", "truth", "origin", "extent", "tile_lonlat", "tile_size_m")
        }
        return {**out, "region": region_label(self.region)}


def read_truth(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """({id: land-cover class}, {class: "#rrggbb"}) from a CSV with ``id`` and
    ``landcover`` columns and an optional ``colour`` column (``geovec synth`` writes
    truth.csv so)."""
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise GeovecError(f"{path}: cannot read the truth file ({exc})") from None
    if not rows or not {"id", "landcover"} <= set(rows[0]):
        raise GeovecError(f"{path}: a truth file is a CSV with id and landcover columns")
    classes = {r["id"]: r["landcover"] for r in rows}
    colours = {r["landcover"]: r["colour"] for r in rows if r.get("colour")}
    return classes, colours


def _class_accuracy(scores: np.ndarray, labels: list[str]) -> tuple[float, float]:
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    from sklearn.neighbors import NearestCentroid

    y = np.asarray(labels)
    keep = np.isin(y, [c for c in set(labels) if labels.count(c) >= 2])
    y, x = y[keep], scores[keep]
    _, counts = np.unique(y, return_counts=True)
    acc = cross_val_score(NearestCentroid(), x, y, cv=LeaveOneOut()).mean()
    return float(acc), float(counts.max() / counts.sum())


def _region_tiles(store: Store, feature: str, region: str | None):
    """(region, tile rows with lon/lat, their feature matrix) of one region."""
    store.require_feature("map", feature)
    meta = store.read("map", ["id", "region", "lon", "lat", "size_m"]).to_pylist()
    regions = sorted({m["region"] for m in meta}, key=lambda r: (r is None, str(r)))
    if region is None:
        if len(regions) > 1:
            names = ", ".join(map(region_label, regions))
            raise GeovecError(
                f"the store has several regions ({names}): say which region "
                '(--region NAME; --region "" for the tiles with no region)'
            )
        region = regions[0] if regions else None
    else:
        region = region_key(region)
        if regions and region not in regions:  # a name the tiles do not have: a typo
            names = ", ".join(map(region_label, regions))
            raise GeovecError(
                f"no map tile is in region {region_label(region)!r}; the tiles' regions: "
                f'{names} (--region NAME; --region "" for the tiles with no region)'
            )
    rows = [m for m in meta if m["region"] == region]
    if len(rows) < 4:
        raise GeovecError(
            f"region {region_label(region)!r} has {count(len(rows), 'map tile')}; "
            "PCA needs at least 4: cut more with geovec grid + geovec aerial, then geovec ingest"
        )
    ids, vectors = store.vectors("map", feature)
    at = {ident: i for i, ident in enumerate(ids)}
    rows = [m for m in rows if m["id"] in at]
    return region, rows, vectors[[at[m["id"]] for m in rows]]


def landcover(
    store: Store,
    feature: str = DEFAULT_FEATURE,
    *,
    region: str | None = None,
    truth: str | Path | None = None,
    pixels_per_tile: int = DEFAULT_PIXELS_PER_TILE,
) -> LandcoverResult:
    """PCA image of ``feature`` over the region's map tiles (see the module docstring).

    Args:
      region: the region (needed when the store has several); ``""`` addresses the tiles
        with no region (:mod:`geovec.store.regions`).
      truth: a CSV with id and landcover columns (``geovec synth`` writes truth.csv); when
        given, reports nearest-centroid accuracy of the classes in component space and
        keeps the true map (:class:`TrueCover`) for the figure.
    """
    if not pixels_per_tile >= 1:
        raise GeovecError(f"pixels per tile must be at least 1, got {pixels_per_tile}")
    region, rows, x = _region_tiles(store, feature, region)
    if x.shape[1] < 3:
        raise GeovecError(f"{feature} has {x.shape[1]} values; its RGB image needs at least 3")
    scores, ratio = pca(x)
    lo, hi = scores.min(axis=0), scores.max(axis=0)
    rgb = (scores - lo) / np.where(hi > lo, hi - lo, 1.0)

    lon = np.array([m["lon"] for m in rows])
    lat = np.array([m["lat"] for m in rows])
    origin = (float(lon.mean()), float(lat.mean()))
    to_xy = Transformer.from_crs("EPSG:4326", local_crs(*origin), always_xy=True)
    sx, sy = to_xy.transform(lon, lat)
    sites = np.column_stack([sx, sy])
    spacing = np.median(cKDTree(sites).query(sites, 2)[0][:, 1])
    step = spacing / pixels_per_tile
    xs = np.arange(sx.min() - spacing / 2 + step / 2, sx.max() + spacing / 2, step)
    ys = np.arange(sy.max() + spacing / 2 - step / 2, sy.min() - spacing / 2, -step)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    image = natural_neighbour(sites, rgb, points)
    image = np.clip(image.reshape(len(ys), len(xs), 3), 0, 1)

    result = LandcoverResult(region, feature, len(rows), [float(r) for r in ratio], image)
    result.origin = origin
    half = step / 2
    result.tile_lonlat = np.column_stack([lon, lat])
    result.tile_size_m = np.array([np.nan if m["size_m"] is None else m["size_m"] for m in rows])
    result.extent = tuple(
        float(v) for v in (xs[0] - half, xs[-1] + half, ys[-1] - half, ys[0] + half)
    )
    if truth:
        classes, colours = read_truth(truth)
        labels = [classes.get(m["id"]) for m in rows]
        if all(labels):
            result.class_accuracy, result.chance = _class_accuracy(scores, labels)
            names = sorted(set(labels))
            index = np.array([names.index(c) for c in labels])
            nearest = cKDTree(sites).query(points)[1]
            result.truth = TrueCover(names, index[nearest].reshape(gx.shape), colours)
    return result
