"""Socket events must not leave reference cycles behind: under load the cyclic garbage
collector then pauses the whole server for tens of milliseconds at a time."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from flask import Flask

from support import Member, make_room


def garbage_kinds(action: Callable[[], None]) -> set[str]:
    """The types of the objects the action left unreachable in reference cycles."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        action()
        gc.collect()
        return {type(found).__qualname__ for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_sending_messages_leaves_no_request_contexts_in_reference_cycles(
    app: Flask, alice: Member, connect: Any
) -> None:
    room = make_room(alice, "general")
    socket = connect(alice)

    def send_twenty() -> None:
        for n in range(20):
            ack = socket.emit(
                "message:send", {"room_id": room["id"], "body": f"hello {n}"}, callback=True
            )
            assert ack["ok"], ack

    kinds = garbage_kinds(send_twenty)
    assert not kinds & {"RequestContext", "Request", "NotFound", "WebsocketMismatch"}, kinds


def test_the_socketio_path_is_served_by_socketio_not_by_a_flask_view(app: Flask) -> None:
    response = app.test_client().get("/socket.io/?EIO=4&transport=polling")
    assert response.status_code == 200
    assert response.data.startswith(b"0{")  # an Engine.IO open packet
