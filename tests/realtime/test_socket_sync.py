"""sync: the reconnect catch-up. What a client missed in each room since the last id it
saw, in order and in pages; the edits and deletes of what it already had; and which rooms
it may no longer read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask_socketio import SocketIOTestClient
from realtime_support import Connect, emit, error, ok

from parley.actions import sync as sync_action
from support import Member, make_room, send

API = "/api/v1"


def history(member: Member, room_id: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = member.get(
        f"{API}/rooms/{room_id}/messages?limit=100"
    ).get_json()["messages"]
    return messages


def sync(sock: SocketIOTestClient, rooms: dict[int, int], **extra: Any) -> dict[str, Any]:
    return ok(emit(sock, "sync", {"rooms": {str(k): v for k, v in rooms.items()}, **extra}))


def test_sync_acks_every_part_of_the_catch_up(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    send(alice, room["id"], "hello")
    sock = connect(bob)
    ack = sync(sock, {room["id"]: 0})
    assert set(ack) == {
        "ok",
        "rooms",
        "messages",
        "more",
        "changes",
        "removed",
        "reset",
        "online",
    }
    (mine,) = ack["rooms"]
    assert mine["id"] == room["id"] and mine["role"] == "member" and mine["unread_count"] == 1
    assert ack["messages"] == {str(room["id"]): history(bob, room["id"])}
    assert ack["more"] == {str(room["id"]): False}
    assert ack["changes"] == [] and ack["removed"] == [] and ack["reset"] == []
    assert bob.id in ack["online"]


def test_sync_with_no_rooms_lists_my_rooms_only(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    make_room(alice, "not bobs", kind="private")
    ack = ok(emit(connect(bob), "sync", {}))
    assert [r["id"] for r in ack["rooms"]] == [room["id"]]
    assert ack["messages"] == {} and ack["more"] == {}


def test_sync_returns_missed_messages_oldest_first_in_pages(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    seen = send(alice, room["id"], "seen").get_json()["id"]
    missed = [send(alice, room["id"], f"missed {i}").get_json()["id"] for i in range(5)]
    other = make_room(alice, "other")
    bob.post(f"{API}/rooms/{other['id']}/join")
    in_other = send(alice, other["id"], "elsewhere").get_json()["id"]
    sock = connect(bob)

    first = sync(sock, {room["id"]: seen, other["id"]: 0}, limit=3)
    assert [m["id"] for m in first["messages"][str(room["id"])]] == missed[:3]
    assert first["more"] == {str(room["id"]): True, str(other["id"]): False}
    assert [m["id"] for m in first["messages"][str(other["id"])]] == [in_other]

    rest = sync(sock, {room["id"]: missed[2]}, limit=3)
    assert [m["id"] for m in rest["messages"][str(room["id"])]] == missed[3:]
    assert rest["more"] == {str(room["id"]): False}

    done = sync(sock, {room["id"]: missed[-1]})
    assert done["messages"] == {str(room["id"]): []} and done["more"] == {str(room["id"]): False}


def test_sync_cut_exactly_at_the_limit_says_there_is_no_more(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    ids = [send(alice, room["id"], f"m{i}").get_json()["id"] for i in range(3)]
    ack = sync(connect(bob), {room["id"]: 0}, limit=3)
    assert [m["id"] for m in ack["messages"][str(room["id"])]] == ids
    assert ack["more"] == {str(room["id"]): False}


def test_sync_reports_edits_and_deletes_of_messages_the_client_had(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    m1 = send(alice, room["id"], "one").get_json()["id"]
    m2 = send(alice, room["id"], "two").get_json()["id"]
    # The client saw up to m2; then, while it was away:
    alice.patch(f"{API}/messages/{m1}", json={"body": "one, edited"})
    alice.delete(f"{API}/messages/{m2}")
    m3 = send(alice, room["id"], "three").get_json()["id"]
    alice.patch(f"{API}/messages/{m3}", json={"body": "three, edited"})
    sock = connect(bob)

    ack = sync(sock, {room["id"]: m2})
    assert [(m["id"], m["body"], m["deleted"]) for m in ack["changes"]] == [
        (m1, "one, edited", False),
        (m2, "", True),
    ]
    # A message it had not seen comes as it is now, not as a change.
    assert [(m["id"], m["body"]) for m in ack["messages"][str(room["id"])]] == [
        (m3, "three, edited")
    ]
    # From m3 on, the edits of m1 and m2 were told before m3 was posted: a client that
    # had m3 had them. The edit of m3 itself came after, so it is told.
    assert [(m["id"], m["body"]) for m in sync(sock, {room["id"]: m3})["changes"]] == [
        (m3, "three, edited")
    ]
    alice.patch(f"{API}/messages/{m1}", json={"body": "one, again"})
    assert [(m["id"], m["body"]) for m in sync(sock, {room["id"]: m3})["changes"]] == [
        (m3, "three, edited"),
        (m1, "one, again"),
    ]


def test_replaying_a_sync_over_what_the_client_had_gives_the_current_history(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    for i in range(4):
        send(alice, room["id"], f"early {i}")
    had = {m["id"]: m for m in history(bob, room["id"])}
    early = sorted(had)
    alice.patch(f"{API}/messages/{early[0]}", json={"body": "rewritten"})
    alice.delete(f"{API}/messages/{early[2]}")
    late = send(alice, room["id"], "late").get_json()["id"]
    bob_sock = connect(bob)
    ok(emit(bob_sock, "message:send", {"room_id": room["id"], "body": "bob too"}))
    alice.delete(f"{API}/messages/{late}")

    last_id = max(had)
    while True:
        ack = sync(bob_sock, {room["id"]: last_id}, limit=1)
        for message in [*ack["changes"], *ack["messages"][str(room["id"])]]:
            had[message["id"]] = message
        last_id = max(had)
        if not ack["more"][str(room["id"])]:
            break
    assert [had[k] for k in sorted(had)] == history(bob, room["id"])


def test_sync_tells_rooms_the_client_may_no_longer_read(
    connect: Connect, alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    left = make_room(alice, "left", kind="private")
    removed = make_room(alice, "removed", kind="private")
    banned = make_room(alice, "banned")
    kept = make_room(alice, "kept")
    never = make_room(carol, "never", kind="private")
    for made in (left, removed):
        alice.post(f"{API}/rooms/{made['id']}/members", json={"user_id": bob.id})
    for made in (banned, kept):
        bob.post(f"{API}/rooms/{made['id']}/join")
    for made in (left, removed, banned, kept, never):
        send(carol if made is never else alice, made["id"], "news")
    bob.post(f"{API}/rooms/{left['id']}/leave")
    alice.delete(f"{API}/rooms/{removed['id']}/members/{bob.id}")
    alice.post(f"{API}/rooms/{banned['id']}/members/{bob.id}/ban")

    asked = [left, removed, banned, kept, never]
    ack = sync(connect(bob), {r["id"]: 0 for r in asked} | {999_999: 0})
    gone = [left["id"], removed["id"], banned["id"], never["id"], 999_999]
    assert sorted(ack["removed"]) == sorted(gone)
    assert list(ack["messages"]) == [str(kept["id"])]
    assert list(ack["more"]) == [str(kept["id"])]
    assert [r["id"] for r in ack["rooms"]] == [kept["id"]]


def test_sync_asks_for_a_reload_when_a_room_has_too_many_changes(
    connect: Connect,
    alice: Member,
    bob: Member,
    room: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync_action, "MAX_CHANGES_PER_ROOM", 2)
    calm = make_room(alice, "calm")
    bob.post(f"{API}/rooms/{calm['id']}/join")
    ids = [send(alice, room["id"], f"m{i}").get_json()["id"] for i in range(3)]
    calm_id = send(alice, calm["id"], "quiet").get_json()["id"]
    alice.patch(f"{API}/messages/{calm_id}", json={"body": "one change"})
    for message_id in ids:
        alice.delete(f"{API}/messages/{message_id}")
    ack = sync(connect(bob), {room["id"]: ids[-1], calm["id"]: calm_id})
    assert ack["reset"] == [room["id"]]
    assert [m["id"] for m in ack["changes"]] == [calm_id]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rooms": {"abc": 0}}, "payload.rooms.abc.[key]"),
        ({"rooms": {"0": 0}}, "payload.rooms.0.[key]"),
        ({"rooms": {"1": -1}}, "payload.rooms.1"),
        ({"rooms": [1, 2]}, "payload.rooms"),
        ({"limit": 0}, "payload.limit"),
        ({"limit": 501}, "payload.limit"),
        ({"since": 3}, "payload.since"),
    ],
)
def test_sync_with_an_invalid_payload_is_a_validation_error(
    connect: Connect, alice: Member, data: dict[str, Any], field: str
) -> None:
    found = error(emit(connect(alice), "sync", data), "validation_error")
    assert field in [f["field"] for f in found["details"]["fields"]], found


def test_sync_of_too_many_rooms_at_once_is_a_validation_error(
    connect: Connect, alice: Member
) -> None:
    rooms = {str(i): 0 for i in range(1, 1002)}
    error(emit(connect(alice), "sync", {"rooms": rooms}), "validation_error")


def test_a_public_room_left_stays_readable_but_is_no_longer_one_of_my_rooms(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    sock = connect(bob)
    ok(emit(sock, "room:leave", {"room_id": room["id"]}))
    news = send(alice, room["id"], "after bob left").get_json()
    ack = sync(sock, {room["id"]: 0})
    assert ack["removed"] == [] and ack["rooms"] == []
    assert [m["id"] for m in ack["messages"][str(room["id"])]] == [news["id"]]
