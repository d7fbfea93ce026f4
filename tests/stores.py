"""Build small stores directly from arrays (no images), for analysis tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import geovec
from geovec.store import BASE_SCHEMAS, feature_field, point_wkb, vectors_to_arrow


def add_rows(store, view: str, rows: list[dict], features: dict[str, np.ndarray]) -> None:
    """Append rows (dicts of base columns; missing ones null) with feature matrices."""
    schema = BASE_SCHEMAS[view]
    store.ensure_features(view, [feature_field(n, v.shape[1]) for n, v in features.items()])
    lon = [r["lon"] for r in rows]
    lat = [r["lat"] for r in rows]
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    columns["geom"] = point_wkb(lon, lat)
    columns["path"] = [r.get("path", f"/nonexistent/{r['id']}.png") for r in rows]
    arrays = [pa.array(columns[f.name], f.type) for f in schema]
    names = list(schema.names)
    for name, values in features.items():
        arrays.append(vectors_to_arrow(values))
        names.append(name)
    store.append(view, pa.Table.from_arrays(arrays, names=names))


def store_from_arrays(path, ground, overhead, tiles, feature="gist"):
    """ground/overhead/tiles: lists of (row dict, vector)."""
    store = geovec.open(path)
    for view, items in (("ground", ground), ("overhead", overhead), ("map", tiles)):
        if items:
            add_rows(
                store,
                view,
                [r for r, _ in items],
                {feature: np.array([v for _, v in items], np.float32)},
            )
    return store
