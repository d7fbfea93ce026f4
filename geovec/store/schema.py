"""The schema of every table of a geovec store, defined here and nowhere else.

Located tables carry ``lon``, ``lat`` (WGS84 decimal degrees) and ``geom`` (the point as
WKB). Feature columns (``places_fc8``, ``gist``, ...) are fixed-size float32 lists added as
they are first computed; each feature field carries its provenance (geovec version,
weights file and its source sha256, preprocessing) in its field metadata under ``geovec``.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import shapely

VIEWS = ("ground", "overhead", "map")
"""Tables that hold located images."""
FAILURES = "failures"

_LOCATION = [
    pa.field("lon", pa.float64(), nullable=False),
    pa.field("lat", pa.float64(), nullable=False),
    pa.field("geom", pa.binary(), nullable=False),
]
# ground and overhead images of pair-only datasets (the CVUSA subset) have no position
_MAYBE_LOCATION = [field.with_nullable(True) for field in _LOCATION]
BASE_SCHEMAS: dict[str, pa.Schema] = {
    "ground": pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("region", pa.string()),
            pa.field("source", pa.string()),
            pa.field("path", pa.string()),
            *_MAYBE_LOCATION,
            pa.field("pair", pa.string()),  # id of its overhead image
            pa.field("split", pa.string()),
            pa.field("isolated", pa.bool_()),
            pa.field("semi_pairs", pa.list_(pa.string())),  # VIGOR's semi-positive aerials
        ]
    ),
    "overhead": pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("region", pa.string()),
            pa.field("path", pa.string()),
            *_MAYBE_LOCATION,
            pa.field("split", pa.string()),  # null: a candidate for every split
        ]
    ),
    "map": pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("region", pa.string()),
            pa.field("path", pa.string()),
            *_LOCATION,
            pa.field("size_m", pa.float64()),
        ]
    ),
    FAILURES: pa.schema(
        [
            pa.field("path", pa.string()),
            pa.field("view", pa.string()),
            pa.field("stage", pa.string()),
            pa.field("error", pa.string()),
            pa.field("failed_at", pa.timestamp("us", tz="UTC")),  # was "at" (store.migrations)
        ]
    ),
}


def feature_field(name: str, dim: int, provenance: dict[str, str] | None = None) -> pa.Field:
    """A feature column: fixed-size list of ``dim`` float32, nullable until computed."""
    meta = {"geovec": json.dumps(provenance or {})}
    return pa.field(name, pa.list_(pa.float32(), dim), nullable=True, metadata=meta)


def point_wkb(lon, lat) -> list[bytes | None]:
    """WKB points for sequences of lon, lat (decimal degrees); None where either is None."""
    lon = np.asarray([np.nan if v is None else v for v in lon], np.float64)
    lat = np.asarray([np.nan if v is None else v for v in lat], np.float64)
    known = ~(np.isnan(lon) | np.isnan(lat))
    out: list[bytes | None] = [None] * len(lon)
    for i, wkb in zip(np.nonzero(known)[0], shapely.to_wkb(shapely.points(lon[known], lat[known]))):
        out[i] = wkb
    return out


def vectors_to_arrow(values: np.ndarray) -> pa.FixedSizeListArray:
    """(N, D) float array → Arrow fixed-size list array of float32, without a copy per row."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])
