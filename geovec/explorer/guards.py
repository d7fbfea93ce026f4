"""The explorer's guards, ASGI middleware around every request before any endpoint runs:
query strings over ``MAX_QUERY_STRING`` bytes get 414, bodies over ``MAX_BODY`` bytes 413,
before anything is parsed; every response carries the security headers; a Host check
(when given the names to accept) keeps other web sites from reaching a server on
127.0.0.1 through DNS rebinding."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from geovec.explorer.responses import error

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


class Limits:
    """ASGI middleware: refuse long query strings (414) and large bodies (413) before the
    application parses them, and add the security headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
            return await error(414, f"query string over {MAX_QUERY_STRING} bytes")(
                scope, receive, send
            )
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await error(413, f"request body over {MAX_BODY} bytes")(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def middleware(allowed_hosts: list[str] | None = None) -> list[Middleware]:
    """The guards in the order a request meets them; ``allowed_hosts``: the Host names to
    answer (None: any)."""
    out = [Middleware(Limits)]
    if allowed_hosts:
        out.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    return out
