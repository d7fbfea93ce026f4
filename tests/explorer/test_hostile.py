"""Hostile requests against a real server (uvicorn on 127.0.0.1): each is refused
cleanly, no file outside the store's rows leaks, and the server keeps serving."""

from __future__ import annotations

import http.client
import json
import shutil
import socket

import pytest

import geovec
from tests.explorer.conftest import LiveServer


def get(server, target: str, method="GET", body=None, headers=None):
    con = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        con.request(method, target, body=body, headers=headers or {})
        response = con.getresponse()
        return response.status, response.read()
    finally:
        con.close()


def still_serving(server):
    status, body = get(server, "/api/info")
    assert status == 200 and b"counts" in body


@pytest.mark.parametrize(
    "target",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/api/image/ground?id=../../../../etc/passwd",
        "/api/image/ground?id=/etc/passwd",
        "/api/image/..%2f..%2fetc?id=passwd",
        "/../../etc/passwd",
    ],
)
def test_path_traversal_is_404(live_server, target):
    status, body = get(live_server, target)
    assert status in (400, 404) and b"root:" not in body
    still_serving(live_server)


def test_huge_bbox_is_paged_and_a_wrong_one_refused(live_server):
    status, body = get(live_server, "/api/points?bbox=-180,-90,180,90&limit=50000")
    assert status == 200 and b"FeatureCollection" in body
    status, body = get(live_server, "/api/points?bbox=-1e308,-90,1e308,90")
    assert status == 400 and b"bbox" in body
    status, body = get(live_server, "/api/points?limit=10000000")
    assert status == 400
    still_serving(live_server)


def test_write_statement_in_the_sql_box(live_server):
    for query in ("drop table ground", "copy ground to '/tmp/geovec_leak.csv'"):
        body = json.dumps({"query": query}).encode()
        status, answer = get(
            live_server, "/api/sql", "POST", body, {"Content-Type": "application/json"}
        )
        assert status == 400 and b"error" in answer
    status, _ = get(live_server, "/api/sql", "POST", b"not json", JSON_TYPE)
    assert status == 400
    status, _ = get(live_server, "/api/sql")
    assert status == 405
    still_serving(live_server)


JSON_TYPE = {"Content-Type": "application/json"}
QUERY = json.dumps({"query": "select count(*) from ground"}).encode()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example", "Content-Type": "text/plain"}, 403),
        ({"Origin": "http://evil.example", **JSON_TYPE}, 403),
        ({"Origin": "null", **JSON_TYPE}, 403),
        ({"Sec-Fetch-Site": "cross-site", **JSON_TYPE}, 403),
        ({"Sec-Fetch-Site": "same-site", **JSON_TYPE}, 403),  # another port of localhost
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),
        ({"Sec-Fetch-Site": "same-origin", **JSON_TYPE}, 200),
        ({"Content-Type": "application/json; charset=utf-8"}, 200),
    ],
)
def test_a_post_from_another_site_or_not_json_is_refused(live_server, headers, status):
    """A page elsewhere in the user's browser can send a text/plain POST without asking
    first (before issue 19: 200 with the rows); the page's own fetch carries its Origin."""
    got, body = get(live_server, "/api/sql", "POST", QUERY, headers)
    assert got == status, body
    assert ("error" in json.loads(body)) == (status != 200)
    if status == 200:
        return
    own = {"Origin": live_server.url, "Sec-Fetch-Site": "same-origin", **JSON_TYPE}
    assert get(live_server, "/api/sql", "POST", QUERY, own)[0] == 200


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it(live_server):
    """20 MB announced by no Content-Length: 413 after the first 64 KB and a little,
    before the client sends the rest (before issue 19 the server waited for all of it,
    then answered 400 "must be JSON")."""
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/sql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 16_384
        for _ in range(6):  # 96 KB of the announced 20 MB
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"content-security-policy" in head.lower()
    assert "65536 bytes" in json.loads(body)["error"]
    status, _ = get(live_server, "/api/sql", "POST", b"[" * 70_000, JSON_TYPE)
    assert status == 413
    still_serving(live_server)


def refused_status(server, *args):
    """The status of a refused request, or "reset" when the server closed the connection
    on it before the client had sent it all (uvicorn does for a 10 MB request line)."""
    try:
        return get(server, *args)[0]
    except (ConnectionResetError, BrokenPipeError):
        return "reset"


def test_ten_megabyte_query_string_and_body(live_server):
    status = refused_status(live_server, "/api/points?bbox=" + "9" * 10_000_000)
    assert status in ("reset", 400, 413, 414, 431)
    status = refused_status(live_server, "/api/points?bbox=" + "9" * 10_000)
    assert status in (414, 431)
    status = refused_status(live_server, "/api/sql", "POST", b"x" * 10_000_000)
    assert status in ("reset", 413)
    status = refused_status(live_server, "/api/sql", "POST", b"x" * 100_000)
    assert status in ("reset", 413)
    still_serving(live_server)


def test_a_foreign_host_header_is_refused_in_json(live_server):
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example", ""):
        status, body = get(live_server, "/api/info", headers={"Host": host})
        assert status == 400 and "Host" in json.loads(body)["error"], body
    for host in ("localhost", f"127.0.0.1:{live_server.port}", f"[::1]:{live_server.port}"):
        assert get(live_server, "/api/info", headers={"Host": host})[0] == 200
    status, body = get(live_server, "/api/points?bbox=" + "9" * 10_000)
    assert status in (414, 431)
    if status == 414:
        assert "query string" in json.loads(body)["error"]
    still_serving(live_server)


def test_a_file_swapped_for_a_link_out_of_the_store_is_not_sent(tmp_path, world_db):
    """A row's image replaced after ingest by a symbolic link to a file elsewhere: 404."""
    world = tmp_path / "copy"
    shutil.copytree(world_db.parent, world, symlinks=True)
    store = geovec.open(world / "db", create=False)
    rows = store.read("ground", ["id", "path"]).to_pylist()
    # the copied store's rows still name the original images: point one at the copy
    ident = rows[0]["id"]
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret")
    image = world / "swapped" / "photo.png"
    image.parent.mkdir()
    image.symlink_to(secret)
    store.sql("update ground set path = ? where id = ?", [str(image), ident], write=True)
    with LiveServer(world / "db") as server:
        status, body = get(server, f"/api/image/ground?id={ident}")
        assert status == 404 and b"secret" not in body
        status, _ = get(server, f"/api/image/ground?id={rows[1]['id']}")
        assert status == 200


def test_server_refuses_a_taken_port(world_db):
    from geovec.errors import GeovecError
    from geovec.explorer.server import serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(GeovecError, match="cannot serve"):
            serve(world_db, port=taken.getsockname()[1], say=lambda line: None)
