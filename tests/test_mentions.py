"""Mentions: `@username`, `@room` and `@here` render as mention spans and reach the people
they name (a `mention` event, a row counted in mention_count, GET /mentions); those who
cannot read the room are not told and the sender hears who; notification levels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from parley.actions.mentions import ROOM_MENTION_FREE_UP_TO
from parley.events import Event
from parley.extensions import db
from parley.models import Message, MessageMention
from support import Member, assert_error, make_room, send

API = "/api/v1"


@pytest.fixture
def told(app: Flask) -> Any:
    """The `mention` events published, as (user_ids, payload)."""
    found: list[tuple[tuple[int, ...], dict[str, Any]]] = []

    def hear(event: Event) -> None:
        if event.type == "mention":
            found.append((event.user_ids, event.payload))

    unsubscribe = app.extensions["parley.bus"].subscribe(hear)
    yield found
    unsubscribe()


def my_room(member: Member, room_id: int) -> dict[str, Any]:
    rooms = member.get(f"{API}/rooms").get_json()["rooms"]
    found: dict[str, Any] = next(r for r in rooms if r["id"] == room_id)
    return found


def test_a_mention_renders_as_a_span_and_tells_the_member_named(
    alice: Member, bob: Member, room: dict[str, Any], told: Any
) -> None:
    response = send(alice, room["id"], "hi @bob, see `@alice` here")
    assert response.status_code == 201
    message = response.get_json()
    assert message["html"] == (
        f'<p>hi <span class="mention" data-user-id="{bob.id}">@bob</span>, see '
        "<code>@alice</code> here</p>"
    )
    assert message["mentions"] == [bob.id] and message["mentions_room"] is False
    assert message["not_notified"] == []
    assert told == [((bob.id,), {"room_id": room["id"], "message_id": message["id"]})]
    assert my_room(bob, room["id"])["mention_count"] == 1
    mentions = bob.get(f"{API}/mentions").get_json()
    assert [m["id"] for m in mentions["messages"]] == [message["id"]]
    assert mentions["has_more"] is False


def test_the_mention_count_falls_as_the_reader_reads_and_when_the_message_is_deleted(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    first = send(alice, room["id"], "@bob one").get_json()["id"]
    second = send(alice, room["id"], "@bob two").get_json()["id"]
    assert my_room(bob, room["id"])["mention_count"] == 2
    read = bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": first})
    assert read.get_json()["mention_count"] == 1
    alice.delete(f"{API}/messages/{second}")
    assert my_room(bob, room["id"])["mention_count"] == 0
    assert bob.get(f"{API}/mentions").get_json()["messages"][0]["id"] == first


def test_a_mention_in_a_reply_kept_to_its_thread_is_told_but_not_counted_in_the_room(
    alice: Member, bob: Member, room: dict[str, Any], told: Any
) -> None:
    """The room's mention count sits above its read mark, which moves along the timeline:
    a reply kept to its thread would stay counted however far the timeline is read."""
    root = send(alice, room["id"], "a question").get_json()["id"]
    reply = send(alice, room["id"], "@bob in the thread", thread_id=root).get_json()
    both = send(alice, room["id"], "@bob", thread_id=root, also_to_room=True).get_json()
    assert told == [
        ((bob.id,), {"room_id": room["id"], "message_id": reply["id"]}),
        ((bob.id,), {"room_id": room["id"], "message_id": both["id"]}),
    ]
    assert my_room(bob, room["id"])["mention_count"] == 1
    mentions = bob.get(f"{API}/mentions").get_json()["messages"]
    assert [m["id"] for m in mentions] == [both["id"], reply["id"]]
    read = bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": both["id"]})
    assert read.get_json()["mention_count"] == 0


def test_naming_someone_who_cannot_read_a_private_room_tells_no_one_and_says_so(
    alice: Member, bob: Member, make_user: Callable[..., Member], told: Any
) -> None:
    carol = make_user("carol")
    private = make_room(alice, "secret", kind="private")
    alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": carol.id})
    message = send(alice, private["id"], "@bob and @carol, and @nobody").get_json()
    assert message["mentions"] == [bob.id, carol.id]
    assert message["not_notified"] == [bob.id]
    assert told == [((carol.id,), {"room_id": private["id"], "message_id": message["id"]})]
    assert bob.get(f"{API}/mentions").get_json()["messages"] == []


def test_in_a_public_room_anyone_named_may_read_it_and_is_told(
    alice: Member, bob: Member, told: Any
) -> None:
    public = make_room(alice, "open")
    message = send(alice, public["id"], "@bob come and look").get_json()
    assert message["not_notified"] == []
    assert told[0][0] == (bob.id,)
    assert [m["id"] for m in bob.get(f"{API}/mentions").get_json()["messages"]] == [message["id"]]


def test_room_tells_every_member_but_the_sender(
    alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any], told: Any
) -> None:
    carol = make_user("carol")
    carol.post(f"{API}/rooms/{room['id']}/join")
    message = send(bob, room["id"], "@room lunch?").get_json()
    assert message["mentions_room"] is True and message["mentions"] == []
    assert 'data-mention="room"' in message["html"]
    assert sorted(told[0][0]) == sorted([alice.id, carol.id])
    assert my_room(carol, room["id"])["mention_count"] == 1


def test_here_tells_only_the_members_online(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any], told: Any
) -> None:
    presence = app.extensions["parley.presence"]
    presence.connected(bob.id, "sid-of-bob")
    try:
        message = send(alice, room["id"], "@here anyone?").get_json()
    finally:
        presence.disconnected(bob.id, "sid-of-bob")
    assert message["mentions_room"] is True
    assert 'data-mention="here"' in message["html"]
    assert told[0][0] == (bob.id,)


def test_room_in_a_big_room_takes_a_moderator_and_nothing_is_stored(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member], told: Any
) -> None:
    big = make_room(alice, "big")
    for index in range(ROOM_MENTION_FREE_UP_TO):
        make_user(f"member{index}").post(f"{API}/rooms/{big['id']}/join")
    bob.post(f"{API}/rooms/{big['id']}/join")
    found = assert_error(send(bob, big["id"], "@room hello all"), 403, "mention_not_allowed")
    assert found["details"]["members"] == ROOM_MENTION_FREE_UP_TO + 2
    with app.app_context():
        assert db.session.query(Message).filter_by(room_id=big["id"]).count() == 0
    assert told == []
    assert send(alice, big["id"], "@room hello all").status_code == 201
    assert len(told[0][0]) == ROOM_MENTION_FREE_UP_TO + 1


def test_mentioning_yourself_tells_no_one(alice: Member, room: dict[str, Any], told: Any) -> None:
    message = send(alice, room["id"], "note to @alice").get_json()
    assert message["mentions"] == [alice.id]
    assert told == []


def test_an_edit_shows_new_mentions_but_tells_no_one_again(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any], told: Any
) -> None:
    message = send(alice, room["id"], "plain").get_json()
    edited = alice.patch(f"{API}/messages/{message['id']}", json={"body": "now @bob"}).get_json()
    assert edited["mentions"] == [bob.id]
    assert 'data-user-id="' in edited["html"]
    assert told == []
    with app.app_context():
        assert db.session.query(MessageMention).count() == 0


def test_mentions_page_back_newest_first(alice: Member, bob: Member, room: dict[str, Any]) -> None:
    ids = [send(alice, room["id"], f"@bob {n}").get_json()["id"] for n in range(5)]
    first = bob.get(f"{API}/mentions?limit=2").get_json()
    assert [m["id"] for m in first["messages"]] == [ids[4], ids[3]] and first["has_more"]
    rest = bob.get(f"{API}/mentions?limit=10&before={ids[3]}").get_json()
    assert [m["id"] for m in rest["messages"]] == [ids[2], ids[1], ids[0]]
    assert rest["has_more"] is False


def test_a_banned_member_no_longer_sees_their_mentions_there(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    send(alice, room["id"], "@bob hey")
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    assert bob.get(f"{API}/mentions").get_json()["messages"] == []


def test_notification_levels_default_by_room_kind_and_can_be_set(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    assert my_room(bob, room["id"])["notification_level"] == "mentions"
    direct = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    assert my_room(bob, direct["id"])["notification_level"] == "all"
    response = bob.patch(f"{API}/rooms/{room['id']}/notifications", json={"level": "none"})
    assert response.status_code == 200
    assert response.get_json()["notification_level"] == "none"
    assert my_room(bob, room["id"])["notification_level"] == "none"
    members = alice.get(f"{API}/rooms/{room['id']}/members").get_json()["members"]
    assert {m["user"]["id"]: m["notification_level"] for m in members}[bob.id] == "none"
    assert_error(bob.patch(f"{API}/rooms/{room['id']}/notifications", json={"level": "loud"}), 422)
    assert my_room(bob, room["id"])["notification_level"] == "none"
