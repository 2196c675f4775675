"""How many connections one process holds, and how long one may wait for a token.

Two levels are counted, each in this process:

- Engine.IO sessions, the connections themselves. A session starts waiting for its
  Socket.IO connect with a valid token; at most PARLEY_MAX_CONNECTIONS sessions exist at
  once, at most PARLEY_MAX_SOCKETS_PER_ADDRESS of them waiting from one client address,
  and one still waiting after PARLEY_SOCKET_HANDSHAKE_SECONDS is closed. A handshake over
  a limit is answered in HTTP (429, or 503 when the server is full) before a session
  exists, so a flood of connections that never authenticate costs almost nothing.
- Socket.IO sockets, once a token is known: at most PARLEY_MAX_SOCKETS_PER_USER per user
  and PARLEY_MAX_SOCKETS_PER_ADDRESS per address. A connect over either is refused with
  a connect_error whose data has the code ``too_many_connections``.

Behind PARLEY_TRUSTED_PROXIES the address is the client's, read from X-Forwarded-For as
ProxyFix reads it for HTTP routes. A limit of 0 is no limit.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError
from werkzeug.http import parse_list_header

from ..errors import ApiError
from ..extensions import socketio
from ..tcp import SOCKET_KEYS

# Where the gate leaves a handshake's slot in its WSGI environ, for the Engine.IO connect
# handler and, through the socket's request context, for the Socket.IO one.
SLOT_KEY = "parley.connection"
NAMESPACE = "/"

StartResponse = Callable[..., Any]
HandleRequest = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def client_address(environ: dict[str, Any], trusted_proxies: int) -> str:
    """The client's address: the TCP peer, or behind trusted proxies the address the
    nearest untrusted hop of X-Forwarded-For gives, as werkzeug's ProxyFix takes it."""
    peer = str(environ.get("REMOTE_ADDR") or "")
    if trusted_proxies > 0:
        forwarded = parse_list_header(environ.get("HTTP_X_FORWARDED_FOR", ""))
        if len(forwarded) >= trusted_proxies:
            return forwarded[-trusted_proxies]
    return peer


def too_many(scope: str, limit: int, message: str, status: int = 429) -> ApiError:
    return ApiError(
        message,
        code="too_many_connections",
        status=status,
        details={"scope": scope, "limit": limit},
    )


@dataclass(eq=False)
class Slot:
    """One Engine.IO session, from its handshake on."""

    address: str
    deadline: float
    eio_sid: str | None = None
    joined: bool = False


@dataclass
class _Socket:
    user_id: int
    address: str
    slot: Slot | None


@dataclass
class ConnectionLimits:
    max_connections: int
    per_address: int
    per_user: int
    handshake_seconds: float
    clock: Callable[[], float] = time.monotonic
    _slots: set[Slot] = field(default_factory=set)
    _by_eio: dict[str, Slot] = field(default_factory=dict)
    _waiting: Counter[str] = field(default_factory=Counter)
    _sockets: dict[str, _Socket] = field(default_factory=dict)
    _by_user: Counter[int] = field(default_factory=Counter)
    _by_address: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ConnectionLimits:
        return cls(
            max_connections=config["PARLEY_MAX_CONNECTIONS"],
            per_address=config["PARLEY_MAX_SOCKETS_PER_ADDRESS"],
            per_user=config["PARLEY_MAX_SOCKETS_PER_USER"],
            handshake_seconds=config["PARLEY_SOCKET_HANDSHAKE_SECONDS"],
        )

    # Engine.IO sessions

    def reserve(self, address: str) -> Slot:
        """A slot for a new session from `address`, or ApiError when over a limit."""
        with self._lock:
            if self.max_connections and len(self._slots) >= self.max_connections:
                raise too_many(
                    "server",
                    self.max_connections,
                    "The server holds as many connections as it may; try again shortly.",
                    status=503,
                )
            if self.per_address and self._waiting[address] >= self.per_address:
                raise too_many(
                    "address",
                    self.per_address,
                    f"{self.per_address} connections from your address are waiting for "
                    "their Socket.IO connect already; connect those first.",
                )
            slot = Slot(address, self.clock() + self.handshake_seconds)
            self._slots.add(slot)
            self._waiting[address] += 1
            return slot

    def bind(self, slot: Slot, eio_sid: str) -> None:
        with self._lock:
            if slot in self._slots:
                slot.eio_sid = eio_sid
                self._by_eio[eio_sid] = slot

    def release(self, slot: Slot) -> None:
        """The session is gone (or never began); idempotent."""
        with self._lock:
            if slot not in self._slots:
                return
            self._slots.discard(slot)
            if slot.eio_sid is not None:
                self._by_eio.pop(slot.eio_sid, None)
            if not slot.joined:
                _decrement(self._waiting, slot.address)

    def release_session(self, eio_sid: str) -> None:
        with self._lock:
            slot = self._by_eio.get(eio_sid)
        if slot is not None:
            self.release(slot)

    def overdue(self) -> tuple[list[str], bool]:
        """The sessions whose Socket.IO connect is late, and whether any slot is left."""
        now = self.clock()
        with self._lock:
            late = [
                slot.eio_sid
                for slot in self._slots
                if not slot.joined and slot.eio_sid is not None and slot.deadline <= now
            ]
            return late, bool(self._slots)

    def held(self) -> int:
        with self._lock:
            return len(self._slots)

    # Socket.IO sockets

    def admit(self, sid: str, user_id: int, address: str, slot: Slot | None) -> None:
        """Count a Socket.IO socket, or raise ApiError when its user or address is full."""
        with self._lock:
            if sid in self._sockets:
                return
            if self.per_user and self._by_user[user_id] >= self.per_user:
                raise too_many(
                    "user",
                    self.per_user,
                    f"You have {self.per_user} sockets connected already, the most one "
                    "user may have; close one first.",
                )
            if self.per_address and self._by_address[address] >= self.per_address:
                raise too_many(
                    "address",
                    self.per_address,
                    f"{self.per_address} sockets are connected from your address already, "
                    "the most one address may have; close one first.",
                )
            self._sockets[sid] = _Socket(user_id, address, slot)
            self._by_user[user_id] += 1
            self._by_address[address] += 1
            if slot is not None and slot in self._slots and not slot.joined:
                slot.joined = True
                _decrement(self._waiting, slot.address)

    def leave(self, sid: str) -> None:
        """The socket disconnected; its session, if still open, waits for a connect again."""
        with self._lock:
            found = self._sockets.pop(sid, None)
            if found is None:
                return
            _decrement(self._by_user, found.user_id)
            _decrement(self._by_address, found.address)
            slot = found.slot
            if slot is not None and slot in self._slots and slot.joined:
                slot.joined = False
                slot.deadline = self.clock() + self.handshake_seconds
                self._waiting[slot.address] += 1

    def sockets_of(self, user_id: int) -> int:
        with self._lock:
            return self._by_user[user_id]


def _decrement(counter: Counter[Any], key: Any) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def connection_limits() -> ConnectionLimits:
    found: ConnectionLimits = current_app.extensions["parley.connection_limits"]
    return found


def admit_socket(user_id: int) -> None:
    """In the Socket.IO connect handler, once the token is known: count the socket, or
    refuse it with the connect_error data {"code": "too_many_connections", ...}."""
    environ = request.environ
    slot = environ.get(SLOT_KEY)
    address = slot.address if slot is not None else client_address(environ, _hops())
    try:
        connection_limits().admit(request.sid, user_id, address, slot)  # type: ignore[attr-defined]
    except ApiError as exc:
        raise ConnectionRefusedError(exc.message, exc.to_dict()["error"]) from None


def socket_left() -> None:
    """In the Socket.IO disconnect handler. A client event that only borrows the name
    (the socket is still connected) is no disconnect and changes no count."""
    sid: str = request.sid  # type: ignore[attr-defined]
    if socketio.server is not None and socketio.server.manager.is_connected(sid, NAMESPACE):
        return
    connection_limits().leave(sid)


def _hops() -> int:
    return int(current_app.config["PARLEY_TRUSTED_PROXIES"])


def _refusal(
    environ: dict[str, Any], error: ApiError, retry_after: float, start_response: StartResponse
) -> list[bytes]:
    # Werkzeug closes the connection after any answer; gunicorn ignores an app's
    # "Connection: close" and would wait for another request, but with the connection's
    # reading side shut its next read ends it.
    for key in SOCKET_KEYS:
        shutdown = getattr(environ.get(key), "shutdown", None)
        if shutdown is not None:
            with contextlib.suppress(OSError):
                shutdown(socket.SHUT_RD)
            break
    body = json.dumps(error.to_dict()).encode()
    status = "503 SERVICE UNAVAILABLE" if error.status == 503 else "429 TOO MANY REQUESTS"
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(max(1, math.ceil(retry_after)))),
        ],
    )
    return [body]


class HandshakeGate:
    """In front of Engine.IO: a handshake (a GET without a session id) takes a slot or is
    refused; the slot is released when the session ends or if none was made."""

    def __init__(self, handle: HandleRequest, limits: ConnectionLimits, trusted_proxies: int):
        self.handle = handle
        self.limits = limits
        self.trusted_proxies = trusted_proxies

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return self.handle(environ, start_response)
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        if "sid" in query:
            return self.handle(environ, start_response)
        try:
            slot = self.limits.reserve(client_address(environ, self.trusted_proxies))
        except ApiError as exc:
            return _refusal(environ, exc, self.limits.handshake_seconds, start_response)
        environ[SLOT_KEY] = slot
        websocket = query.get("transport") == ["websocket"]
        try:
            return self.handle(environ, start_response)
        finally:
            # A WebSocket's request lasts as long as its session; a polling handshake
            # that made no session leaves its slot unbound.
            if websocket or slot.eio_sid is None:
                self.limits.release(slot)


class Reaper:
    """Closes the sessions still waiting for their Socket.IO connect past their deadline.

    It runs only while this process holds sessions, so an app that serves none (as in
    most tests) starts no thread.
    """

    def __init__(self, limits: ConnectionLimits, close: Callable[[str], None]) -> None:
        self.limits = limits
        self.close = close
        self.running = False
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            if self.running:
                return
            self.running = True
        socketio.start_background_task(self._run)

    def _run(self) -> None:
        interval = min(1.0, max(0.05, self.limits.handshake_seconds / 4))
        while True:
            socketio.sleep(interval)
            late, any_left = self.limits.overdue()
            for eio_sid in late:
                self.close(eio_sid)
            if not any_left:
                with self._lock:
                    # A session bound while the last check ran keeps the reaper going.
                    if self.limits.held():
                        continue
                    self.running = False
                    return


def init_connection_limits(app: Flask) -> None:
    """Put the gate in front of this app's Engine.IO server and count its sessions."""
    limits = ConnectionLimits.from_config(app.config)
    app.extensions["parley.connection_limits"] = limits
    server = socketio.server
    assert server is not None
    eio = server.eio

    def close(eio_sid: str) -> None:
        session = eio.sockets.get(eio_sid)
        if session is None:
            # Gone already: no disconnect handler will release it.
            limits.release_session(eio_sid)
            return
        # Not eio.disconnect(), which waits for the client to read the close packet: a
        # client that went quiet never does.
        session.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)

    reaper = Reaper(limits, close)
    socketio_connect = eio.handlers["connect"]
    socketio_disconnect = eio.handlers["disconnect"]

    def on_engine_connect(eio_sid: str, environ: dict[str, Any]) -> Any:
        slot = environ.get(SLOT_KEY)
        if slot is not None:
            limits.bind(slot, eio_sid)
            reaper.wake()
        return socketio_connect(eio_sid, environ)

    def on_engine_disconnect(eio_sid: str, *reason: Any) -> Any:
        sid = server.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        try:
            return socketio_disconnect(eio_sid, *reason)
        finally:
            # Also for a socket whose connect handler failed half-way, which Socket.IO
            # never reports as disconnected.
            if sid is not None:
                limits.leave(sid)
            limits.release_session(eio_sid)

    eio.on("connect", on_engine_connect)
    eio.on("disconnect", on_engine_disconnect)
    # Engine.IO takes every request under the Socket.IO path through this method.
    eio.handle_request = HandshakeGate(
        eio.handle_request, limits, app.config["PARLEY_TRUSTED_PROXIES"]
    )
