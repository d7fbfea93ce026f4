"""``geovec serve`` and ``geovec neighbors`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

from typer.testing import CliRunner

import geovec
from geovec.cli import app
from tests.explorer.conftest import free_port

runner = CliRunner()


def test_neighbors_command_is_the_library(world_db):
    store = geovec.open(world_db, create=False)
    ident = store.read("ground", ["id"]).column(0)[0].as_py()
    result = runner.invoke(
        app, ["neighbors", str(world_db), ident, "--feature", "gist", "--k", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    got = [r["id"] for r in json.loads(result.output)["results"]]
    assert got == [n.id for n in geovec.nearest_ground(store, "gist", id=ident, k=3)]
    missing = runner.invoke(app, ["neighbors", str(world_db), "nope", "--feature", "gist"])
    assert missing.exit_code == 1 and "no ground image" in missing.output


def start(world_db, *args):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "geovec", "serve", str(world_db), "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, port


def wait_for(port, process, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        assert process.poll() is None, process.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=5) as r:
                return json.load(r)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("geovec serve did not answer")


def test_serve_prints_its_url_and_answers(world_db):
    process, port = start(world_db)
    try:
        info = wait_for(port, process)
        assert info["counts"]["ground"] == geovec.open(world_db, create=False).count("ground")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/leaflet/leaflet.js") as r:
            assert b"Leaflet" in r.read(2000)
    finally:
        process.terminate()
        out = process.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in out and "warning" not in out


def test_serve_on_another_host_warns(world_db):
    process, port = start(world_db, "--host", "0.0.0.0")
    try:
        wait_for(port, process)
    finally:
        process.terminate()
        out = process.communicate(timeout=30)[0]
    assert "warning: serving on 0.0.0.0" in out


def test_serve_a_missing_store_is_one_line(tmp_path):
    result = runner.invoke(app, ["serve", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
