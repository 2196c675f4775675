"""An outsider's socket events about a private room are answered exactly as for a room that
does not exist: nothing tells them the room is there, or live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from realtime_support import emit, ok

from support import Member, jpeg, make_room, send

LIVE = {"width": 640, "height": 480, "fps": 15}
MISSING = 987_654

pytestmark = pytest.mark.usefixtures("broadcasts")

# name -> the event's arguments for a room id (and a message of that room, where needed)
EVENTS: dict[str, Callable[[int, int], tuple[Any, ...]]] = {
    "video:frame": lambda room, _message: ({"room_id": room}, jpeg(640, 480)),
    "video:start": lambda room, _message: ({"room_id": room, **LIVE},),
    "video:stop": lambda room, _message: ({"room_id": room},),
    "video:watch": lambda room, _message: ({"room_id": room},),
    "video:unwatch": lambda room, _message: ({"room_id": room},),
    "message:send": lambda room, _message: ({"room_id": room, "body": "hi"},),
    "message:edit": lambda _room, message: ({"message_id": message, "body": "hi"},),
    "message:delete": lambda _room, message: ({"message_id": message},),
    "room:join": lambda room, _message: ({"room_id": room},),
    "room:leave": lambda room, _message: ({"room_id": room},),
    "room:read": lambda room, message: ({"room_id": room, "message_id": message},),
    "typing": lambda room, _message: ({"room_id": room},),
    "sync": lambda room, _message: ({"rooms": {str(room): {"after": 0}}},),
}


def without_ids(ack: Any, *ids: int) -> Any:
    """The ack with every id given replaced by one placeholder."""
    if isinstance(ack, dict):
        return {key: without_ids(value, *ids) for key, value in ack.items()}
    if isinstance(ack, list):
        return [without_ids(item, *ids) for item in ack]
    if isinstance(ack, int) and not isinstance(ack, bool) and ack in ids:
        return "<id>"
    if isinstance(ack, str):
        for found in ids:
            ack = ack.replace(str(found), "<id>")
    return ack


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_an_outsider_hears_of_a_live_private_room_what_a_missing_room_answers(
    connect: Any, alice: Member, make_user: Callable[..., Member], name: str
) -> None:
    carol = make_user("carol")
    private = make_room(alice, "backroom", kind="private")
    message = send(alice, private["id"], "between us").get_json()["id"]
    ok(emit(connect(alice), "video:start", {"room_id": private["id"], **LIVE}))
    outsider = connect(carol)
    build = EVENTS[name]
    there = outsider.emit(name, *build(private["id"], message), callback=True)
    missing = outsider.emit(name, *build(MISSING, MISSING + 1), callback=True)
    assert there == missing or without_ids(there, private["id"], message) == without_ids(
        missing, MISSING, MISSING + 1
    ), (there, missing)
