"""The explorer's guards: one pure ASGI middleware that every request meets before any
endpoint runs. Each refusal is JSON ``{"error": "..."}`` (:func:`~.responses.error`),
and every response, refusals included, carries :data:`SECURITY_HEADERS`. In order:

1. Host (when given the names to accept; ``geovec serve`` on a loopback address does):
   any other Host header is 400, so no web site reaches a server on 127.0.0.1 through
   DNS rebinding.
2. A query string over :data:`MAX_QUERY_STRING` bytes: 414.
3. A Content-Length over :data:`MAX_BODY` bytes (or not a number): 413.
4. A POST (the SQL box) from another site: 403 when its ``Origin`` is not this server's
   own (``http://`` + the Host header) or ``Sec-Fetch-Site`` says ``cross-site`` or
   ``same-site`` (another port of localhost is the same site).
5. A POST whose Content-Type is not ``application/json``: 415 (a page elsewhere can send
   ``text/plain`` without asking the browser first; JSON needs CORS, which this server
   never grants).
6. The body, counted as it is read (a chunked one too): at :data:`MAX_BODY` bytes plus
   one the request gets 413 and the rest is never read. The endpoint then reads the
   body from memory.
"""

from __future__ import annotations

from starlette.middleware import Middleware

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
SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values a POST may carry (none: typed or bookmarked by the user)."""


def host_name(host: str) -> str:
    """The name of a Host header without its port: ``[::1]:8765`` -> ``[::1]``,
    ``LocalHost:80`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


class Guards:
    """ASGI middleware: the checks of the module docstring, in that order."""

    def __init__(self, app, allowed_hosts: list[str] | None = None):
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        refusal = self.refusal(scope)
        if refusal is None and scope["method"] == "POST":
            body, over = await _read_counted(receive)
            if over:
                refusal = (413, f"request body over {MAX_BODY} bytes")
            else:
                receive = _replay(body, receive)
        if refusal is not None:
            return await error(*refusal)(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)

    def refusal(self, scope) -> tuple[int, str] | None:
        """(status, message) for a request the headers already refuse, else None."""
        headers = {}
        for key, value in scope.get("headers") or []:
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        host = headers.get("host", "")
        if self.allowed_hosts is not None and host_name(host) not in self.allowed_hosts:
            return 400, "invalid Host header: this server answers only " + ", ".join(
                sorted(self.allowed_hosts)
            )
        if len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
            return 414, f"query string over {MAX_QUERY_STRING} bytes"
        length = headers.get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > MAX_BODY):
            return 413, f"request body over {MAX_BODY} bytes"
        if scope["method"] != "POST":
            return None
        origin = headers.get("origin")
        if origin is not None and origin.lower().rstrip("/") != f"http://{host.lower()}":
            return 403, f"cross-site request refused (Origin {origin[:100]})"
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in SAME_ORIGIN_FETCHES:
            return 403, f"cross-site request refused (Sec-Fetch-Site {fetch_site[:40]})"
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            return 415, "the body must be JSON, sent with Content-Type: application/json"
        return None


async def _read_counted(receive) -> tuple[bytes, bool]:
    """The request body, read message by message; (what was read, True) as soon as it
    passes MAX_BODY bytes, the rest left unread."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive):
    """An ASGI receive that hands out ``body`` once, then waits on the client's."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def middleware(allowed_hosts: list[str] | None = None) -> list[Middleware]:
    """The guards; ``allowed_hosts``: the Host names to answer (None: any)."""
    return [Middleware(Guards, allowed_hosts=allowed_hosts)]
