"""Isolation filter speed: geovec's cube-bucketed DuckDB query (sql/isolated_images.sql,
exact WGS84 geodesics) against the peer a data scientist reaches for, scikit-learn's
BallTree on the haversine metric (nearest neighbours, the points within 1 % of the radius
checked by the same geodesic), on
the same points in the same run, both measured in full with the same ``--threads`` (1 by
default: DuckDB's threads; the peer's queries split over as many Python threads, as
scikit-learn's ``n_jobs`` does, BallTree releasing the GIL), one warm-up run each, then in
turn for ``--repeats`` and the best kept. Both answers are checked equal. ``--naive N``
also measures the naive ST_DWithin_Spheroid self-join of DuckDB spatial on the first N
points (quadratic: 8,000 points already take a minute), beside geovec on the same N
points, both measured (never extrapolated), same threads.

174,217 clustered points (San Francisco scale), radius 250 m; ``--layout uniform`` or
``grid`` for points spread over a continent or a street grid, where most images are alone
in their cube and the query does more work.

    python bench/isolation.py [--points 174217] [--radius-m 250] [--threads 1] [--naive 0]
                              [--layout clustered|uniform|grid]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from bench.common import alternate, report  # noqa: E402
from geovec.analyses.isolation import isolation_table  # noqa: E402
from geovec.geodesy import EARTH_MEAN_RADIUS_M, distance_m, frame_lonlat  # noqa: E402
from geovec.store.sql import new_database  # noqa: E402

NAIVE = """
-- with geometry_always_xy (geovec's setting) the spheroid functions read (lon, lat)
WITH p AS (SELECT id, ST_Point(lon, lat) AS g FROM ground)
SELECT a.id, count(b.id) = 0 AS isolated
FROM p AS a LEFT JOIN p AS b ON a.id <> b.id AND ST_DWithin_Spheroid(a.g, b.g, $radius_m)
GROUP BY a.id ORDER BY a.id
"""


def clustered_points(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    centres = rng.uniform([-122.52, 37.70], [-122.36, 37.81], (400, 2))
    k = int(n * 0.9)
    pts = np.concatenate(
        [
            centres[rng.integers(0, 400, k)] + rng.normal(0, 0.003, (k, 2)),
            rng.uniform([-122.52, 37.70], [-122.36, 37.81], (n - k, 2)),
        ]
    )
    return pa.table(
        {
            "id": [f"g{i:06d}" for i in range(n)],
            "region": ["sf"] * n,
            "lon": pts[:, 0],
            "lat": pts[:, 1],
        }
    )


def spread_points(n: int, layout: str, seed: int = 0) -> pa.Table:
    """``uniform``: n points uniform over a USA-sized box (almost all isolated); ``grid``:
    a street-level grid 200 m apart (every point has neighbours at 200 m)."""
    rng = np.random.default_rng(seed)
    if layout == "uniform":
        lon, lat = rng.uniform(-125, -67, n), rng.uniform(25, 49, n)
    else:
        side = int(np.ceil(np.sqrt(n)))
        east, north = np.meshgrid(np.arange(side) * 200.0, np.arange(side) * 200.0)
        lon, lat = frame_lonlat(-122.5, 37.0, east.ravel()[:n], north.ravel()[:n])
    ids = [f"g{i:06d}" for i in range(n)]
    return pa.table({"id": ids, "region": ["r"] * n, "lon": lon, "lat": lat})


def balltree_isolated(
    lon: np.ndarray, lat: np.ndarray, radius_m: float, threads: int = 1
) -> np.ndarray:
    """The peer: each point's nearest other point on a haversine BallTree (a sphere, so
    distances are trusted only outside +-1 % of the radius); the few points in that band
    get every candidate within 1 % more than the radius checked by the WGS84 geodesic.
    The nearest-neighbour queries are split over ``threads`` threads."""
    from sklearn.neighbors import BallTree

    coords = np.radians(np.column_stack([lat, lon]))
    tree = BallTree(coords, metric="haversine")
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = pool.map(lambda c: tree.query(c, k=2)[0], np.array_split(coords, threads))
            dist = np.concatenate(list(parts))
    else:
        dist, _ = tree.query(coords, k=2)
    nearest = dist[:, 1] * EARTH_MEAN_RADIUS_M
    isolated = nearest > radius_m * 1.01
    unsure = np.flatnonzero((nearest >= radius_m * 0.99) & ~isolated)
    if not len(unsure):
        return isolated
    near = tree.query_radius(coords[unsure], r=radius_m * 1.01 / EARTH_MEAN_RADIUS_M)
    for i, candidates in zip(unsure, near):
        candidates = candidates[candidates != i]
        isolated[i] = not (
            distance_m(lon[i], lat[i], lon[candidates], lat[candidates]) <= radius_m
        ).any()
    return isolated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=174_217)
    parser.add_argument("--radius-m", type=float, default=250.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive", type=int, default=0, help="points for the naive self-join")
    parser.add_argument(
        "--layout",
        choices=["clustered", "uniform", "grid"],
        default="clustered",
        help="clustered photos (a city, the paper's case), uniform over a continent, or a "
        "200 m street grid",
    )
    args = parser.parse_args()
    if args.naive > args.points:
        parser.error(f"--naive {args.naive} is more than --points {args.points}")
    con = new_database()
    con.execute(f"SET threads = {args.threads}")
    if args.layout == "clustered":
        full = clustered_points(args.points)
    else:
        full = spread_points(args.points, args.layout)
    con.register("ground", full)
    lon, lat = full.column("lon").to_numpy(), full.column("lat").to_numpy()

    answers = {}

    def ours() -> None:
        answers["geovec"] = isolation_table(con, args.radius_m)

    def peer() -> None:
        answers["peer"] = balltree_isolated(lon, lat, args.radius_m, args.threads)

    seconds = alternate({"geovec": ours, "peer": peer}, rounds=args.repeats)
    ours_isolated = answers["geovec"].column("isolated").to_pylist()
    same = ours_isolated == answers["peer"].tolist()
    print(
        f"{args.layout} points {args.points}, radius {args.radius_m:g} m, isolated "
        f"{sum(ours_isolated)}; answers equal: {same}; warm-up 1, best of {args.repeats} in turn"
    )
    report(
        "isolation filter",
        "points/s",
        ("geovec cube-bucketed query", args.points / seconds["geovec"], args.threads),
        ("BallTree (haversine) + geodesics", args.points / seconds["peer"], args.threads),
    )
    print(f"  seconds: geovec {seconds['geovec']:.3f}, peer {seconds['peer']:.3f}")
    if args.naive:
        con.unregister("ground")
        con.register("ground", full.slice(0, args.naive))

        def naive() -> None:
            result = con.execute(NAIVE, {"radius_m": args.radius_m})
            answers["naive"] = result.to_arrow_table()

        seconds = alternate({"geovec": ours, "naive": naive}, rounds=1, warm=0)
        same = (
            answers["geovec"].column("isolated").to_pylist()
            == answers["naive"].column("isolated").to_pylist()
        )
        print(f"on the first {args.naive} points, both measured once; answers equal: {same}")
        report(
            "isolation filter against the naive self-join",
            "points/s",
            ("geovec cube-bucketed query", args.naive / seconds["geovec"], args.threads),
            ("ST_DWithin_Spheroid self-join", args.naive / seconds["naive"], args.threads),
        )
        print(f"  seconds: geovec {seconds['geovec']:.3f}, naive {seconds['naive']:.2f}")


if __name__ == "__main__":
    main()
