"""A GPS prior for cross-view localisation: rank only the candidates within ``radius_m``
metres (WGS84 geodesic) of a prior position, as VIGOR evaluates with a noisy GPS fix.

The prior of a query is its true position displaced by ``noise_m`` metres along a
uniformly random azimuth (VIGOR simulates GPS noise by such an offset): the azimuth is
``360 * numpy.random.default_rng([seed, zlib.crc32(query id as UTF-8)]).random()``
degrees clockwise from north, and the prior is the point ``noise_m`` metres from the true
position along the geodesic leaving at that azimuth (pyproj ``Geod(ellps="WGS84").fwd``).
So a query's prior depends on the seed, its id and the noise alone, not on which other
queries are evaluated or in which order. ``noise_m = 0`` puts the prior on the true
position. For one photo, ``localize`` takes the prior as given (``--prior LON,LAT``).

The candidates within the circle come from sql/prior_candidates.sql, before any vector is
compared; a query whose true candidate lies outside its circle is a miss at every cutoff
(its rank is unknown: null in the per-query table) and is counted as ``outside``.

>>> prior = Prior(radius_m=500.0, noise_m=100.0, seed=1)
>>> lon, lat = prior.positions(["q1"], [-79.94], [32.78])
>>> round(float(distance_m(-79.94, 32.78, lon[0], lat[0])), 6)
100.0
"""

from __future__ import annotations

import dataclasses
import math
import zlib

import numpy as np

from geovec.errors import GeovecError
from geovec.geodesy import WGS84, chord_slack, distance_m  # noqa: F401 - distance_m: doctest
from geovec.store.queries import run_query


@dataclasses.dataclass(frozen=True)
class Prior:
    """A GPS prior: candidates within ``radius_m`` metres of each query's prior position,
    its true one displaced by ``noise_m`` metres in a random direction (see the module),
    drawn with ``seed``."""

    radius_m: float
    noise_m: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name, kind in (("radius_m", float), ("noise_m", float), ("seed", int)):
            try:
                object.__setattr__(self, name, kind(getattr(self, name)))
            except (TypeError, ValueError):
                value = getattr(self, name)
                raise GeovecError(f"prior {name} must be a number, got {value!r}") from None
        if not 0 < self.radius_m < math.inf:  # NaN too
            raise GeovecError(f"the prior radius must be positive metres, got {self.radius_m}")
        if not 0 <= self.noise_m < math.inf:
            raise GeovecError(f"the prior noise must be metres >= 0, got {self.noise_m}")

    def azimuths(self, ids) -> np.ndarray:
        """The azimuth of each query's displacement, degrees clockwise from north."""
        return np.array(
            [
                360.0 * np.random.default_rng([self.seed, zlib.crc32(str(i).encode())]).random()
                for i in ids
            ],
            float,
        )

    def positions(self, ids, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """The priors (lon, lat, decimal degrees) of queries ``ids`` at lon/lat; NaN where
        the position is unknown (None or NaN)."""
        lon, lat = _floats(lon), _floats(lat)
        out_lon, out_lat = lon.copy(), lat.copy()
        known = np.isfinite(lon) & np.isfinite(lat)
        if self.noise_m > 0 and known.any():
            azimuth = self.azimuths([i for i, k in zip(ids, known) if k])
            moved_lon, moved_lat, _ = WGS84.fwd(
                lon[known], lat[known], azimuth, np.full(int(known.sum()), float(self.noise_m))
            )
            out_lon[known], out_lat[known] = moved_lon, moved_lat
        return out_lon, out_lat

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _floats(values) -> np.ndarray:
    """Decimal degrees as floats, NaN where None."""
    return np.array(list(values) if not isinstance(values, np.ndarray) else values, float)


def _list(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in values]


def candidates_within(
    con, prior_lon, prior_lat, candidate_lon, candidate_lat, radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each prior's candidates within ``radius_m`` metres (sql/prior_candidates.sql), as
    (offsets, members): prior i's are ``members[offsets[i]:offsets[i + 1]]``, positions
    in the candidate lists, ascending. Unknown positions (NaN) have none and are none."""
    prior_lon, prior_lat = _floats(prior_lon), _floats(prior_lat)
    rows = run_query(
        con,
        "prior_candidates",
        radius_m=float(radius_m),
        slack=chord_slack(radius_m),
        lons=_list(prior_lon),
        lats=_list(prior_lat),
        candidate_lons=_list(_floats(candidate_lon)),
        candidate_lats=_list(_floats(candidate_lat)),
    )
    query = rows.column("query").to_numpy().astype(np.int64)
    members = rows.column("candidate").to_numpy().astype(np.int64)
    offsets = np.zeros(len(prior_lon) + 1, np.int64)
    np.cumsum(np.bincount(query, minlength=len(prior_lon)), out=offsets[1:])
    return offsets, members


def candidate_summary(counts, outside: int, prior: Prior) -> dict:
    """The prior's settings, the per-query candidate counts (min, median, max) and how
    many queries' true candidate lay outside their circle (misses), for JSON."""
    counts = np.asarray(counts)
    return {
        **prior.as_dict(),
        "candidates": {
            "min": int(counts.min()) if len(counts) else None,
            "median": float(np.median(counts)) if len(counts) else None,
            "max": int(counts.max()) if len(counts) else None,
        },
        "outside": int(outside),
    }


def prior_words(prior: dict | None) -> str:
    """ "; prior 500 m (noise 100 m, seed 0): 12-31 candidates (median 20), 3 outside"
    for a summary line ("" without a prior)."""
    if not prior:
        return ""
    c = prior["candidates"]
    span = (
        f"{c['min']}-{c['max']} candidates (median {c['median']:g})"
        if c["min"] is not None
        else "no query"
    )
    return (
        f"; prior {prior['radius_m']:g} m (noise {prior['noise_m']:g} m, seed {prior['seed']}): "
        f"{span}, {prior['outside']} true outside (misses)"
    )
