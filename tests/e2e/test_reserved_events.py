"""Client events named like Socket.IO's own, sent by a real python-socketio client to a real
server: refused with an error ack, and never mistaken for the connection's real events."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from api_client import Api
from servers import SHARED_SERVER_ENV, LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from start_server(
        tmp_path_factory.mktemp("reserved"), database_url=None, extra_env=SHARED_SERVER_ENV
    )


def tag() -> str:
    return uuid.uuid4().hex[:8]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, message: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.02)


def token_of(api: Api) -> str:
    return str(api.http.headers["Authorization"])[len("Bearer ") :]


class Listener:
    """A python-socketio client that keeps every message:new it is sent."""

    def __init__(self, server: LiveServer, api: Api) -> None:
        self.bodies: list[str] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("message:new", self._on_message)
        self.sio.connect(
            server.url, auth={"token": token_of(api)}, transports=["websocket"], wait_timeout=10
        )

    def _on_message(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.bodies.append(data["message"]["body"])

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def assert_reserved(ack: Any, name: str) -> None:
    assert isinstance(ack, dict) and ack.get("ok") is False, ack
    assert set(ack["error"]) == {"code", "message", "details"}, ack
    assert ack["error"]["code"] == "reserved_event", ack
    assert ack["error"]["details"] == {"event": name}, ack


@pytest.mark.slow
def test_a_client_sent_disconnect_leaves_the_socket_dropped_on_revocation(
    server: LiveServer,
) -> None:
    owner, _ = Api.register(server.url, f"owner-{tag()}")
    member, member_user = Api.register(server.url, f"member-{tag()}")
    room = owner.call("POST", "/rooms", 201, json={"name": f"secret-{tag()}", "kind": "private"})
    owner.call(
        "POST", f"/rooms/{room['id']}/members", 201, json={"user_id": member_user["user"]["id"]}
    )
    listener = Listener(server, member)
    try:
        assert_reserved(listener.sio.call("disconnect", timeout=10), "disconnect")
        assert_reserved(
            listener.sio.call("disconnect", "transport close", timeout=10), "disconnect"
        )
        owner.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "still here"})
        wait_for(lambda: "still here" in listener.bodies, message="the message before logout")

        member.call("POST", "/auth/logout", 204)
        wait_for(lambda: not listener.sio.connected, message="the socket to be dropped")
        owner.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "after logout"})
        time.sleep(1.0)
        assert "after logout" not in listener.bodies
    finally:
        listener.close()


@pytest.mark.slow
def test_client_sent_connect_events_are_refused_without_a_traceback(server: LiveServer) -> None:
    member, _ = Api.register(server.url, f"member-{tag()}")
    log = Path(server.env["PARLEY_INSTANCE_PATH"]).parent / "server.log"
    listener = Listener(server, member)
    try:
        for n in range(200):
            args = () if n % 2 else ({"token": token_of(member)},)
            assert_reserved(listener.sio.call("connect", *args, timeout=10), "connect")
        for name in ("connect_error", "message", "json", "*", "newListener"):
            assert_reserved(listener.sio.call(name, {"x": 1}, timeout=10), name)
        # The socket is as usable as before.
        ack = listener.sio.call("sync", {}, timeout=10)
        assert ack["ok"] is True, ack
    finally:
        listener.close()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
