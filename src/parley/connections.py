"""The client connections a stop ends as soon as they have nothing left to answer.

Once the shutdown has closed every Socket.IO session, what holds a server up is its
clients: a kept-alive HTTP connection waiting for its next request, a WebSocket whose
client was told nothing (so that it reconnects) and waits for its ping timeout. Every
server Parley runs on (gevent's, Werkzeug's, gunicorn's gevent worker) would wait for
them until a timeout or its stop deadline; this middleware knows them from their
requests and ends them from the server's side.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

from werkzeug.wsgi import ClosingIterator

from .tcp import SOCKET_KEYS, WSGIApp
from .timeouts import is_websocket


def client_socket(environ: dict[str, Any]) -> socket.socket | None:
    for key in SOCKET_KEYS:
        found = environ.get(key)
        if found is not None and hasattr(found, "shutdown"):
            return found  # type: ignore[no-any-return]
    return None


def _end(connection: socket.socket) -> None:
    # Not close(): the server's handler owns the socket; a shutdown only makes its read
    # (or the WebSocket's) end now, after what was written has gone. On gevent's socket
    # the OS socket is shut down beneath it: gevent's own shutdown() wakes the waiting
    # reader with EBADF, which servers log as an error; the OS's gives it the end of the
    # stream, a client that hung up.
    raw = getattr(connection, "_sock", connection)
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)


class OpenConnections:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        # A connection -> whether a request on it is being answered (a WebSocket is not:
        # once its session is closed it has nothing more to send).
        self._answering: weakref.WeakKeyDictionary[socket.socket, bool] = (
            weakref.WeakKeyDictionary()
        )
        self.stopping = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        connection = client_socket(environ)
        if connection is None:
            return self.app(environ, start_response)
        with self._lock:
            self._answering[connection] = not is_websocket(environ)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._answered(connection)
            raise
        if isinstance(result, list | tuple):
            return _WholeBody(result, lambda: self._answered(connection))
        return ClosingIterator(result, lambda: self._answered(connection))

    def _answered(self, connection: socket.socket) -> None:
        with self._lock:
            self._answering[connection] = False
            stopping = self.stopping
        if stopping:
            _end(connection)

    def end_idle(self) -> None:
        """From now on, end each connection once its answer is written; end those with
        nothing to answer at once."""
        with self._lock:
            self.stopping = True
            idle = [c for c, answering in self._answering.items() if not answering]
        for connection in idle:
            _end(connection)


class _WholeBody(list[bytes]):
    """A body already whole, still a list: servers send its length (gevent's answers a
    body without one in chunks). Its close, which servers call once it is sent, says
    the answer is done."""

    def __init__(self, chunks: list[bytes] | tuple[bytes, ...], done: Callable[[], None]) -> None:
        super().__init__(chunks)
        self._done = done

    def close(self) -> None:
        self._done()
