"""Land-cover visualisation (paper, Figure 7): PCA of a feature over every map tile of a
region; the top three components become R, G, B (each scaled to [0, 1]) and are filled in
between tile centres by natural-neighbour (Sibson) interpolation.

Sibson's weights of a point are the areas its Voronoi cell, were it inserted among the tile
centres, takes from each centre's cell. They are computed exactly with shapely from the
Voronoi diagram of the centres and of the point with its nearest centres, in the region's
metric frame. Inside the convex hull of the centres this reproduces linear fields exactly;
outside it, where Sibson is undefined, the nearest centre's value is used.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from geovec.errors import GeovecError
from geovec.grid import local_crs
from geovec.store import Store

LOCAL_SITES = 24


def pca(x: np.ndarray, components: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N, components) and explained variance ratios, by SVD of the centred data (JAX)."""
    x = jnp.asarray(x, jnp.float32)
    centred = x - x.mean(axis=0)
    u, s, _ = jnp.linalg.svd(centred, full_matrices=False)
    scores = u[:, :components] * s[:components]
    ratio = (s**2 / jnp.maximum(jnp.sum(s**2), 1e-30))[:components]
    return np.asarray(scores), np.asarray(ratio)


def sibson_weights(sites: np.ndarray, points: np.ndarray, k: int = LOCAL_SITES):
    """Natural-neighbour weights: for each point, (indices of sites, weights summing to 1);
    (None, None) outside the convex hull of the sites."""
    sites = np.asarray(sites, np.float64)
    tree = cKDTree(sites)
    lo, hi = sites.min(axis=0), sites.max(axis=0)
    pad = (hi - lo).max() * 2 + 1
    frame = shapely.box(lo[0] - pad, lo[1] - pad, hi[0] + pad, hi[1] + pad)
    hull = shapely.convex_hull(shapely.multipoints(sites))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True)
    )
    k = min(k, len(sites))
    out = []
    inside = shapely.contains_xy(hull, points[:, 0], points[:, 1]) | shapely.intersects_xy(
        hull.boundary, points[:, 0], points[:, 1]
    )
    for point, ok in zip(points, inside):
        if not ok:
            out.append((None, None))
            continue
        out.append(_point_weights(point, sites, tree, cells, frame, k))
    return out


def _point_weights(point, sites, tree, cells, frame, k):
    """Sibson weights of one point inside the hull. Starts from the k nearest sites and
    widens the search until the new cell is covered by the cells it steals from (so no
    natural neighbour is missed)."""
    while True:
        dist, near = tree.query(point, k)
        if dist[0] < 1e-9:
            return np.array([near[0]]), np.array([1.0])
        local = shapely.multipoints(np.vstack([point, sites[near]]))
        new_cell = shapely.get_parts(
            shapely.voronoi_polygons(local, extend_to=frame, ordered=True)
        )[0]
        stolen = shapely.area(shapely.intersection(new_cell, cells[near]))
        total = stolen.sum()
        if k >= len(sites) or abs(total - new_cell.area) <= 1e-9 * new_cell.area:
            return near, stolen / total
        k = min(len(sites), k * 2)


def natural_neighbour(sites: np.ndarray, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Sibson interpolation of ``values`` (N, C) at ``points``; nearest site outside the hull."""
    values = np.asarray(values, np.float64).reshape(len(sites), -1)
    nearest = cKDTree(sites).query(points)[1]
    result = np.empty((len(points), values.shape[1]))
    for i, (idx, w) in enumerate(sibson_weights(sites, points)):
        result[i] = values[nearest[i]] if idx is None else w @ values[idx]
    return result


@dataclasses.dataclass
class LandcoverResult:
    """The synthetic land-cover image and how well its colours separate true classes."""

    region: str
    feature: str
    tiles: int
    explained_variance: list[float]
    image: np.ndarray = dataclasses.field(repr=False)  # (H, W, 3) float in [0, 1], north up
    class_accuracy: float | None = None  # nearest-centroid, leave-one-out, component space
    chance: float | None = None
    truth_image: np.ndarray | None = dataclasses.field(default=None, repr=False)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("image")
        d.pop("truth_image")
        return d


def _class_accuracy(scores: np.ndarray, labels: list[str]) -> tuple[float, float]:
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    from sklearn.neighbors import NearestCentroid

    y = np.asarray(labels)
    keep = np.isin(y, [c for c in set(labels) if labels.count(c) >= 2])
    y, x = y[keep], scores[keep]
    _, counts = np.unique(y, return_counts=True)
    acc = cross_val_score(NearestCentroid(), x, y, cv=LeaveOneOut()).mean()
    return float(acc), float(counts.max() / counts.sum())


def landcover(
    store: Store,
    region: str | None = None,
    feature: str = "places_fc8",
    pixels_per_tile: int = 6,
    truth: str | Path | None = None,
) -> LandcoverResult:
    """PCA image of ``feature`` over the region's map tiles (see the module docstring).

    Args:
      truth: a CSV with id and landcover columns (``geovec synth`` writes truth.csv); when
        given, reports nearest-centroid accuracy of the classes in component space and
        renders the true map beside the image.
    """
    store.require_feature("map", feature)
    meta = store.read("map", ["id", "region", "lon", "lat"]).to_pylist()
    regions = sorted({m["region"] for m in meta}, key=str)
    if region is None:
        if len(regions) > 1:
            raise GeovecError(f"say which region with --region ({', '.join(map(str, regions))})")
        region = regions[0]
    rows = [m for m in meta if m["region"] == region]
    if len(rows) < 4:
        raise GeovecError(f"region {region!r} has {len(rows)} map tiles; PCA needs at least 4")
    ids, vectors = store.vectors("map", feature)
    at = {ident: i for i, ident in enumerate(ids)}
    rows = [m for m in rows if m["id"] in at]
    x = vectors[[at[m["id"]] for m in rows]]
    scores, ratio = pca(x)
    lo, hi = scores.min(axis=0), scores.max(axis=0)
    rgb = (scores - lo) / np.where(hi > lo, hi - lo, 1.0)

    lon = np.array([m["lon"] for m in rows])
    lat = np.array([m["lat"] for m in rows])
    to_xy = Transformer.from_crs("EPSG:4326", local_crs(lon.mean(), lat.mean()), always_xy=True)
    sx, sy = to_xy.transform(lon, lat)
    sites = np.column_stack([sx, sy])
    spacing = np.median(cKDTree(sites).query(sites, 2)[0][:, 1])
    step = spacing / pixels_per_tile
    xs = np.arange(sx.min() - spacing / 2 + step / 2, sx.max() + spacing / 2, step)
    ys = np.arange(sy.max() + spacing / 2 - step / 2, sy.min() - spacing / 2, -step)
    gx, gy = np.meshgrid(xs, ys)
    image = natural_neighbour(sites, rgb, np.column_stack([gx.ravel(), gy.ravel()]))
    image = np.clip(image.reshape(len(ys), len(xs), 3), 0, 1)

    result = LandcoverResult(str(region), feature, len(rows), [float(r) for r in ratio], image)
    if truth:
        classes = {r["id"]: r["landcover"] for r in csv.DictReader(open(truth, newline=""))}
        labels = [classes.get(m["id"]) for m in rows]
        if all(labels):
            result.class_accuracy, result.chance = _class_accuracy(scores, labels)
            result.truth_image = _truth_image(
                labels, gx.shape, sites, np.column_stack([gx.ravel(), gy.ravel()])
            )
    return result


def _truth_image(labels, shape, sites, points) -> np.ndarray:
    from geovec.synth.regions import CLASS_COLOURS, CLASSES

    colours = (
        np.array(
            [CLASS_COLOURS[CLASSES.index(c)] if c in CLASSES else (128, 128, 128) for c in labels]
        )
        / 255
    )
    nearest = cKDTree(sites).query(points)[1]
    return colours[nearest].reshape(*shape, 3)


def write_landcover(result: LandcoverResult, path: Path) -> Path:
    """The PCA image, with the true land-cover map beside it when known."""
    from geovec.plots import image_pair

    acc = (
        f" (nearest-centroid accuracy {result.class_accuracy:.2f}, chance {result.chance:.2f})"
        if result.class_accuracy is not None
        else ""
    )
    return image_pair(
        result.image,
        result.truth_image,
        path,
        (f"{result.feature} PCA, {result.region}{acc}", "true land cover (per tile)"),
    )
