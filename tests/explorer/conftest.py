"""The explorer's fixtures: the doctests' tiny world as the store, Starlette's TestClient
on it, a real uvicorn server on 127.0.0.1 in a thread, and Debian's Chromium."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette, uvicorn) is not installed")


@pytest.fixture(scope="session")
def world_db(tiny_world_store):
    """The tiny synthetic world's database: two regions, GIST, isolated test images."""
    return tiny_world_store["demo_db"]


@pytest.fixture(scope="session")
def client(world_db):
    from starlette.testclient import TestClient

    from geovec.explorer.app import create_app

    with TestClient(create_app(world_db)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving the explorer on 127.0.0.1 in a thread, as ``geovec serve`` does."""

    def __init__(self, db):
        import uvicorn

        from geovec.explorer.app import create_app
        from geovec.explorer.server import LOOPBACK_NAMES

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(db, allowed_hosts=LOOPBACK_NAMES)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the explorer did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def live_server(world_db):
    with LiveServer(world_db) as server:
        yield server


CHROMIUM_NAMES = ("chromium", "chromium-headless-shell", "chromium-browser")


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's Chromium (``make test`` installs the package); skipped, saying why, where
    it is not installed."""
    pytest.importorskip("playwright", reason="playwright (the test extra) is not installed")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium: install Debian's chromium package (make test does: make chromium)")
