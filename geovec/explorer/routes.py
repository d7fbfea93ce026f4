"""Every endpoint of the explorer, in one table (:data:`ROUTES`), each a thin function:
read its parameters with their limits (:mod:`geovec.explorer.requests`: a bad one is 400
saying which), ask :class:`~geovec.explorer.answers.Explorer`, shape the response. The
guards that run before any of them are in :mod:`geovec.explorer.guards`.

| endpoint | parameters and their limits |
| --- | --- |
| ``GET /`` | the page |
| ``GET /api/info`` | none |
| ``GET /api/points`` | bbox W,S,E,N (decimal degrees), offset >= 0, limit 1 to MAX_PAGE |
| ``GET /api/image/{view}`` | view ground/overhead/map, id, px 0 (the file) to MAX_THUMBNAIL_PX |
| ``GET /api/tiles/{z}/{x}/{y}.png`` | z 0 to MAX_ZOOM, x and y inside zoom z |
| ``GET /api/tile`` | lon -180 to 180, lat -90 to 90 |
| ``GET /api/neighbors`` | id, feature, k 1 to MAX_K |
| ``GET /api/heatmap`` | id, feature, neighbors 1 to MAX_NEIGHBORS |
| ``GET /api/search`` | tile, feature, k 1 to MAX_K |
| ``GET /api/landcover``, ``/api/landcover.png`` | region (empty: no region), feature |
| ``POST /api/sql`` | JSON {"query": up to MAX_QUERY_CHARS, "limit": 1 to MAX_ROWS} |
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from geovec.defaults import DEFAULT_K, DEFAULT_NEIGHBORS
from geovec.explorer import requests as checked
from geovec.explorer.answers import Explorer
from geovec.explorer.basemap import empty_tile
from geovec.explorer.heatmap import MAX_NEIGHBORS
from geovec.explorer.images import MAX_THUMBNAIL_PX, thumbnail
from geovec.explorer.points import DEFAULT_PAGE, MAX_PAGE
from geovec.explorer.requests import RequestError
from geovec.explorer.responses import JSON
from geovec.explorer.sqlbox import MAX_QUERY_CHARS, MAX_ROWS
from geovec.explorer.tiles import MAX_K
from geovec.store.regions import NULL_ADDRESS as NULL_REGION_ADDRESS

STATIC = Path(__file__).parent / "static"
WEB_TILE_MAX_AGE_S = 3600
"""How long a browser may keep a web tile (seconds)."""
SQL_BODY = 'the body must be JSON: {"query": "select ..."}'


def explorer_of(request: Request) -> Explorer:
    """The Explorer the app serves (``create_app`` puts it in the app's state)."""
    return request.app.state.explorer


def page(request: Request):
    return FileResponse(STATIC / "index.html", media_type="text/html")


def info(request: Request):
    return JSON(explorer_of(request).info())


# the ground photos ----------------------------------------------------------------------


def points(request: Request):
    q = request.query_params
    answer = explorer_of(request).points_answer(
        checked.bbox(q),
        offset=checked.integer(q, "offset", 0, 0, 2**62),
        limit=checked.integer(q, "limit", DEFAULT_PAGE, 1, MAX_PAGE),
        gzip_ok=checked.accepts_gzip(request.headers.get("accept-encoding")),
        if_none_match=request.headers.get("if-none-match"),
    )
    headers = {"ETag": answer.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    if answer.gzip:
        headers["Content-Encoding"] = "gzip"
    return Response(answer.body, media_type="application/geo+json", headers=headers)


def image(request: Request):
    q = request.query_params
    path = explorer_of(request).image_file(request.path_params["view"], checked.text(q, "id"))
    px = checked.integer(q, "px", 0, 0, MAX_THUMBNAIL_PX)
    if px:
        return Response(thumbnail(path, px), media_type="image/jpeg")
    return FileResponse(path)


# the aerial base layer and a click on it --------------------------------------------------


def web_tile(request: Request):
    p = request.path_params
    data = explorer_of(request).web_tile(p["z"], p["x"], p["y"])
    headers = {"Cache-Control": f"max-age={WEB_TILE_MAX_AGE_S}"}
    return Response(data or empty_tile(), media_type="image/png", headers=headers)


def tile(request: Request):
    q = request.query_params
    lon = checked.number(q, "lon", None, -180, 180)
    lat = checked.number(q, "lat", None, -90, 90)
    if lon is None or lat is None:
        raise RequestError("give lon and lat (decimal degrees)")
    return JSON(explorer_of(request).tile_at(lon, lat))


def search(request: Request):
    q = request.query_params
    return JSON(
        explorer_of(request).search(
            checked.text(q, "tile"),
            checked.text(q, "feature", required=False),
            checked.integer(q, "k", DEFAULT_K, 1, MAX_K),
        )
    )


# a click on a photo -----------------------------------------------------------------------


def neighbours(request: Request):
    q = request.query_params
    return JSON(
        explorer_of(request).neighbours(
            checked.text(q, "id"),
            checked.text(q, "feature", required=False),
            checked.integer(q, "k", DEFAULT_K, 1, MAX_K),
        )
    )


def heatmap(request: Request):
    q = request.query_params
    return JSON(
        explorer_of(request).heatmap(
            checked.text(q, "id"),
            checked.text(q, "feature", required=False),
            checked.integer(q, "neighbors", DEFAULT_NEIGHBORS, 1, MAX_NEIGHBORS),
        )
    )


# the land-cover overlay --------------------------------------------------------------------


def _region_and_feature(request: Request):
    q = request.query_params
    region = checked.text(q, "region", required=False)
    if region is None and "region" in q:  # region= (empty): the rows without a region
        region = NULL_REGION_ADDRESS
    return region, checked.text(q, "feature", required=False)


def landcover(request: Request):
    return JSON(explorer_of(request).landcover(*_region_and_feature(request)))


def landcover_png(request: Request):
    png = explorer_of(request).landcover_png(*_region_and_feature(request))
    return Response(png, media_type="image/png")


# the SQL box --------------------------------------------------------------------------------


async def sql(request: Request):
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestError(SQL_BODY) from None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise RequestError(SQL_BODY)
    limit = body.get("limit", 1000)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_ROWS:
        raise RequestError(f"limit must be an integer 1 to {MAX_ROWS}")
    if len(body["query"]) > MAX_QUERY_CHARS:
        raise RequestError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    return JSON(await run_in_threadpool(explorer_of(request).sql, body["query"], limit))


ROUTES = [
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
"""Path → endpoint, every one the explorer answers."""
