"""Closing a WebSocket whose connection is already gone logs nothing and raises nothing
(the writer of a session closed by a stop signal did, with a traceback)."""

from __future__ import annotations

import base64
import os
import socket
import threading
from typing import Any

import pytest
import simple_websocket
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from flask import Flask

from parley.extensions import socketio
from parley.realtime.websocket_close import quiet_close


class NoReader(threading.Thread):
    """simple-websocket's reader thread, not started: the connection's state then changes
    only when the test changes it."""

    def start(self) -> None:
        pass


def handshaken(wrapper_class: type[Any]) -> tuple[Any, socket.socket]:
    ours, peer = socket.socketpair()
    environ = {
        "werkzeug.socket": ours,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_UPGRADE": "websocket",
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        "HTTP_SEC_WEBSOCKET_KEY": base64.b64encode(os.urandom(16)).decode(),
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/socket.io/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
    }
    wrapper = wrapper_class(lambda ws: None, None, thread_class=NoReader)
    wrapper.ws = simple_websocket.Server(environ, **wrapper.server_args)
    assert peer.recv(4096).startswith(b"HTTP/1.1 101")
    return wrapper, peer


def test_closing_a_websocket_whose_socket_is_gone_raises_nothing() -> None:
    wrapper, peer = handshaken(quiet_close(SimpleWebSocketWSGI))
    wrapper.ws.sock.close()  # the connection went while the session still held it
    wrapper.close()
    peer.close()


def test_the_unwrapped_close_raises_there_which_is_what_the_wrapper_is_for() -> None:
    wrapper, peer = handshaken(SimpleWebSocketWSGI)
    wrapper.ws.sock.close()
    with pytest.raises(OSError):
        wrapper.close()
    peer.close()


def test_a_live_websocket_still_gets_its_close_frame() -> None:
    wrapper, peer = handshaken(quiet_close(SimpleWebSocketWSGI))
    wrapper.close()
    frame = peer.recv(4096)
    assert frame[0] == 0x88  # FIN + close opcode
    wrapper.ws.sock.close()  # the WSGI server's to close, in a real request
    peer.close()


def test_the_app_s_engineio_server_uses_the_quiet_close(app: Flask) -> None:
    assert socketio.server is not None
    assert getattr(socketio.server.eio._async["websocket"], "tolerates_closed", False)
