"""The ground photos layer's page set: every located ground image's GeoJSON Feature
written once per ground table version (bytes, in id order), with a grid over lon/lat
(decimal degrees) that finds the photos of a box without looking at the others. A page
of /api/points is then a few numpy steps and one join of precomputed bytes; nothing is
queried or serialised per request.

The grid's cell edges are the photos' lon and lat quantiles (about :data:`CELL_POINTS`
photos per cell where they are spread evenly), so clustered regions are split finely
and empty ocean costs nothing; a box is tested exactly (edges included) on the photos
of the cells it touches only.

>>> import pyarrow as pa
>>> rows = pa.table({"id": ["a", "b"], "lon": [10.0, -5.5], "lat": [1.0, 2.0],
...     "region": ["r", "r"], "split": ["train", None], "isolated": [False, True],
...     "source": ["s", "s"]})
>>> pages = PointPages.build(rows, version=1)
>>> pages.select(None).tolist(), pages.select((-6.0, 0.0, 0.0, 3.0)).tolist()
([0, 1], [1])
>>> pages.features([1])[:60]
b'{"type":"Feature","id":"b","geometry":{"type":"Point","coord'
"""

from __future__ import annotations

import json
import math
import zlib

import numpy as np
import pyarrow as pa

POINT_PROPERTIES = ("id", "region", "split", "isolated", "source")
"""What each point of /api/points carries besides its position."""
CELL_POINTS = 64
"""Photos per grid cell, about, where they are spread evenly."""
MAX_SIDE = 1024
"""Most grid cells along lon (and along lat)."""
_FEATURE = (
    '{{"type":"Feature","id":{id},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},'
    '"properties":{{"id":{id},"region":{region},"split":{split},"isolated":{isolated},'
    '"source":{source}}}}}'
)


def _json_texts(column: pa.ChunkedArray) -> list[str]:
    """Each value of ``column`` as JSON text (ASCII: non-ASCII characters escaped), each
    distinct value written once."""
    memo: dict = {}
    out = []
    for value in column.to_pylist():
        text = memo.get(value)
        if text is None:
            text = memo[value] = json.dumps(value)
        out.append(text)
    return out


def _texts(rows: pa.Table, order: np.ndarray) -> list[bytes]:
    """Each row's GeoJSON Feature (ASCII bytes), by row; written in ``order`` (the grid's)
    so that the photos of a cell lie together in memory and a page reads few cache
    lines wherever its ids fall."""
    ids = _json_texts(rows.column("id"))
    props = [_json_texts(rows.column(k)) for k in POINT_PROPERTIES[1:]]
    lon, lat = rows.column("lon").to_pylist(), rows.column("lat").to_pylist()
    texts: list = [None] * rows.num_rows
    for i in order.tolist():
        r, s, o, c = (p[i] for p in props)
        texts[i] = _FEATURE.format(
            id=ids[i], lon=repr(lon[i]), lat=repr(lat[i]), region=r, split=s, isolated=o, source=c
        ).encode("ascii")
    return texts


def _edges(values: np.ndarray, side: int) -> np.ndarray:
    """Cell edges along one axis: ``side`` quantile bands of ``values`` (fewer where
    values repeat), the first edge at the smallest value."""
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, side + 1)))
    return edges if len(edges) > 1 else np.array([edges[0], edges[0]])


def _cells(edges: np.ndarray, values) -> np.ndarray:
    """The band of each value: the last edge at or below it, clipped to the bands (a
    value below the first edge is in the first band, one past the last in the last)."""
    band = np.searchsorted(edges, values, side="right") - 1
    return np.clip(band, 0, len(edges) - 2)


class PointPages:
    """The page set of one ground table version: ``lon``, ``lat`` and ``texts`` (each
    one's GeoJSON Feature) of the photos in id order, and the grid. Not changed once
    built."""

    def __init__(self, version, lon, lat, texts: list, xedges, yedges, order, first):
        self.version = version
        self.lon, self.lat = lon, lat
        self.texts = np.array(texts, dtype=object)  # bytes objects
        self.xedges, self.yedges = xedges, yedges
        self.order, self.first = order, first  # photos by cell; cell c is first[c]:first[c+1]
        crc = 0
        for text in texts:
            crc = zlib.crc32(text, crc)
        self.digest = f"{crc:08x}{len(texts):x}"
        """Names this page set's content (the ETag's first part)."""

    def __len__(self) -> int:
        return len(self.lon)

    @classmethod
    def build(cls, rows: pa.Table | None, version) -> PointPages:
        """The page set of ``rows`` (sql/ground_points.sql's columns, ordered by id;
        None: no photos)."""
        if rows is None:
            rows = pa.table({"lon": pa.array([], pa.float64()), "lat": pa.array([], pa.float64())})
            rows = rows.append_column("id", pa.array([], pa.string()))
            for name in POINT_PROPERTIES[1:]:
                rows = rows.append_column(name, pa.array([], pa.string()))
        n = rows.num_rows
        lon = rows.column("lon").to_numpy().astype(np.float64)
        lat = rows.column("lat").to_numpy().astype(np.float64)
        if n == 0:
            none = np.zeros(1, np.int64)
            return cls(version, lon, lat, [], np.zeros(2), np.zeros(2), none[:0], none)
        side = int(min(MAX_SIDE, max(1, math.ceil(math.sqrt(n / CELL_POINTS)))))
        xedges, yedges = _edges(lon, side), _edges(lat, side)
        nx = len(xedges) - 1
        cell = _cells(yedges, lat) * nx + _cells(xedges, lon)
        order = np.argsort(cell, kind="stable")
        counts = np.bincount(cell, minlength=nx * (len(yedges) - 1))
        first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(version, lon, lat, _texts(rows, order), xedges, yedges, order, first)

    def select(self, bbox) -> np.ndarray:
        """Positions (in id order, ascending) of the photos inside ``bbox`` (west, south,
        east, north in decimal degrees, edges included; None: all of them)."""
        n = len(self)
        if bbox is None or n == 0:
            return np.arange(n)
        w, s, e, north = bbox
        nx = len(self.xedges) - 1
        xs, ys = self.xedges, self.yedges
        if w <= xs[0] and e >= xs[-1] and s <= ys[0] and north >= ys[-1]:
            return np.arange(n)  # the box holds every photo
        x0, x1 = _cells(xs, [w, e]).tolist()
        y0, y1 = _cells(ys, [s, north]).tolist()
        first, order = self.first, self.order
        runs = [order[first[y * nx + x0] : first[y * nx + x1 + 1]] for y in range(y0, y1 + 1)]
        near = np.concatenate(runs)
        x, y = self.lon[near], self.lat[near]
        inside = near[(x >= w) & (x <= e) & (y >= s) & (y <= north)]
        inside.sort()
        return inside

    def features(self, positions, head: bytes = b"", tail: bytes = b"") -> bytes:
        """The Features of the photos at ``positions`` joined by commas, between ``head``
        and ``tail`` (one copy of the bytes)."""
        parts = self.texts[np.asarray(positions, np.int64)].tolist()
        if not parts:
            return head + tail
        parts[0] = head + parts[0]
        parts[-1] = parts[-1] + tail
        return b",".join(parts)
