"""The explorer's ASGI application (Starlette): the routes (:mod:`geovec.explorer.routes`)
behind the guards (:mod:`geovec.explorer.guards`), every error JSON
(:mod:`geovec.explorer.responses`), over one :class:`~geovec.explorer.answers.Explorer`.

Read-only and local: no endpoint writes; files are only those that store rows name
(:mod:`geovec.explorer.files`), never a path from the request.
"""

from __future__ import annotations

import logging
import threading

from starlette.applications import Starlette

from geovec.explorer import guards
from geovec.explorer.answers import Explorer
from geovec.explorer.responses import EXCEPTION_HANDLERS
from geovec.explorer.routes import ROUTES


def create_app(
    store, *, allowed_hosts: list[str] | None = None, prebuild: bool = False
) -> Starlette:
    """The explorer over ``store`` (a path or an open Store). ``allowed_hosts``: the Host
    names to answer (None: any, as for tests); ``prebuild``: build the photos' page set
    in a thread now, so that the page's first request does not wait for all of it
    (``geovec serve`` does)."""
    app = Starlette(
        routes=ROUTES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=guards.middleware(allowed_hosts),
    )
    app.state.explorer = Explorer(store)
    if prebuild:
        threading.Thread(target=_prebuild, args=(app.state.explorer,), daemon=True).start()
    return app


def _prebuild(explorer: Explorer) -> None:
    try:
        explorer.ground_points.pages()
    except Exception:  # a request builds it again, and says what went wrong
        logging.getLogger("geovec.explorer").exception("building the photos' page set")
