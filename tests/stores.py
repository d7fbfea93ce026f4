"""Build small stores directly from arrays (no images), for analysis tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import geovec
from geovec.store.schema import BASE_SCHEMAS, feature_field, point_wkb, vectors_to_arrow


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


KNOWN_TILES = np.array([[0, 0], [1, 0], [2, 0], [3, 0]], np.float32)


def known_store(tmp_path, isolated: bool = True):
    """Four tiles along the equator, three training pairs, two isolated queries."""
    lon = [0.0, 0.01, 0.02, 0.03]
    tiles = [
        ({"id": f"t{i}", "region": "r", "lon": lo, "lat": 0.0, "size_m": 480.0}, KNOWN_TILES[i])
        for i, lo in enumerate(lon)
    ]
    train = [(f"a{i}", x, y) for i, (x, y) in enumerate([(10, 1), (20, 3), (30, 5)])]
    ground = [
        ({"id": i, "region": "r", "lon": 0.5, "lat": 0.5, "isolated": False}, [x, 0])
        for i, x, _ in train
    ]
    overhead = [({"id": i, "region": "r", "lon": 0.5, "lat": 0.5}, [y, 0]) for i, _, y in train]
    ground.append(
        ({"id": "q1", "region": "r", "lon": 0.0101, "lat": 0.0005, "isolated": True}, [11, 0])
    )
    ground.append(
        ({"id": "q2", "region": "r", "lon": 0.0199, "lat": -0.0005, "isolated": True}, [19, 0])
    )
    ground.append(({"id": "far", "region": "r", "lon": 0.5, "lat": 0.5, "isolated": True}, [19, 0]))
    if not isolated:  # as ingested, before geovec isolate
        ground = [({**row, "isolated": None}, vector) for row, vector in ground]
    return store_from_arrays(tmp_path / "db", ground, overhead, tiles)
