"""Request parameters, checked: each bad value is a :class:`RequestError` (HTTP 400) that
says what is wrong, a missing row a :class:`NotFound` (404); never a traceback."""

from __future__ import annotations

import math

from geovec.errors import GeovecError
from geovec.geo.bounds import Bbox, as_bbox

MAX_ID_LENGTH = 512
"""Longest id a request may name."""


class RequestError(GeovecError):
    """A request parameter is missing or has a bad value (HTTP 400)."""


class NotFound(GeovecError):
    """A request names a row, a file or a page that is not there (HTTP 404)."""


def text(params, name: str, *, required: bool = True, max_length: int = MAX_ID_LENGTH):
    """Parameter ``name`` as text, checked: present when ``required``, printable, short."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise RequestError(f"missing parameter {name!r}")
        return None
    if len(value) > max_length:
        raise RequestError(f"{name} is longer than {max_length} characters")
    if not value.isprintable():
        raise RequestError(f"{name} holds control characters")
    return value


def integer(params, name: str, default: int, low: int, high: int) -> int:
    """Parameter ``name`` as an integer within [low, high]."""
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise RequestError(f"{name} must be an integer, got {value[:40]!r}") from None
    if not low <= number <= high:
        raise RequestError(f"{name} must be {low} to {high}, got {number}")
    return number


def number(params, name: str, default: float, low: float, high: float) -> float:
    """Parameter ``name`` as a finite number within [low, high]."""
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        out = float(value)
    except ValueError:
        raise RequestError(f"{name} must be a number, got {value[:40]!r}") from None
    if not (math.isfinite(out) and low <= out <= high):
        raise RequestError(f"{name} must be {low:g} to {high:g}, got {value[:40]}")
    return out


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip: ``gzip`` (or ``x-gzip``) with q
    above 0, or else ``*`` with q above 0 (a gzip named with q=0 refuses it whatever
    ``*`` says, RFC 9110 12.5.3)."""
    named, star = [], []
    for item in (accept_encoding or "")[:1024].split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if name not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        try:
            weight = float(q[2:]) if q.startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        (star if name == "*" else named).append(weight)
    return max(named or star or [0.0]) > 0


def bbox(params, name: str = "bbox") -> Bbox | None:
    """Parameter ``name`` as a checked lon/lat box "W,S,E,N" (decimal degrees), or None."""
    value = text(params, name, required=False, max_length=200)
    if value is None:
        return None
    try:
        return as_bbox(value)
    except GeovecError as exc:
        raise RequestError(str(exc)) from None
