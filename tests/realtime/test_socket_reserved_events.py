"""Client events named like Socket.IO's own are refused, counted, and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from realtime_support import emit, error, ok

from parley.extensions import socketio
from parley.ratelimits import EventRateLimiter
from parley.realtime.reserved import RESERVED_EVENTS
from parley.realtime.sockets import SocketRegistry
from support import Member


def sid_of(client: SocketIOTestClient) -> str:
    sid: str = socketio.server.manager.sid_from_eio_sid(client.eio_sid, "/")
    return sid


def sockets(app: Flask) -> SocketRegistry:
    found: SocketRegistry = app.extensions["parley.sockets"]
    return found


@pytest.mark.parametrize("name", sorted(RESERVED_EVENTS))
def test_reserved_event_names_are_refused_and_the_socket_stays_registered(
    app: Flask, connect: Any, alice: Member, name: str
) -> None:
    socket = connect(alice)
    found = error(socket.emit(name, {"token": alice.token}, callback=True), "reserved_event")
    assert found["details"] == {"event": name}
    assert sockets(app).get(sid_of(socket)) is not None
    assert socket.is_connected()
    ok(emit(socket, "sync", {}))


def test_a_client_sent_disconnect_does_not_forget_the_socket_nor_count_it_offline(
    app: Flask, connect: Any, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    error(mine.emit("disconnect", "client namespace disconnect", callback=True), "reserved_event")
    assert sockets(app).get(sid_of(mine)) is not None
    assert alice.id in ok(emit(theirs, "sync", {}))["online"]
    ok(emit(theirs, "message:send", {"room_id": room["id"], "body": "still there?"}))
    assert any(item["name"] == "message:new" for item in mine.get_received())


def test_a_client_sent_connect_cannot_change_the_sockets_user(
    app: Flask, connect: Any, alice: Member, bob: Member
) -> None:
    mine = connect(alice)
    error(mine.emit("connect", None, {"token": bob.token}, callback=True), "reserved_event")
    found = sockets(app).get(sid_of(mine))
    assert found is not None and found.user_id == alice.id


def test_reserved_events_count_against_the_event_budget(
    app: Flask, connect: Any, alice: Member, room: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        app.extensions, "parley.event_limiter", EventRateLimiter("3/minute", "memory://", True)
    )
    socket = connect(alice)
    for name in ("connect", "disconnect", "*"):
        error(socket.emit(name, callback=True), "reserved_event")
    found = error(socket.emit("connect", callback=True), "rate_limited")
    assert found["details"]["retry_after"] > 0
    error(emit(socket, "typing", {"room_id": room["id"]}), "rate_limited")


def test_a_socket_its_registry_forgot_is_refused_too(
    app: Flask, connect: Any, alice: Member
) -> None:
    socket = connect(alice)
    user = sockets(app).remove(sid_of(socket))
    try:
        error(socket.emit("disconnect", callback=True), "reserved_event")
        error(emit(socket, "sync", {}), "invalid_token")
    finally:
        assert user is not None
        sockets(app).add(sid_of(socket), user)


@pytest.mark.parametrize("data", ['["connect"]', "[]", "[{}]", '[["x"]]', "[7]", "{}", '"x"'])
def test_events_without_a_usable_name_are_answered_not_crashed(
    connect: Any, alice: Member, data: str
) -> None:
    socket = connect(alice)
    captured: list[Any] = []
    original = socketio.server._send_packet

    def record(eio_sid: str, pkt: Any) -> None:
        if eio_sid == socket.eio_sid and pkt.id == 999:
            captured.append(pkt.data)
        else:
            original(eio_sid, pkt)

    socketio.server._send_packet = record
    try:
        socketio.server._handle_eio_message(socket.eio_sid, f"2999{data}")  # an event, ack id 999
    finally:
        socketio.server._send_packet = original
    assert len(captured) == 1, captured
    expected = "reserved_event" if "connect" in data else "invalid_event"
    error(captured[0][0], expected)
    ok(emit(socket, "sync", {}))
