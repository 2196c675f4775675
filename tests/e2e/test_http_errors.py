"""What the real server answers to requests the app never sees whole: over-long headers
and request lines, chunked bodies over the limit, and Host headers it does not serve.

Werkzeug's server (threading mode) answers over-long headers and request lines itself, in
the JSON error shape; gevent's answers them with an empty 400 or closes the connection,
before any of Parley runs."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servers import LiveServer, start_server

pytestmark = pytest.mark.slow


# `parley run` in each mode: Werkzeug's threaded server, and gevent's (production's).
BOTH_MODES = pytest.mark.parametrize("server", ["threading", "gevent"], indirect=True)
THREADING = pytest.mark.parametrize("server", ["threading"], indirect=True)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp_path: Path = tmp_path_factory.mktemp(f"http-errors-{request.param}")
    env = {
        "PARLEY_ASYNC_MODE": request.param,
        "PARLEY_RATE_LIMITS": "off",
        "PARLEY_ALLOWED_HOSTS": "127.0.0.1, chat.example.org",
    }
    yield from start_server(tmp_path, database_url=None, extra_env=env)


def exchange(
    server: LiveServer, head: bytes, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (the server closes after an error)."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(head)
        if body:
            sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    header_block, _, payload = received.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, payload


def assert_json_error(answer: tuple[int, dict[str, str], bytes], status: int, code: str) -> None:
    got_status, headers, payload = answer
    assert got_status == status, (got_status, payload[:300])
    assert headers["content-type"].startswith("application/json"), headers
    error = json.loads(payload)["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code


def request_head(path: str, host: str = "127.0.0.1", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode()


@THREADING
def test_header_fields_too_large_is_a_json_431(server: LiveServer) -> None:
    huge = "X-Padding: " + "a" * 70_000 + "\r\n"
    assert_json_error(
        exchange(server, request_head("/api/v1/users/me", extra=huge)), 431, "headers_too_large"
    )
    many = "".join(f"X-Header-{n}: {n}\r\n" for n in range(150))
    assert_json_error(
        exchange(server, request_head("/api/v1/users/me", extra=many)), 431, "headers_too_large"
    )


@THREADING
def test_request_line_too_long_is_a_json_414(server: LiveServer) -> None:
    answer = exchange(server, request_head("/api/v1/users?q=" + "a" * 70_000))
    assert_json_error(answer, 414, "uri_too_long")


@BOTH_MODES
def test_ten_megabyte_chunked_body_is_a_json_413(server: LiveServer) -> None:
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
    )
    chunk = b'{"username": "' + b"a" * (1024 * 1024) + b'"'
    data = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    filler = b"a" * (1024 * 1024)
    for _ in range(9):
        data += b"%x\r\n%s\r\n" % (len(filler), filler)
    data += b"0\r\n\r\n"
    assert_json_error(exchange(server, head, data), 413, "payload_too_large")


@BOTH_MODES
def test_a_host_not_allowed_is_refused_on_every_path(server: LiveServer) -> None:
    for path in ("/api/v1/openapi.json", "/", "/socket.io/?EIO=4&transport=polling"):
        answer = exchange(server, request_head(path, host="attacker.example"))
        assert_json_error(answer, 400, "bad_host")


@BOTH_MODES
def test_allowed_hosts_are_served_with_any_port(server: LiveServer) -> None:
    port = urlsplit(server.url).port
    for host in (f"127.0.0.1:{port}", "chat.example.org", "CHAT.example.org:443"):
        status, _, payload = exchange(server, request_head("/api/v1/openapi.json", host=host))
        assert status == 200, (host, payload[:200])
