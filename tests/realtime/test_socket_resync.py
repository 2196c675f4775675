"""Putting a process's sockets right after the event bus lost changes (realtime/resync.py):
what another process committed while Redis was unreachable is read from the database.

Each change here is written straight to the database, past the session and its bus, as a
change made on another process arrives when its relay was lost: nothing here hears of it
until the sockets are put right.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from realtime_support import Connect, message_events
from sqlalchemy import delete, insert, update

from parley.extensions import db
from parley.models import ApiToken, Membership
from parley.realtime.resync import resync_sockets
from support import Member, make_room, send


def bodies(received: list[dict[str, Any]], room_id: int) -> list[str]:
    return [payload["message"]["body"] for _, payload in message_events(received, room_id)]


def behind_the_bus(app: Flask, statement: Any) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(statement)


def test_a_member_banned_elsewhere_stops_hearing_the_room_once_put_right(
    app: Flask, connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    owner, banned = connect(alice), connect(bob)
    banning = (
        update(Membership)
        .where(Membership.room_id == room["id"], Membership.user_id == bob.id)
        .values(banned=True)
    )
    behind_the_bus(app, banning)
    assert send(alice, room["id"], "still heard").status_code == 201
    assert bodies(banned.get_received(), room["id"]) == ["still heard"]

    resync_sockets(app)
    assert send(alice, room["id"], "not any more").status_code == 201
    assert bodies(banned.get_received(), room["id"]) == []
    assert banned.is_connected()
    assert bodies(owner.get_received(), room["id"]) == ["still heard", "not any more"]


def test_a_member_added_elsewhere_hears_the_room_once_put_right(
    app: Flask, connect: Connect, alice: Member, bob: Member
) -> None:
    private = make_room(alice, "secret", kind="private")
    invited = connect(bob)
    behind_the_bus(app, insert(Membership).values(room_id=private["id"], user_id=bob.id))
    resync_sockets(app)
    assert send(alice, private["id"], "welcome").status_code == 201
    assert bodies(invited.get_received(), private["id"]) == ["welcome"]


def test_a_socket_whose_token_was_revoked_elsewhere_is_disconnected_once_put_right(
    app: Flask, connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    owner, revoked = connect(alice), connect(bob)
    behind_the_bus(app, delete(ApiToken).where(ApiToken.user_id == bob.id))
    resync_sockets(app)
    assert not revoked.is_connected()
    assert owner.is_connected()
