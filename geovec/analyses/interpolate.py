"""Natural-neighbour (Sibson) interpolation of values known at scattered sites.

Sibson's weights of a point are the areas its Voronoi cell, were it inserted among the
sites, takes from each site's cell. They are computed exactly with shapely from the
Voronoi diagram of the sites and of the point with its nearest sites, in a metric frame.
Inside the convex hull of the sites this reproduces linear fields exactly; outside it,
where Sibson is undefined, the nearest site's value is used.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

LOCAL_SITES = 24
"""Nearest sites a point's new Voronoi cell is first built from (widened as needed)."""


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
