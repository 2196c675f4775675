"""Fixtures for the Socket.IO tests: test clients closed after each test, and a short
presence grace so that every closed socket's offline event is sent before the test ends
(and never reaches the sockets of a later test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from realtime_support import Connect

from parley.actions.presence import TypingThrottle
from parley.events import Event
from parley.extensions import socketio
from support import Member, close_test_sockets

GRACE_SECONDS = 0.05
SETTLE_SECONDS = 5.0


@pytest.fixture(autouse=True)
def short_presence_grace(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_GRACE_SECONDS", GRACE_SECONDS)


@pytest.fixture(autouse=True)
def fresh_typing_throttle(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app lives for the whole run and ids start again after each test's cleanup (on
    SQLite), so an earlier test's user 1 in room 1 must not throttle this one's."""
    monkeypatch.setitem(app.extensions, "parley.typing", TypingThrottle())


@pytest.fixture
def connect(app: Flask, short_presence_grace: None) -> Iterator[Connect]:
    """connect(member) opens a socket with the member's token; connect(auth=..., headers=...,
    flask_test_client=...) opens one as given. All are closed at teardown, which then waits
    until every user who came online has been announced offline."""
    status: dict[int, str] = {}

    def track(event: Event) -> None:
        if event.type == "presence":
            status[event.payload["user_id"]] = event.payload["status"]

    unsubscribe = app.extensions["parley.bus"].subscribe(track)
    opened: list[SocketIOTestClient] = []

    def open_socket(member: Member | None = None, **kwargs: Any) -> SocketIOTestClient:
        if member is not None:
            kwargs.setdefault("auth", {"token": member.token})
        client = socketio.test_client(app, **kwargs)
        opened.append(client)
        return client

    try:
        yield open_socket
    finally:
        close_test_sockets(opened)
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            if not any(state == "online" for state in status.values()):
                break
            time.sleep(0.01)
        unsubscribe()
        still_online = sorted(user for user, state in status.items() if state == "online")
        assert not still_online, f"users {still_online} were never announced offline"
