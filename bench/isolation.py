"""Isolation filter speed: geovec's grid-bucketed DuckDB query against the naive
ST_DWithin self-join, same points, same run.

174,217 clustered points (San Francisco scale). The naive join is quadratic, so it runs on
a random subsample and its time is scaled by (N / n)^2; both results are checked equal on
the subsample.

    python bench/isolation.py [--points 174217] [--sample 8000] [--radius-m 250]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from geovec.geo.grid import local_proj  # noqa: E402
from geovec.store.queries import run_query  # noqa: E402
from geovec.store.sql import new_database  # noqa: E402

NAIVE = """
WITH p AS (SELECT id, ST_Transform(ST_Point(lon, lat), 'EPSG:4326', $crs, always_xy := true) AS g
           FROM ground)
SELECT a.id, count(b.id) = 0 AS isolated
FROM p AS a LEFT JOIN p AS b ON a.id <> b.id AND ST_DWithin(a.g, b.g, $radius_m)
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


def timed(con, query_or_name, **params):
    t0 = time.perf_counter()
    if query_or_name.strip().upper().startswith("WITH"):
        out = con.execute(query_or_name, params).to_arrow_table()
    else:
        out = run_query(con, query_or_name, **params)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=174_217)
    parser.add_argument("--sample", type=int, default=8_000)
    parser.add_argument("--radius-m", type=float, default=250.0)
    args = parser.parse_args()
    crs = local_proj(-122.44, 37.76)
    con = new_database()

    full = clustered_points(args.points)
    con.register("ground", full)
    ours_s, ours = timed(con, "isolated_images", radius_m=args.radius_m, crs=crs, region="sf")
    con.unregister("ground")

    sample = full.take(np.random.default_rng(1).choice(args.points, args.sample, replace=False))
    con.register("ground", sample)
    ours_small_s, ours_small = timed(
        con, "isolated_images", radius_m=args.radius_m, crs=crs, region="sf"
    )
    naive_s, naive = timed(con, NAIVE, radius_m=args.radius_m, crs=crs)
    same = ours_small.column("isolated").to_pylist() == naive.column("isolated").to_pylist()
    scaled = naive_s * (args.points / args.sample) ** 2
    isolated = sum(ours.column("isolated").to_pylist())
    print(f"points {args.points}, radius {args.radius_m:g} m, isolated {isolated}")
    print(f"geovec grid-bucketed join:   {ours_s:8.2f} s (full set)")
    print(
        f"naive ST_DWithin self-join:  {naive_s:8.2f} s on {args.sample} points, "
        f"~{scaled:8.1f} s scaled to the full set"
    )
    print(f"geovec on the same subsample: {ours_small_s:7.2f} s; results equal: {same}")
    print(f"speed-up (scaled naive / geovec): {scaled / ours_s:.0f}x")


if __name__ == "__main__":
    main()
