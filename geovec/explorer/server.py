"""Start the explorer: uvicorn on 127.0.0.1 by default, the URL printed, the page opened
in the user's browser when asked."""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
import webbrowser
from collections.abc import Callable

from geovec.errors import GeovecError

LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.1, ::1, localhost: addresses other machines cannot reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    store,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the explorer over ``store`` until interrupted (Ctrl-C). Anything but a
    loopback ``host`` makes the store readable from the network: a warning says so."""
    try:
        import uvicorn

        from geovec.explorer.app import create_app
    except ImportError as exc:
        raise GeovecError(
            f"geovec serve needs the serve extra ({exc.name} is missing): "
            "pip install 'geovec[serve]'"
        ) from None
    if not 1 <= port <= 65535:
        raise GeovecError(f"port must be 1 to 65535, got {port}")
    sock = _bind(host, port)  # first: a name that does not resolve or a taken port, said once
    local = is_loopback(host)
    app = create_app(store, allowed_hosts=LOOPBACK_NAMES if local else None, prebuild=True)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if not local:
        say(
            f"warning: serving on {host}: anyone who can reach this machine can browse the "
            "store's images and run read-only SQL on it"
        )
    say(f"geovec explorer of {app.state.explorer.store.path}: {url}  (Ctrl-C to stop)")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    except OSError as exc:
        raise GeovecError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except SystemExit:  # uvicorn exits when it cannot start; its log line says why
        pass
    finally:
        sock.close()
    if not server.started:
        raise GeovecError(f"cannot serve on {host}:{port}")


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` for uvicorn to listen on.

    Raises:
      GeovecError: the name does not resolve, the port is taken or not allowed.
    """
    address = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        hint = " (is the port in use? try --port)" if exc.errno == errno.EADDRINUSE else ""
        raise GeovecError(
            f"cannot serve on {host}:{port}: {why[:1].lower()}{why[1:]}{hint}"
        ) from None
    return sock
