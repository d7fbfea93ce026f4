"""The explorer's ASGI application (Starlette): the page, Leaflet's files, and the JSON
API under /api, each endpoint a thin call of :class:`~geovec.explorer.answers.Explorer`.

Read-only and local: no endpoint writes; files are only those that store rows name
(:mod:`geovec.explorer.files`), never a path from the request; every parameter is checked
(400 with a message); query strings over ``MAX_QUERY_STRING`` bytes and bodies over
``MAX_BODY`` bytes are refused before anything is parsed; a Host check (when given the
names to accept) keeps other web sites from reaching a server on 127.0.0.1 through DNS
rebinding.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import io
import json
import logging
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from geovec.errors import GeovecError
from geovec.explorer import requests as checked
from geovec.explorer.answers import MAX_PAGE, Explorer
from geovec.explorer.requests import NotFound, RequestError
from geovec.explorer.sqlbox import MAX_QUERY_CHARS, MAX_ROWS
from geovec.geo.webtiles import TILE_PX, png_bytes

STATIC = Path(__file__).parent / "static"
MAX_QUERY_STRING = 8_192
"""Longest query string (bytes) a request may carry."""
MAX_BODY = 64 * 1024
"""Largest request body (bytes): the SQL box's JSON."""
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_log = logging.getLogger("geovec.explorer")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time, decimal.Decimal)):
        return str(value)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class JSON(JSONResponse):
    """JSON that also writes numpy numbers, dates and decimals (never NaN: not JSON)."""

    def render(self, content) -> bytes:
        return json.dumps(
            content, default=_jsonable, allow_nan=False, separators=(",", ":")
        ).encode()


def _error(status: int, message: str) -> JSON:
    return JSON({"error": message}, status_code=status)


class _Limits:
    """ASGI middleware: refuse long query strings (414) and large bodies (413) before the
    application parses them, and add the security headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
            return await _error(414, f"query string over {MAX_QUERY_STRING} bytes")(
                scope, receive, send
            )
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await _error(413, f"request body over {MAX_BODY} bytes")(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(store, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The explorer over ``store`` (a path or an open Store). ``allowed_hosts``: the Host
    names to answer (None: any, as for tests)."""
    explorer = Explorer(store)
    empty_tile = _empty_png()

    def page(request: Request):
        return FileResponse(STATIC / "index.html", media_type="text/html")

    def info(request: Request):
        return JSON(explorer.info())

    def points(request: Request):
        q = request.query_params
        body = explorer.points_geojson(
            checked.bbox(q),
            offset=checked.integer(q, "offset", 0, 0, 2**62),
            limit=checked.integer(q, "limit", 10_000, 1, MAX_PAGE),
        )
        return Response(body, media_type="application/geo+json")

    def image(request: Request):
        q = request.query_params
        view = request.path_params["view"]
        path = explorer.image_file(view, checked.text(q, "id"))
        px = checked.integer(q, "px", 0, 0, 2048)
        if px:
            return Response(_thumbnail(path, px), media_type="image/jpeg")
        return FileResponse(path)

    def web_tile(request: Request):
        p = request.path_params
        data = explorer.web_tile(p["z"], p["x"], p["y"])
        headers = {"Cache-Control": "max-age=3600"}
        return Response(data or empty_tile, media_type="image/png", headers=headers)

    def tile(request: Request):
        q = request.query_params
        lon = checked.number(q, "lon", None, -180, 180)
        lat = checked.number(q, "lat", None, -90, 90)
        if lon is None or lat is None:
            raise RequestError("give lon and lat (decimal degrees)")
        return JSON(explorer.tile_at(lon, lat))

    def neighbours(request: Request):
        q = request.query_params
        return JSON(
            explorer.neighbours(
                checked.text(q, "id"),
                checked.text(q, "feature", required=False),
                checked.integer(q, "k", 10, 1, 1000),
            )
        )

    def heatmap(request: Request):
        q = request.query_params
        return JSON(
            explorer.heatmap(
                checked.text(q, "id"),
                checked.text(q, "feature", required=False),
                checked.integer(q, "neighbors", 30, 1, 1000),
            )
        )

    def search(request: Request):
        q = request.query_params
        return JSON(
            explorer.search(
                checked.text(q, "tile"),
                checked.text(q, "feature", required=False),
                checked.integer(q, "k", 10, 1, 1000),
            )
        )

    def region_and_feature(request: Request):
        q = request.query_params
        return checked.text(q, "region", required=False), checked.text(q, "feature", required=False)

    def landcover(request: Request):
        return JSON(explorer.landcover(*region_and_feature(request)))

    def landcover_png(request: Request):
        png = explorer.landcover_png(*region_and_feature(request))
        return Response(png, media_type="image/png")

    async def sql(request: Request):
        from starlette.concurrency import run_in_threadpool

        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RequestError('the body must be JSON: {"query": "select ..."}') from None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise RequestError('the body must be JSON: {"query": "select ..."}')
        limit = body.get("limit", 1000)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_ROWS:
            raise RequestError(f"limit must be an integer 1 to {MAX_ROWS}")
        if len(body["query"]) > MAX_QUERY_CHARS:
            raise RequestError(f"the query is longer than {MAX_QUERY_CHARS} characters")
        return JSON(await run_in_threadpool(explorer.sql, body["query"], limit))

    routes = [
        Route("/", page),
        Route("/api/info", info),
        Route("/api/points", points),
        Route("/api/image/{view}", image),
        Route("/api/tiles/{z:int}/{x:int}/{y:int}.png", web_tile),
        Route("/api/tile", tile),
        Route("/api/neighbors", neighbours),
        Route("/api/heatmap", heatmap),
        Route("/api/search", search),
        Route("/api/landcover", landcover),
        Route("/api/landcover.png", landcover_png),
        Route("/api/sql", sql, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {
        RequestError: lambda r, e: _error(400, str(e)),
        NotFound: lambda r, e: _error(404, str(e)),
        GeovecError: lambda r, e: _error(400, str(e)),
        404: lambda r, e: _error(404, "not found"),
        405: lambda r, e: _error(405, "method not allowed"),
        Exception: _internal_error,
    }
    middleware = [Middleware(_Limits)]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)
    app.state.explorer = explorer
    return app


def _internal_error(request: Request, exc: Exception) -> JSON:
    _log.exception("error answering %s", request.url.path)
    return _error(500, f"internal error ({type(exc).__name__}); see the server's log")


def _thumbnail(path: Path, px: int) -> bytes:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((px, px))
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=85)
    except (OSError, ValueError) as exc:
        raise NotFound(f"the image cannot be read ({exc})") from None
    return out.getvalue()


def _empty_png() -> bytes:
    from PIL import Image

    return png_bytes(Image.new("RGBA", (TILE_PX, TILE_PX), (0, 0, 0, 0)))
