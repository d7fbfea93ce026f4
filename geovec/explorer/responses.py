"""What the explorer answers over HTTP besides its data: JSON that writes numpy numbers,
dates and decimals, and the one error shape, ``{"error": "..."}``, for every refusal and
failure (400 a bad parameter, 404 no such row or file, 405, 500 with the server's log)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import logging

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse

from geovec.errors import GeovecError
from geovec.explorer.requests import NotFound, RequestError

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


def error(status: int, message: str) -> JSON:
    """The explorer's error answer: ``{"error": message}`` with HTTP ``status``."""
    return JSON({"error": message}, status_code=status)


def _internal_error(request: Request, exc: Exception) -> JSON:
    _log.exception("error answering %s", request.url.path)
    return error(500, f"internal error ({type(exc).__name__}); see the server's log")


EXCEPTION_HANDLERS = {
    RequestError: lambda r, e: error(400, str(e)),
    NotFound: lambda r, e: error(404, str(e)),
    GeovecError: lambda r, e: error(400, str(e)),
    404: lambda r, e: error(404, "not found"),
    405: lambda r, e: error(405, "method not allowed"),
    Exception: _internal_error,
}
"""Starlette's exception handlers: each error as JSON with its status."""
