"""Socket options set on the client's connection through the WSGI environ."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from parley.tcp import SOCKET_KEYS, NoDelay
from parley.timeouts import IdleTimeouts


@pytest.fixture
def connection() -> Iterator[socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    yield accepted
    for sock in (accepted, client, listener):
        sock.close()


@pytest.mark.parametrize("key", SOCKET_KEYS)
def test_every_connection_gets_tcp_nodelay_whichever_server_runs_it(
    connection: socket.socket, key: str
) -> None:
    assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    seen: list[dict[str, Any]] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        return [b"ok"]

    app = NoDelay(wsgi)
    assert app({key: connection}, lambda *a: None) == [b"ok"]
    assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert len(seen) == 1


def test_an_environ_without_a_socket_is_served_as_is() -> None:
    app = NoDelay(lambda environ, start_response: [b"ok"])
    assert app({}, lambda *a: None) == [b"ok"]


def test_it_wraps_the_whole_app_socketio_included(app: Flask) -> None:
    layers = []
    layer: Any = app.wsgi_app
    while layer is not None:
        layers.append(type(layer))
        layer = getattr(layer, "app", None)
    names = [layer.__name__ for layer in layers]
    at = layers.index(NoDelay)
    assert layers[at + 1] is IdleTimeouts
    assert names[at + 2] == "_SocketIOMiddleware"
