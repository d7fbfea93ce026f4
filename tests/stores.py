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
    ground = [  # each paired with the overhead image of its id, as ingest links them
        ({"id": i, "region": "r", "lon": 0.5, "lat": 0.5, "isolated": False, "pair": i}, [x, 0])
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


LATENT = 8


def latent_pair_store(path, seed: int = 0, pairs: int = 400, grid: int = 10):
    """A store where both views show a hidden place code through different linear maps
    (ground: 24 values, overhead: 40) plus noise: a learned head can relate them, a random
    one cannot, and no feature means the same in both views.

    Map tiles: a ``grid`` x ``grid`` square of 480 m tiles near (0, 0), each with its own
    code; one isolated query (split test) at each tile centre; ``pairs`` training pairs
    (split train) at random positions, each with its own code, 2 km or more away from the
    tiles (so none lies near a test image). Returns (store, the ground map, the overhead
    map)."""
    rng = np.random.default_rng(seed)
    to_ground = rng.normal(size=(LATENT, 24)).astype(np.float32)
    to_overhead = rng.normal(size=(LATENT, 40)).astype(np.float32)

    def noisy(x):
        return x + 0.3 * rng.normal(size=x.shape).astype(np.float32)

    step = 480 / 111_320  # degrees of 480 m at the equator
    tile_codes = rng.normal(size=(grid * grid, LATENT)).astype(np.float32)
    centres = [(c * step, r * step) for r in range(grid) for c in range(grid)]
    tiles = [
        ({"id": f"t{i}", "region": "r", "lon": lo, "lat": la, "size_m": 480.0}, v)
        for i, ((lo, la), v) in enumerate(zip(centres, noisy(tile_codes @ to_overhead)))
    ]
    queries = [
        (
            {
                "id": f"q{i}",
                "region": "r",
                "lon": lo,
                "lat": la,
                "isolated": True,
                "split": "test",
                "pair": f"oq{i}",
            },
            v,
        )
        for i, ((lo, la), v) in enumerate(zip(centres, noisy(tile_codes @ to_ground)))
    ]
    codes = rng.normal(size=(pairs, LATENT)).astype(np.float32)
    where = rng.uniform(0.06, 0.3, size=(pairs, 2))  # 2 km and more from the tiles
    ground = [
        (
            {
                "id": f"g{i}",
                "region": "r",
                "lon": lo,
                "lat": la,
                "isolated": False,
                "split": "train",
                "pair": f"o{i}",
            },
            v,
        )
        for i, ((lo, la), v) in enumerate(zip(where, noisy(codes @ to_ground)))
    ]
    overhead = [
        ({"id": f"o{i}", "region": "r", "lon": lo, "lat": la, "split": "train"}, v)
        for i, ((lo, la), v) in enumerate(zip(where, noisy(codes @ to_overhead)))
    ]
    overhead += [  # the queries' own aerial images, for the pairs protocol
        ({"id": f"oq{i}", "region": "r", "lon": lo, "lat": la, "split": "test"}, v)
        for i, ((lo, la), v) in enumerate(zip(centres, noisy(tile_codes @ to_overhead)))
    ]
    store = geovec.open(path)
    add_rows(
        store,
        "ground",
        [r for r, _ in ground + queries],
        {"latent_ground": np.array([v for _, v in ground + queries])},
    )
    add_rows(
        store,
        "overhead",
        [r for r, _ in overhead],
        {"latent_overhead": np.array([v for _, v in overhead])},
    )
    add_rows(
        store, "map", [r for r, _ in tiles], {"latent_overhead": np.array([v for _, v in tiles])}
    )
    return store, to_ground, to_overhead
