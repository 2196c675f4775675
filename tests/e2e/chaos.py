"""A TCP proxy that can cut every connection through it at once, with a reset.

Clients reach the server through it, so a test can kill a transport the way a network
does (no close frame, no polite disconnect) and watch the client come back.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        # Linger 0: the close that follows resets the connection rather than ending it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        # Wakes the pumps blocked in recv on this socket; close alone would not.
        sock.shutdown(socket.SHUT_RDWR)


def _reset(sock: socket.socket) -> None:
    _cut(sock)
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    """Both ends of one proxied connection. They are closed only once both pumps are out:
    a socket closed under a pump still in recv or sendall frees its descriptor number for
    the next accepted connection, and the pump would then read from or write into that
    new connection, corrupting its stream (seen as a client connected but deaf)."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self._pumps = 2
        self._lock = threading.Lock()

    def cut(self) -> None:
        _cut(self.client)
        _cut(self.upstream)

    def pump_done(self) -> None:
        self.cut()
        with self._lock:
            self._pumps -= 1
            last = self._pumps == 0
        if last:
            _reset(self.client)
            _reset(self.upstream)


class ChaosProxy:
    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._closed = False
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                _reset(client)
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(client, upstream)
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, upstream, client), daemon=True).start()

    def _pump(self, pair: _Pair, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            pair.pump_done()

    def cut(self) -> None:
        """Reset every open connection through the proxy."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self.cuts += 1
        for pair in pairs:
            pair.cut()

    def close(self) -> None:
        self._closed = True
        _reset(self._listener)
        self.cut()
