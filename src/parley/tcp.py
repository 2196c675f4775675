"""Options on the client's TCP socket, set from the WSGI environ of the servers Parley
runs on (gevent's for `parley run`, Werkzeug's in threading mode, gunicorn's gevent worker
in production)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable
from typing import Any

# Where `parley run` puts the client's socket in the environ under gevent (see server.py);
# gevent's own handler puts it nowhere.
PARLEY_SOCKET_KEY = "parley.socket"
# Where those servers put the client's socket in the environ.
SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket", "gunicorn.sock", PARLEY_SOCKET_KEY)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def set_socket_option(environ: dict[str, Any], level: int, option: int, value: int) -> None:
    for key in SOCKET_KEYS:
        setsockopt = getattr(environ.get(key), "setsockopt", None)
        if setsockopt is not None:
            with contextlib.suppress(OSError):
                setsockopt(level, option, value)
            return


class NoDelay:
    """Turns Nagle's algorithm off on every client connection.

    Socket.IO writes small packets (an ack, an event) and waits for nothing; with Nagle on,
    a small write after another waits for the peer's delayed ACK, adding up to 40 ms to
    acks and events. Werkzeug never sets TCP_NODELAY (gunicorn sets it on its listener;
    `parley run` under gevent on each connection it accepts).
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        set_socket_option(environ, socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.app(environ, start_response)
