"""The events actions publish: which, with what payload and address, only after the
commit, and never for an action that failed or changed nothing. And the bus itself."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from parley.actions import rooms as room_actions
from parley.actions.messages import send_message
from parley.errors import Conflict, Forbidden
from parley.events import Event, EventBus, emit_after_commit
from parley.extensions import db
from parley.models import Message, User
from support import Member, as_stored, make_room, send

API = "/api/v1"


def join(member: Member, room_id: int) -> None:
    assert member.post(f"{API}/rooms/{room_id}/join").status_code == 201


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


# --- message events --------------------------------------------------------------------


def test_sending_publishes_exactly_one_message_new_with_the_rest_shape(
    alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    response = send(alice, room["id"], "hello **there**", client_id="e-1")
    assert response.status_code == 201
    (event,) = events
    assert event.type == "message:new"
    assert event.payload == {"message": as_stored(response.get_json()), "seq": 1}
    assert event.room_id == room["id"]
    assert event.user_ids == ()


def test_message_new_is_published_only_after_the_commit(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    seen_committed: list[bool] = []

    def probe(event: Event) -> None:
        if event.type != "message:new":
            return
        # A separate connection sees only committed rows.
        with db.engine.connect() as conn:
            body = conn.scalar(
                sa.select(Message.body).where(Message.id == event.payload["message"]["id"])
            )
        seen_committed.append(body == "committed?")

    unsubscribe = app.extensions["parley.bus"].subscribe(probe)
    try:
        assert send(alice, room["id"], "committed?").status_code == 201
    finally:
        unsubscribe()
    assert seen_committed == [True]


def test_idempotent_resend_publishes_nothing(
    alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    send(alice, room["id"], "once", client_id="same")
    events.clear()
    response = send(alice, room["id"], "once", client_id="same")
    assert response.status_code == 200
    assert events == []


def test_posting_to_a_room_i_am_not_in_publishes_nothing(
    alice: Member, make_user: Callable[..., Member], events: list[Event]
) -> None:
    carol = make_user("carol")
    public = make_room(alice, "open")
    private = make_room(alice, "closed", kind="private")
    events.clear()
    assert send(carol, public["id"], "hi").status_code == 403
    assert send(carol, private["id"], "hi").status_code == 404
    assert events == []


def test_a_muted_member_posting_publishes_nothing(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 5})
    events.clear()
    assert send(bob, room["id"], "let me talk").status_code == 403
    assert events == []


def test_other_failed_actions_publish_nothing(
    alice: Member,
    bob: Member,
    make_user: Callable[..., Member],
    room: dict[str, Any],
    events: list[Event],
) -> None:
    carol = make_user("carol")
    message = send(alice, room["id"], "mine").get_json()
    events.clear()
    assert send(bob, room["id"], "   ").status_code == 422
    assert send(bob, room["id"], "x", client_id="bad id").status_code == 422
    assert bob.patch(f"{API}/messages/{message['id']}", json={"body": "x"}).status_code == 403
    assert bob.delete(f"{API}/messages/{message['id']}").status_code == 403
    assert bob.patch(f"{API}/rooms/{room['id']}", json={"topic": "x"}).status_code == 403
    assert bob.post(f"{API}/rooms/{room['id']}/members/{alice.id}/ban").status_code == 403
    assert alice.post(f"{API}/rooms", json={"name": "GENERAL"}).status_code == 409
    assert carol.post(f"{API}/rooms/{room['id']}/read", json={"message_id": 1}).status_code == 403
    assert alice.post(f"{API}/dm", json={"user_id": alice.id}).status_code == 400
    assert events == []


def test_editing_publishes_message_edit(
    alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    message = send(alice, room["id"], "draft").get_json()
    events.clear()
    response = alice.patch(f"{API}/messages/{message['id']}", json={"body": "final"})
    (event,) = events
    assert event.type == "message:edit"
    assert event.payload == {"message": response.get_json(), "seq": 2}
    assert response.get_json()["changed_seq"] == 2
    assert event.payload["message"]["body"] == "final"
    assert event.room_id == room["id"]


def test_editing_to_the_same_body_publishes_nothing(
    alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    message = send(alice, room["id"], "same").get_json()
    events.clear()
    alice.patch(f"{API}/messages/{message['id']}", json={"body": "same"})
    assert events == []


def test_deleting_publishes_message_delete_once(
    alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    message = send(alice, room["id"], "oops").get_json()
    events.clear()
    response = alice.delete(f"{API}/messages/{message['id']}")
    alice.delete(f"{API}/messages/{message['id']}")
    (event,) = events
    assert event.type == "message:delete"
    assert event.payload == {"message": response.get_json(), "seq": 2}
    assert event.payload["message"]["deleted"] is True
    assert event.payload["message"]["body"] == ""
    assert event.room_id == room["id"]


# --- room events -----------------------------------------------------------------------


def test_updating_a_room_publishes_room_update(
    alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    response = alice.patch(f"{API}/rooms/{room['id']}", json={"topic": "news"})
    (event,) = events
    assert event.type == "room:update"
    assert event.payload == {"room": response.get_json()}
    assert event.room_id == room["id"]


def test_creating_a_room_publishes_the_owner_joining(alice: Member, events: list[Event]) -> None:
    events.clear()
    made = make_room(alice, "fresh")
    (event,) = events
    assert event.type == "room:member_join"
    assert event.room_id == made["id"]
    assert event.user_ids == (alice.id,)
    assert event.payload["room_id"] == made["id"]
    assert event.payload["member"]["user"]["id"] == alice.id
    assert event.payload["member"]["role"] == "owner"


def test_joining_publishes_room_member_join_for_the_joiner(
    alice: Member, make_user: Callable[..., Member], room: dict[str, Any], events: list[Event]
) -> None:
    carol = make_user("carol")
    events.clear()
    response = carol.post(f"{API}/rooms/{room['id']}/join")
    (event,) = events
    assert event.type == "room:member_join"
    assert event.user_ids == (carol.id,)
    assert event.room_id == room["id"]
    assert event.payload == {"room_id": room["id"], "member": response.get_json()}
    events.clear()
    assert carol.post(f"{API}/rooms/{room['id']}/join").status_code == 200
    assert events == []


def test_inviting_publishes_room_member_join_for_the_invitee(
    alice: Member, make_user: Callable[..., Member], room: dict[str, Any], events: list[Event]
) -> None:
    carol = make_user("carol")
    events.clear()
    alice.post(f"{API}/rooms/{room['id']}/members", json={"user_id": carol.id})
    alice.post(f"{API}/rooms/{room['id']}/members", json={"user_id": carol.id})
    (event,) = events
    assert event.type == "room:member_join"
    assert event.user_ids == (carol.id,)
    assert event.room_id == room["id"]


def test_opening_a_direct_room_publishes_both_joins_once(
    alice: Member, bob: Member, events: list[Event]
) -> None:
    events.clear()
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    bob.post(f"{API}/dm", json={"user_id": alice.id})
    assert types(events) == ["room:member_join", "room:member_join"]
    assert {e.user_ids for e in events} == {(alice.id,), (bob.id,)}
    assert {e.room_id for e in events} == {dm["id"]}


def test_leaving_publishes_room_member_leave_left(
    bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    bob.post(f"{API}/rooms/{room['id']}/leave")
    (event,) = events
    assert event.type == "room:member_leave"
    assert event.payload == {"room_id": room["id"], "user_id": bob.id, "reason": "left"}
    assert event.room_id == room["id"]
    assert event.user_ids == (bob.id,)


def test_the_last_owner_leaving_also_publishes_the_heirs_update(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    alice.post(f"{API}/rooms/{room['id']}/leave")
    assert types(events) == ["room:member_leave", "room:member_update"]
    leave, update = events
    assert leave.payload["reason"] == "left"
    assert leave.user_ids == (alice.id,)
    assert update.user_ids == (bob.id,)
    assert update.payload["member"]["role"] == "owner"


def test_removing_publishes_room_member_leave_removed(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    alice.delete(f"{API}/rooms/{room['id']}/members/{bob.id}")
    (event,) = events
    assert event.type == "room:member_leave"
    assert event.payload == {"room_id": room["id"], "user_id": bob.id, "reason": "removed"}
    assert event.user_ids == (bob.id,)


def test_banning_publishes_room_member_leave_banned(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    (event,) = events
    assert event.type == "room:member_leave"
    assert event.payload == {"room_id": room["id"], "user_id": bob.id, "reason": "banned"}
    assert event.user_ids == (bob.id,)
    assert event.room_id == room["id"]


def test_role_changes_publish_room_member_update(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    response = alice.patch(f"{API}/rooms/{room['id']}/members/{bob.id}", json={"role": "moderator"})
    (event,) = events
    assert event.type == "room:member_update"
    assert event.payload == {"room_id": room["id"], "member": response.get_json()}
    assert event.user_ids == (bob.id,)
    assert event.room_id == room["id"]


def test_mute_and_unmute_publish_room_member_update(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    events.clear()
    muted = alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 3})
    unmuted = alice.delete(f"{API}/rooms/{room['id']}/members/{bob.id}/mute")
    assert types(events) == ["room:member_update", "room:member_update"]
    assert events[0].payload["member"] == muted.get_json()
    assert events[0].payload["member"]["muted_until"] is not None
    assert events[1].payload["member"] == unmuted.get_json()
    assert events[1].payload["member"]["muted_until"] is None
    assert all(e.user_ids == (bob.id,) for e in events)


# --- unread ----------------------------------------------------------------------------


def test_marking_read_publishes_unread_to_the_reader_only(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    first = send(alice, room["id"], "one").get_json()
    send(alice, room["id"], "two")
    events.clear()
    bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": first["id"]})
    (event,) = events
    assert event.type == "unread"
    assert event.payload == {
        "room_id": room["id"],
        "count": 1,
        "mention_count": 0,
        "last_read_message_id": first["id"],
    }
    assert event.user_ids == (bob.id,)
    assert event.room_id is None


def test_marking_read_without_moving_the_mark_publishes_nothing(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    message = send(alice, room["id"], "one").get_json()
    bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": message["id"]})
    events.clear()
    bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": message["id"]})
    bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": 0})
    assert events == []


# --- the bus ---------------------------------------------------------------------------


def test_a_subscriber_that_raises_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    bus.subscribe(lambda e: seen.append("before:" + e.type))
    bus.subscribe(broken)
    bus.subscribe(lambda e: seen.append("after:" + e.type))
    with caplog.at_level(logging.ERROR, logger="parley.events"):
        bus.publish([Event("a", {}), Event("b", {})])
    assert seen == ["before:a", "after:a", "before:b", "after:b"]
    assert [r.message for r in caplog.records] == [
        "event subscriber failed on a",
        "event subscriber failed on b",
    ]


def test_unsubscribe_stops_delivery_and_may_be_called_twice() -> None:
    bus = EventBus()
    kept: list[Event] = []
    dropped: list[Event] = []
    bus.subscribe(kept.append)
    unsubscribe = bus.subscribe(dropped.append)
    bus.publish([Event("one", {})])
    unsubscribe()
    unsubscribe()
    bus.publish([Event("two", {})])
    assert types(kept) == ["one", "two"]
    assert types(dropped) == ["one"]


def test_the_bus_delivers_events_in_order_to_subscribers_in_order() -> None:
    bus = EventBus()
    log: list[tuple[str, str]] = []
    bus.subscribe(lambda e: log.append(("first", e.type)))
    bus.subscribe(lambda e: log.append(("second", e.type)))
    bus.publish([Event("x", {}), Event("y", {})])
    assert log == [("first", "x"), ("second", "x"), ("first", "y"), ("second", "y")]


def test_queued_events_wait_for_the_commit(app: Flask, events: list[Event]) -> None:
    with app.app_context():
        emit_after_commit(Event("test:queued", {"n": 1}))
        assert events == []
        db.session.commit()
        assert events == [Event("test:queued", {"n": 1})]
        db.session.commit()
        assert len(events) == 1  # published once, not again on the next commit
        db.session.remove()


def test_events_queued_in_a_rolled_back_transaction_are_never_published(
    app: Flask, alice: Member, events: list[Event]
) -> None:
    made = make_room(alice, "general")
    events.clear()
    with app.app_context():
        user = db.session.get_one(User, alice.id)
        emit_after_commit(Event("test:ghost", {}))
        db.session.add(Message(room_id=made["id"], author=user, body="ghost", html=""))
        db.session.flush()
        db.session.rollback()
        assert events == []
        message, created, _ = send_message(user, made["id"], "real")
        assert created
        assert types(events) == ["message:new"]
        assert events[0].payload["message"]["id"] == message.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
        db.session.remove()


def test_a_failed_domain_action_publishes_nothing_then_or_later(
    app: Flask, alice: Member, bob: Member, events: list[Event]
) -> None:
    made = make_room(alice, "general")
    make_room(alice, "taken")
    events.clear()
    with app.app_context():
        owner = db.session.get_one(User, alice.id)
        outsider = db.session.get_one(User, bob.id)
        with pytest.raises(Conflict):
            room_actions.update_room(owner, made["id"], name="TAKEN")
        with pytest.raises(Forbidden):
            send_message(outsider, made["id"], "not a member")
        assert events == []
        room_actions.update_room(owner, made["id"], topic="fine")
        assert types(events) == ["room:update"]
        assert events[0].payload["room"]["name"] == "general"
        db.session.remove()


def test_an_event_crosses_to_another_process_unchanged() -> None:
    event = Event(
        "room:member_leave",
        {"room_id": 3, "user_id": 5, "reason": "banned"},
        room_id=3,
        user_ids=(5,),
        broadcast=False,
        exclude_user_ids=(7,),
    )
    assert Event.from_wire(json.loads(json.dumps(event.to_wire()))) == event
