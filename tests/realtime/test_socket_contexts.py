"""The events sent most often (message:send, typing) run in an app context alone, without
the request context Flask-SocketIO builds for every other event from the handshake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, has_app_context, has_request_context
from realtime_support import emit, ok

from parley.events import Event


@pytest.fixture
def contexts(app: Flask) -> Iterator[dict[str, tuple[bool, bool]]]:
    """Event type -> (app context, request context) as its subscriber found them."""
    seen: dict[str, tuple[bool, bool]] = {}

    def note(event: Event) -> None:
        seen[event.type] = (has_app_context(), has_request_context())

    unsubscribe = app.extensions["parley.bus"].subscribe(note)
    yield seen
    unsubscribe()


def test_a_send_and_typing_run_in_an_app_context_without_a_request_context(
    connect: Any, alice: Any, bob: Any, room: dict[str, Any], contexts: dict[str, Any]
) -> None:
    sock = connect(alice)
    connect(bob)

    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "hi"}))
    ok(emit(sock, "typing", {"room_id": room["id"]}))

    assert contexts["message:new"] == (True, False)
    assert contexts["typing"] == (True, False)


def test_other_events_keep_their_request_context(
    connect: Any, bob: Any, room: dict[str, Any], contexts: dict[str, Any]
) -> None:
    sock = connect(bob)

    ok(emit(sock, "room:leave", {"room_id": room["id"]}))

    assert contexts["room:member_leave"] == (True, True)
