"""The ground photos layer (``/api/points``): located ground images as paged GeoJSON,
answered from a page set (:mod:`geovec.explorer.point_pages`) built once per ground
table version. The version is looked at once a second at most (:data:`CHECK_EVERY_S`);
the first request after it changes builds the new page set while others are answered
from the last one (only the very first build is waited for, by every request that
comes during it, and it runs once). Each answer has an ETag naming its content (a
request that already holds it gets 304) and, for a client that accepts it, is sent
gzip-compressed; compressed answers are kept (:data:`GZIP_BYTES`) so that the page's
repeated requests are compressed once."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import threading
import time

from geovec.explorer.point_pages import POINT_PROPERTIES, PointPages
from geovec.explorer.requests import RequestError
from geovec.geo.bounds import Bbox
from geovec.geo.pyramid import BytesLRU, KeyLocks
from geovec.store import Store

__all__ = ["POINT_PROPERTIES", "GroundPoints", "PointsAnswer"]

MAX_PAGE = 50_000
"""Most points in one page of /api/points."""
DEFAULT_PAGE = 10_000
"""Points in a page of /api/points when the request gives no limit."""
CHECK_EVERY_S = 1.0
"""Seconds between looks at the ground table's version: new photos show within it plus
one build of the page set (answers come from the last one meanwhile: about 5 s for
200,000 photos on 2 busy cores)."""
GZIP_BYTES = 64 * 2**20
"""Bytes of gzip-compressed answers kept, least recently used first out."""
GZIP_MIN_BYTES = 1024
"""Answers shorter than this are sent as they are."""
EVERYTHING = {"west": -180.0, "south": -90.0, "east": 180.0, "north": 90.0}


@dataclasses.dataclass(frozen=True)
class PointsAnswer:
    """One /api/points answer: its GeoJSON ``body`` (gzip-compressed when ``gzip``;
    None when the client holds it already: HTTP 304) and its ``etag``."""

    body: bytes | memoryview | None
    etag: str
    gzip: bool = False


def _holds(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak or strong) or is ``*``."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match[:4096].split(",")}
    return etag in tags or "*" in tags


class GroundPoints:
    """The located ground images of ``store`` as pages of GeoJSON."""

    def __init__(
        self, store: Store, *, check_every_s: float = CHECK_EVERY_S, gzip_bytes: int = GZIP_BYTES
    ):
        self.store = store
        self.check_every_s = check_every_s
        self._pages: PointPages | None = None
        self._checked = -float("inf")
        self._building = threading.Lock()
        self._gzipped = BytesLRU(gzip_bytes, len)
        self._gzip_locks = KeyLocks()
        self.builds = 0  # page sets built (one per ground version seen)

    def _version(self) -> tuple | None:
        return self.store.version_token("ground")

    def pages(self) -> PointPages:
        """The page set of the ground table as it is now (its version looked at once per
        ``check_every_s`` at most)."""
        current = self._pages
        now = time.monotonic()
        if current is not None and now - self._checked < self.check_every_s:
            return current
        version = self._version()
        self._checked = now
        if current is not None and current.version == version:
            return current
        if current is not None and not self._building.acquire(blocking=False):
            return current  # another request builds the new one: answer from the last
        if current is None:
            self._building.acquire()
        try:
            current = self._pages
            if current is None or current.version != version:
                current = self._build(version)
                self._pages = current
            return current
        finally:
            self._building.release()

    def _build(self, version: tuple | None) -> PointPages:
        """sql/ground_points.sql, every located ground image by id, as a page set."""
        if version is None:
            rows = None
        else:
            rows = self.store.query("ground_points", **EVERYTHING, offset=0, limit=2**62)
        self.builds += 1
        return PointPages.build(rows, version)

    def answer(
        self,
        bbox: Bbox | None = None,
        *,
        offset: int = 0,
        limit: int = DEFAULT_PAGE,
        gzip_ok: bool = False,
        if_none_match: str | None = None,
    ) -> PointsAnswer:
        """The page of :meth:`geojson` as an HTTP answer: its ETag, None for a body the
        client holds (``if_none_match``), gzip-compressed when ``gzip_ok`` and long."""
        _check_page(offset, limit)
        pages = self.pages()
        asked = repr((tuple(bbox) if bbox is not None else None, offset, limit)).encode()
        etag = f'"{pages.digest}-{hashlib.blake2b(asked, digest_size=8).hexdigest()}"'
        if _holds(if_none_match, etag):
            return PointsAnswer(None, etag)
        if gzip_ok:
            packed = self._gzipped.get(etag)
            if packed is not None:
                return PointsAnswer(packed, etag, gzip=True)
        body = _page(pages, bbox, offset, limit)
        if not gzip_ok or len(body) < GZIP_MIN_BYTES:
            return PointsAnswer(body, etag)
        with self._gzip_locks.hold(etag):
            packed = self._gzipped.get(etag)
            if packed is None:
                packed = gzip.compress(body, compresslevel=6, mtime=0)
                self._gzipped.put(etag, packed)
        return PointsAnswer(packed, etag, gzip=True)

    def geojson(
        self, bbox: Bbox | None = None, *, offset: int = 0, limit: int = DEFAULT_PAGE
    ) -> bytes:
        """Ground images with a position inside ``bbox`` (decimal degrees, edges
        included) as GeoJSON FeatureCollection text (properties: id, region, split,
        isolated, source), ordered by id, ``limit`` from ``offset``; ``total`` counts
        them all and ``next_offset`` is None on the last page."""
        _check_page(offset, limit)
        return bytes(_page(self.pages(), bbox, offset, limit))


def _check_page(offset: int, limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise RequestError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
    if offset < 0:
        raise RequestError(f"offset must be 0 or more, got {offset}")


def _page(pages: PointPages, bbox, offset: int, limit: int) -> bytes | memoryview:
    inside = pages.select(bbox)
    page = inside[offset : offset + limit]
    after = offset + len(page)
    following = str(after).encode() if after < len(inside) else b"null"
    return pages.features(
        page,
        b'{"type":"FeatureCollection","features":[',
        b'],"total":%d,"next_offset":%s}' % (len(inside), following),
    )
