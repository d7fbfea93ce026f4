"""The ground photos layer's page set: every located ground image's GeoJSON Feature
written once per ground table version, with a grid over lon/lat (decimal degrees) that
finds the photos of a box without looking at the others. A page of /api/points is then
a few numpy steps and one gather of precomputed bytes; nothing is queried or serialised
per request.

The Features lie in one byte array, a row each, in the grid's order (a viewport's rows
lie together), each followed by its comma and padded with spaces (JSON whitespace) to
one width: the 99.9th percentile of their lengths but at most twice their median, so
that a page is a single numpy take. A Feature longer than that (a very long id) is kept
aside, and a page holding one is joined item by item.

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
>>> bytes(pages.features([1]))[:60]
b'{"type":"Feature","id":"b","geometry":{"type":"Point","coord'
>>> json.loads(pages.features([0, 1], b"[", b"]"))[1]["properties"]["isolated"]
True
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
WIDTH_QUANTILE = 0.999
"""Features up to this quantile of their lengths share the byte array's row width (but
none longer than WIDTH_MEDIANS times the median)."""
WIDTH_MEDIANS = 2
"""Features longer than this many times the median are kept aside whatever their share
(a few percent of very long ids must not pad every row and page)."""
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


def _texts(rows: pa.Table) -> list[bytes]:
    """Each row's GeoJSON Feature (ASCII bytes: json.dumps's text), by row."""
    ids = _json_texts(rows.column("id"))
    props = [_json_texts(rows.column(k)) for k in POINT_PROPERTIES[1:]]
    lon, lat = rows.column("lon").to_pylist(), rows.column("lat").to_pylist()
    return [
        _FEATURE.format(
            id=i, lon=repr(x), lat=repr(y), region=r, split=s, isolated=o, source=c
        ).encode("ascii")
        for i, x, y, r, s, o, c in zip(ids, lon, lat, *props)
    ]


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
    """The page set of one ground table version: ``lon``, ``lat`` of the photos in id
    order, their Features (``rows``: a byte row each, in grid order; photo i's is row
    ``row_of[i]``; ``long``: those too long for a row, by photo) and the grid. Not
    changed once built."""

    def __init__(self, version, lon, lat, texts: list[bytes], xedges, yedges, order, first):
        self.version = version
        self.lon, self.lat = lon, lat
        self.xedges, self.yedges = xedges, yedges
        self.order, self.first = order, first  # photos by cell; cell c is first[c]:first[c+1]
        lengths = np.fromiter(map(len, texts), np.int64, len(texts))
        width = 1
        if len(texts):
            tail = np.quantile(lengths, WIDTH_QUANTILE, method="lower")
            usual = lengths[lengths <= WIDTH_MEDIANS * np.median(lengths)]
            width = int(min(tail, usual.max())) + 1
        self.is_long = lengths >= width
        self.long = {int(i): texts[i] for i in np.flatnonzero(self.is_long)}
        padded = b"".join(
            b" " * (width - 1) + b","
            if len(texts[i]) >= width
            else texts[i].ljust(width - 1) + b","
            for i in order.tolist()
        )
        self.rows = np.frombuffer(padded, np.uint8).reshape(len(texts), width)
        self.row_of = np.empty(len(texts), np.int64)
        self.row_of[order] = np.arange(len(texts))
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
        return cls(version, lon, lat, _texts(rows), xedges, yedges, order, first)

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

    def features(self, positions, head: bytes = b"", tail: bytes = b"") -> bytes | memoryview:
        """The Features of the photos at ``positions`` joined by commas (and padding),
        between ``head`` and ``tail``: bytes, or a memoryview of the one buffer written
        (not copied again)."""
        positions = np.asarray(positions, np.int64)
        k, width = len(positions), self.rows.shape[1]
        if k == 0:
            return head + tail
        if self.is_long[positions].any():
            parts = [
                self.long.get(p) or self.rows[self.row_of[p], :-1].tobytes()
                for p in positions.tolist()
            ]
            return head + b",".join(parts) + tail
        end = len(head) + k * width
        out = np.empty(end + len(tail), np.uint8)
        out[: len(head)] = np.frombuffer(head, np.uint8)
        np.take(self.rows, self.row_of[positions], axis=0, out=out[len(head) : end].reshape(k, -1))
        out[end - 1 : end - 1 + len(tail)] = np.frombuffer(tail, np.uint8)  # over the last comma
        return memoryview(out[: end - 1 + len(tail)])
