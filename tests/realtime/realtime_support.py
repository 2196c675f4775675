"""Helpers the Socket.IO tests share: acks, received events, and waiting for late ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask_socketio import SocketIOTestClient
from socketio import packet

from parley.extensions import socketio

# The `connect` fixture: connect(member) or connect(auth=..., headers=..., ...).
Connect = Callable[..., SocketIOTestClient]

MESSAGE_EVENTS = ("message:new", "message:edit", "message:delete")


def emit(client: SocketIOTestClient, name: str, data: Any = None) -> dict[str, Any]:
    """Send a client event and return its ack."""
    ack: dict[str, Any] = client.emit(name, data, callback=True)
    return ack


def ok(ack: dict[str, Any]) -> dict[str, Any]:
    """The ack is a success; returns it."""
    assert isinstance(ack, dict) and ack.get("ok") is True, ack
    return ack


def error(ack: dict[str, Any], code: str) -> dict[str, Any]:
    """The ack is an error of that code, in the REST error shape; returns the error."""
    assert isinstance(ack, dict), ack
    assert set(ack) == {"ok", "error"} and ack["ok"] is False, ack
    found: dict[str, Any] = ack["error"]
    assert set(found) == {"code", "message", "details"}, ack
    assert isinstance(found["message"], str) and found["message"], ack
    assert found["code"] == code, ack
    return found


def names(received: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in received]


def payloads(received: list[dict[str, Any]], name: str) -> list[Any]:
    """The first argument of every received event of that name, in order."""
    return [item["args"][0] for item in received if item["name"] == name]


def without_presence(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Presence is broadcast to everyone on every connect; most tests look past it."""
    return [item for item in received if item["name"] != "presence"]


def message_events(received: list[dict[str, Any]], room_id: int | None = None) -> list[Any]:
    """(name, payload) of every message event received, of one room if given."""
    return [
        (item["name"], item["args"][0])
        for item in received
        if item["name"] in MESSAGE_EVENTS
        and (room_id is None or item["args"][0]["message"]["room_id"] == room_id)
    ]


def wait_for(
    client: SocketIOTestClient,
    name: str,
    matches: Callable[[Any], bool] = lambda _payload: True,
    timeout: float = 5.0,
) -> Any:
    """Wait for an event sent from another thread (presence); returns its payload.

    Polls the client's queue without consuming it, so nothing arriving meanwhile is lost.
    """
    deadline = time.monotonic() + timeout
    while True:
        for item in list(client.queue):
            if item["name"] == name and matches(item["args"][0]):
                return item["args"][0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name} event within {timeout} s: {client.queue}")
        time.sleep(0.01)


def refusal(client: Any, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    """Connect again as given and return what the server sent: the CONNECT_ERROR data."""
    sent: list[Any] = []
    original = socketio.server._send_packet

    def record(eio_sid: str, pkt: Any) -> None:
        sent.append(pkt)
        original(eio_sid, pkt)

    monkeypatch.setattr(socketio.server, "_send_packet", record)
    client.connect(**kwargs)
    monkeypatch.setattr(socketio.server, "_send_packet", original)
    assert not client.is_connected()
    (sent_packet,) = sent
    assert sent_packet.packet_type == packet.CONNECT_ERROR
    return sent_packet.data
