"""HTTP timeouts, so a connection that stops sending cannot hold the server.

- The request head (request line and headers) must arrive within
  PARLEY_HTTP_HEADER_SECONDS of the connection's start. gunicorn's gevent worker does that
  with its ``keepalive`` setting (see production.py); `parley run` under gevent with the
  handler in server.py; Werkzeug (`parley run --async-mode threading`) with
  ``timed_request_handler``, which it otherwise lacks: a half-open connection held one
  of its threads forever.
- Once the head is in, ``IdleTimeouts`` gives each read and write of the connection
  PARLEY_HTTP_IDLE_SECONDS on every server. A long-poll waits in the app, not on the
  socket, and a live MJPEG stream writes all the time, so neither is cut; a WebSocket
  gets no timeout at all: Engine.IO's pings find a dead one.
"""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from .errors import JsonErrorRequestHandler
from .tcp import SOCKET_KEYS, WSGIApp


def is_websocket(environ: dict[str, Any]) -> bool:
    return str(environ.get("HTTP_UPGRADE", "")).lower() == "websocket"


class IdleTimeouts:
    """Sets the client socket's timeout for the rest of each request."""

    def __init__(self, app: WSGIApp, idle_seconds: float) -> None:
        self.app = app
        self.idle_seconds = idle_seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        timeout = None if is_websocket(environ) else self.idle_seconds
        for key in SOCKET_KEYS:
            settimeout = getattr(environ.get(key), "settimeout", None)
            if settimeout is not None:
                with contextlib.suppress(OSError):
                    settimeout(timeout)
                break
        return self.app(environ, start_response)


class _HeadDeadline(io.RawIOBase):
    """Reads the connection, each read waiting only for what is left of the time the
    request head has, until the head is in (``deadline`` None)."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.sock = sock
        # A file of the socket, as Werkzeug reads it, so that the socket stays open while
        # this reads it even after a WebSocket closed it.
        self.raw = sock.makefile("rb", buffering=0)
        self.deadline: float | None = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request head did not arrive in time")
            self.sock.settimeout(left)
        return self.raw.readinto(buffer)

    def close(self) -> None:
        self.raw.close()
        super().close()


def timed_request_handler(header_seconds: float) -> type[WSGIRequestHandler]:
    """Werkzeug's request handler answering its own errors in JSON (see errors.py), with
    a deadline for the request head."""

    class TimedRequestHandler(JsonErrorRequestHandler):
        def setup(self) -> None:
            super().setup()
            self.rfile.close()
            self._head = _HeadDeadline(self.connection, header_seconds)
            self.rfile = io.BufferedReader(self._head)

        def run_wsgi(self) -> None:
            self._head.deadline = None
            super().run_wsgi()

    return TimedRequestHandler
