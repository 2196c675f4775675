"""Client events: each one's ack on success, and every way it can be refused, with the
same error codes as REST. Refused events change nothing and send nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from realtime_support import Connect, emit, error, message_events, ok, payloads, without_presence

from parley.actions.presence import TypingThrottle
from parley.ratelimits import EventRateLimiter
from support import MESSAGE_KEYS, Member, as_stored, make_room, send

API = "/api/v1"


@pytest.fixture
def carol(make_user: Callable[..., Member]) -> Member:
    return make_user("carol")


def field_names(found: dict[str, Any]) -> list[str]:
    return [f["field"] for f in found["details"]["fields"]]


# --- message:send ------------------------------------------------------------------------


def test_send_acks_the_stored_message_and_the_room_hears_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    mine.get_received(), theirs.get_received()
    ack = ok(emit(mine, "message:send", {"room_id": room["id"], "body": "hi **all**"}))
    assert set(ack) == {"ok", "message", "created", "not_notified"} and ack["created"] is True
    message = ack["message"]
    assert set(message) == MESSAGE_KEYS
    assert message["body"] == "hi **all**" and message["html"] == "<p>hi <strong>all</strong></p>"
    assert message["author"]["id"] == alice.id and message["room_id"] == room["id"]
    history = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"]
    assert history == [message]
    for sock in (mine, theirs):
        assert message_events(sock.get_received()) == [
            ("message:new", {"message": message, "seq": message["seq"]})
        ]


def test_a_resend_with_the_same_client_id_acks_the_same_message_and_sends_nothing(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    data = {"room_id": room["id"], "body": "once", "client_id": "c-1"}
    first = ok(emit(mine, "message:send", data))
    mine.get_received(), theirs.get_received()
    again = ok(emit(mine, "message:send", data))
    assert again == {"ok": True, "message": first["message"], "created": False, "not_notified": []}
    assert without_presence(mine.get_received()) == []
    assert without_presence(theirs.get_received()) == []
    history = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"]
    assert [m["id"] for m in history] == [first["message"]["id"]]


def test_a_resend_of_a_rest_post_over_the_socket_is_the_same_message(
    connect: Connect, alice: Member, room: dict[str, Any]
) -> None:
    posted = send(alice, room["id"], "via rest", client_id="c-2").get_json()
    ack = ok(
        emit(
            connect(alice),
            "message:send",
            {"room_id": room["id"], "body": "via rest", "client_id": "c-2"},
        )
    )
    assert ack["created"] is False and ack["message"] == as_stored(posted)


def test_a_client_id_used_in_another_room_is_refused(
    connect: Connect, alice: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "other")
    sock = connect(alice)
    first = ok(emit(sock, "message:send", {"room_id": room["id"], "body": "x", "client_id": "c"}))
    found = error(
        emit(sock, "message:send", {"room_id": other["id"], "body": "x", "client_id": "c"}),
        "client_id_reused",
    )
    assert found["details"] == {"message_id": first["message"]["id"], "room_id": room["id"]}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "no room"}, "payload.room_id"),
        ({"room_id": "1", "body": "a string id"}, "payload.room_id"),
        ({"room_id": 0, "body": "zero"}, "payload.room_id"),
        ({"room_id": 1}, "payload.body"),
        ({"room_id": 1, "body": "   "}, "payload.body"),
        ({"room_id": 1, "body": "x" * 10_001}, "payload.body"),
        ({"room_id": 1, "body": "bell \x07"}, "payload.body"),
        ({"room_id": 1, "body": "x", "client_id": "has space"}, "payload.client_id"),
        ({"room_id": 1, "body": "x", "colour": "red"}, "payload.colour"),
    ],
)
def test_send_with_an_invalid_payload_is_a_validation_error(
    connect: Connect, alice: Member, data: dict[str, Any], field: str
) -> None:
    sock = connect(alice)
    sock.get_received()
    found = error(emit(sock, "message:send", data), "validation_error")
    assert field in field_names(found)
    assert without_presence(sock.get_received()) == []


def test_a_payload_that_is_not_an_object_is_invalid_payload(
    connect: Connect, alice: Member
) -> None:
    sock = connect(alice)
    for data in (None, [1, 2], "hello", 42, True):
        for name in ("message:send", "message:edit", "room:join", "typing", "sync"):
            error(emit(sock, name, data), "invalid_payload")


def test_an_event_sent_without_any_payload_is_invalid_payload(
    connect: Connect, alice: Member
) -> None:
    sock = connect(alice)
    assert sock.emit("room:read", callback=True)["error"]["code"] == "invalid_payload"


def test_sending_to_a_public_room_without_joining_is_not_a_member(
    connect: Connect, carol: Member, room: dict[str, Any]
) -> None:
    error(
        emit(connect(carol), "message:send", {"room_id": room["id"], "body": "hi"}), "not_a_member"
    )


def test_sending_to_a_private_room_of_others_answers_like_a_missing_room(
    connect: Connect, alice: Member, carol: Member
) -> None:
    private = make_room(alice, "secret", kind="private")
    sock = connect(carol)
    hidden = error(
        emit(sock, "message:send", {"room_id": private["id"], "body": "hi"}), "not_found"
    )
    missing = error(emit(sock, "message:send", {"room_id": 999_999, "body": "hi"}), "not_found")
    assert hidden["message"] == missing["message"]
    assert hidden["details"] == {"room_id": private["id"]}


def test_a_muted_member_cannot_send(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 5})
    found = error(
        emit(connect(bob), "message:send", {"room_id": room["id"], "body": "hi"}), "muted"
    )
    assert found["details"]["muted_until"]


def test_a_banned_member_cannot_send(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    error(emit(connect(bob), "message:send", {"room_id": room["id"], "body": "hi"}), "banned")


def test_nobody_can_send_to_an_archived_room(
    connect: Connect, alice: Member, room: dict[str, Any]
) -> None:
    assert alice.patch(f"{API}/rooms/{room['id']}", json={"archived": True}).status_code == 200
    error(emit(connect(alice), "message:send", {"room_id": room["id"], "body": "hi"}), "archived")


# --- message:edit ------------------------------------------------------------------------


def test_edit_acks_the_new_text_and_the_room_hears_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    sent = ok(emit(mine, "message:send", {"room_id": room["id"], "body": "draft"}))["message"]
    mine.get_received(), theirs.get_received()
    ack = ok(emit(mine, "message:edit", {"message_id": sent["id"], "body": "final _text_"}))
    assert set(ack) == {"ok", "message"}
    edited = ack["message"]
    assert edited["id"] == sent["id"] and edited["body"] == "final _text_"
    assert edited["html"] == "<p>final <em>text</em></p>" and edited["edited_at"]
    assert edited["changed_seq"] == sent["seq"] + 1
    for sock in (mine, theirs):
        assert message_events(sock.get_received()) == [
            ("message:edit", {"message": edited, "seq": edited["changed_seq"]})
        ]


def test_an_edit_to_the_same_text_acks_and_sends_nothing(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    sent = ok(emit(mine, "message:send", {"room_id": room["id"], "body": "same"}))["message"]
    theirs.get_received()
    ack = ok(emit(mine, "message:edit", {"message_id": sent["id"], "body": "same"}))
    assert ack["message"] == sent
    assert without_presence(theirs.get_received()) == []


def test_only_the_author_may_edit(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    sent = send(alice, room["id"], "mine").get_json()
    error(
        emit(connect(bob), "message:edit", {"message_id": sent["id"], "body": "ours"}),
        "not_the_author",
    )


def test_a_deleted_message_cannot_be_edited(
    connect: Connect, alice: Member, room: dict[str, Any]
) -> None:
    sock = connect(alice)
    sent = send(alice, room["id"], "gone soon").get_json()
    ok(emit(sock, "message:delete", {"message_id": sent["id"]}))
    error(emit(sock, "message:edit", {"message_id": sent["id"], "body": "back"}), "message_deleted")


def test_editing_a_message_one_may_not_read_answers_not_found(
    connect: Connect, alice: Member, carol: Member
) -> None:
    private = make_room(alice, "secret", kind="private")
    sent = send(alice, private["id"], "hidden").get_json()
    sock = connect(carol)
    for message_id in (sent["id"], 999_999):
        found = error(
            emit(sock, "message:edit", {"message_id": message_id, "body": "x"}), "not_found"
        )
        assert found["details"] == {"message_id": message_id}


def test_a_muted_author_cannot_edit(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    sent = send(bob, room["id"], "before").get_json()
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 5})
    error(emit(connect(bob), "message:edit", {"message_id": sent["id"], "body": "after"}), "muted")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "x"}, "payload.message_id"),
        ({"message_id": 1, "body": ""}, "payload.body"),
        ({"message_id": -1, "body": "x"}, "payload.message_id"),
    ],
)
def test_edit_with_an_invalid_payload_is_a_validation_error(
    connect: Connect, alice: Member, data: dict[str, Any], field: str
) -> None:
    assert field in field_names(
        error(emit(connect(alice), "message:edit", data), "validation_error")
    )


# --- message:delete ----------------------------------------------------------------------


def test_delete_acks_a_tombstone_and_the_room_hears_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    sent = send(bob, room["id"], "oops").get_json()
    mine.get_received(), theirs.get_received()
    ack = ok(emit(theirs, "message:delete", {"message_id": sent["id"]}))
    assert set(ack) == {"ok", "message"}
    gone = ack["message"]
    assert gone["deleted"] is True and gone["body"] == "" and gone["html"] == ""
    assert gone["id"] == sent["id"] and gone["changed_seq"] == sent["seq"] + 1
    for sock in (mine, theirs):
        assert message_events(sock.get_received()) == [
            ("message:delete", {"message": gone, "seq": gone["changed_seq"]})
        ]


def test_the_room_owner_may_delete_anyones_message(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    sent = send(bob, room["id"], "spam").get_json()
    assert ok(emit(connect(alice), "message:delete", {"message_id": sent["id"]}))["message"][
        "deleted"
    ]


def test_a_member_may_not_delete_anothers_message(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    sent = send(alice, room["id"], "keep").get_json()
    error(emit(connect(bob), "message:delete", {"message_id": sent["id"]}), "not_the_author")


def test_deleting_twice_acks_the_tombstone_and_sends_nothing_more(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    sent = send(alice, room["id"], "twice").get_json()
    first = ok(emit(mine, "message:delete", {"message_id": sent["id"]}))
    theirs.get_received()
    assert ok(emit(mine, "message:delete", {"message_id": sent["id"]})) == first
    assert without_presence(theirs.get_received()) == []


def test_deleting_a_message_one_may_not_read_answers_not_found(
    connect: Connect, alice: Member, carol: Member
) -> None:
    private = make_room(alice, "secret", kind="private")
    sent = send(alice, private["id"], "hidden").get_json()
    sock = connect(carol)
    error(emit(sock, "message:delete", {"message_id": sent["id"]}), "not_found")
    error(emit(sock, "message:delete", {"message_id": 999_999}), "not_found")
    error(emit(sock, "message:delete", {}), "validation_error")


# --- room:join and room:leave ------------------------------------------------------------


def test_join_acks_the_membership_and_the_socket_hears_the_room_from_then_on(
    connect: Connect, alice: Member, carol: Member, room: dict[str, Any]
) -> None:
    watcher, sock = connect(alice), connect(carol)
    watcher.get_received(), sock.get_received()
    ack = ok(emit(sock, "room:join", {"room_id": room["id"]}))
    assert set(ack) == {"ok", "member", "created"} and ack["created"] is True
    assert ack["member"]["user"]["id"] == carol.id and ack["member"]["role"] == "member"
    joined = {"room_id": room["id"], "member": ack["member"]}
    assert payloads(sock.get_received(), "room:member_join") == [joined]
    assert payloads(watcher.get_received(), "room:member_join") == [joined]
    send(alice, room["id"], "welcome")
    assert [e[1]["message"]["body"] for e in message_events(sock.get_received())] == ["welcome"]


def test_joining_again_acks_the_same_membership_and_sends_nothing(
    connect: Connect, bob: Member, room: dict[str, Any]
) -> None:
    sock = connect(bob)
    sock.get_received()
    ack = ok(emit(sock, "room:join", {"room_id": room["id"]}))
    assert ack["created"] is False
    assert without_presence(sock.get_received()) == []


def test_join_is_refused_for_hidden_banned_and_archived_rooms(
    connect: Connect, alice: Member, bob: Member, carol: Member, room: dict[str, Any]
) -> None:
    private = make_room(alice, "secret", kind="private")
    archived = make_room(alice, "old")
    alice.patch(f"{API}/rooms/{archived['id']}", json={"archived": True})
    alice.post(f"{API}/rooms/{room['id']}/members/{carol.id}/ban")
    sock = connect(carol)
    error(emit(sock, "room:join", {"room_id": private["id"]}), "not_found")
    error(emit(sock, "room:join", {"room_id": 999_999}), "not_found")
    error(emit(sock, "room:join", {"room_id": room["id"]}), "banned")
    error(emit(sock, "room:join", {"room_id": archived["id"]}), "archived")
    error(emit(sock, "room:join", {"room_id": room["id"], "extra": 1}), "validation_error")


def test_leave_acks_and_the_socket_stops_hearing_the_room(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    watcher, sock = connect(alice), connect(bob)
    watcher.get_received(), sock.get_received()
    assert emit(sock, "room:leave", {"room_id": room["id"]}) == {"ok": True}
    left = {"room_id": room["id"], "user_id": bob.id, "reason": "left"}
    assert payloads(sock.get_received(), "room:member_leave") == [left]
    assert payloads(watcher.get_received(), "room:member_leave") == [left]
    send(alice, room["id"], "after bob left")
    assert without_presence(sock.get_received()) == []


def test_leave_is_refused_when_not_a_member_or_in_a_direct_room(
    connect: Connect, alice: Member, carol: Member, room: dict[str, Any]
) -> None:
    direct = alice.post(f"{API}/dm", json={"user_id": carol.id}).get_json()
    sock = connect(carol)
    error(emit(sock, "room:leave", {"room_id": room["id"]}), "not_a_member")
    error(emit(sock, "room:leave", {"room_id": direct["id"]}), "direct_room")
    error(emit(sock, "room:leave", {"room_id": 999_999}), "not_found")
    error(emit(sock, "room:leave", {"room": room["id"]}), "validation_error")


# --- room:read ---------------------------------------------------------------------------


def test_read_acks_the_read_mark_and_the_unread_count(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    ids = [send(alice, room["id"], f"m{i}").get_json()["id"] for i in range(3)]
    sock = connect(bob)
    ack = ok(emit(sock, "room:read", {"room_id": room["id"], "message_id": ids[0]}))
    assert ack == {
        "ok": True,
        "room_id": room["id"],
        "last_read_message_id": ids[0],
        "unread_count": 2,
        "mention_count": 0,
    }
    # Never back, and never past the newest message.
    back = ok(emit(sock, "room:read", {"room_id": room["id"], "message_id": 0}))
    assert back["last_read_message_id"] == ids[0]
    past = ok(emit(sock, "room:read", {"room_id": room["id"], "message_id": ids[-1] + 1000}))
    assert past["last_read_message_id"] == ids[-1] and past["unread_count"] == 0


def test_the_unread_event_reaches_the_readers_other_tabs_only(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    last = send(alice, room["id"], "read me").get_json()["id"]
    send(alice, room["id"], "and me")
    tab, other_tab, author = connect(bob), connect(bob), connect(alice)
    for sock in (tab, other_tab, author):
        sock.get_received()
    ok(emit(tab, "room:read", {"room_id": room["id"], "message_id": last}))
    unread = {"room_id": room["id"], "count": 1, "mention_count": 0, "last_read_message_id": last}
    assert payloads(other_tab.get_received(), "unread") == [unread]
    assert payloads(tab.get_received(), "unread") == [unread]
    assert without_presence(author.get_received()) == []
    # A read that moves nothing tells nobody.
    ok(emit(tab, "room:read", {"room_id": room["id"], "message_id": last}))
    assert without_presence(other_tab.get_received()) == []


def test_read_is_refused_outside_the_room(
    connect: Connect, alice: Member, carol: Member, room: dict[str, Any]
) -> None:
    private = make_room(alice, "secret", kind="private")
    sock = connect(carol)
    error(emit(sock, "room:read", {"room_id": room["id"], "message_id": 1}), "not_a_member")
    error(emit(sock, "room:read", {"room_id": private["id"], "message_id": 1}), "not_found")
    error(emit(sock, "room:read", {"room_id": room["id"], "message_id": -1}), "validation_error")
    error(emit(sock, "room:read", {"room_id": room["id"]}), "validation_error")


# --- typing ------------------------------------------------------------------------------


def test_typing_reaches_the_other_members_but_not_the_typists_own_sockets(
    connect: Connect, alice: Member, bob: Member, carol: Member, room: dict[str, Any]
) -> None:
    typist, typists_tab, member, outsider = (
        connect(alice),
        connect(alice),
        connect(bob),
        connect(carol),
    )
    for sock in (typist, typists_tab, member, outsider):
        sock.get_received()
    assert emit(typist, "typing", {"room_id": room["id"]}) == {"ok": True, "sent": True}
    assert payloads(member.get_received(), "typing") == [
        {"room_id": room["id"], "user_id": alice.id, "expires_in": 5}
    ]
    assert without_presence(typist.get_received()) == []
    assert without_presence(typists_tab.get_received()) == []
    assert without_presence(outsider.get_received()) == []


def test_typing_is_throttled_per_user_and_room(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "other")
    typist, member = connect(alice), connect(bob)
    assert emit(typist, "typing", {"room_id": room["id"]})["sent"] is True
    member.get_received()
    assert emit(typist, "typing", {"room_id": room["id"]}) == {"ok": True, "sent": False}
    assert payloads(member.get_received(), "typing") == []
    assert emit(typist, "typing", {"room_id": other["id"]})["sent"] is True
    assert emit(member, "typing", {"room_id": room["id"]})["sent"] is True


def test_typing_is_sent_again_once_the_throttle_window_passes(
    app: Flask,
    connect: Connect,
    alice: Member,
    bob: Member,
    room: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.extensions, "parley.typing", TypingThrottle(every=0.1))
    typist, member = connect(alice), connect(bob)
    assert emit(typist, "typing", {"room_id": room["id"]})["sent"] is True
    assert emit(typist, "typing", {"room_id": room["id"]})["sent"] is False
    time.sleep(0.15)
    assert emit(typist, "typing", {"room_id": room["id"]})["sent"] is True
    assert len(payloads(member.get_received(), "typing")) == 2


def test_typing_is_refused_where_one_may_not_post(
    connect: Connect, alice: Member, bob: Member, carol: Member, room: dict[str, Any]
) -> None:
    private = make_room(alice, "secret", kind="private")
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 5})
    error(emit(connect(carol), "typing", {"room_id": room["id"]}), "not_a_member")
    error(emit(connect(carol), "typing", {"room_id": private["id"]}), "not_found")
    error(emit(connect(bob), "typing", {"room_id": room["id"]}), "muted")
    error(emit(connect(bob), "typing", {}), "validation_error")


# --- unknown events and rate limits ------------------------------------------------------


@pytest.mark.parametrize("name", ["message:sned", "admin:shutdown", "connect_errors"])
def test_an_unknown_event_is_answered_unknown_event(
    connect: Connect, alice: Member, name: str
) -> None:
    found = error(emit(connect(alice), name, {"room_id": 1}), "unknown_event")
    assert found["details"] == {"event": name}


def test_sends_past_the_per_user_limit_are_rate_limited(
    app: Flask,
    connect: Connect,
    alice: Member,
    bob: Member,
    room: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter = EventRateLimiter("3/10 seconds", "memory://", True, scope="sends")
    monkeypatch.setitem(app.extensions, "parley.send_limiter", limiter)
    mine, my_tab, theirs = connect(alice), connect(alice), connect(bob)
    for i in range(3):
        ok(emit(mine, "message:send", {"room_id": room["id"], "body": f"m{i}"}))
    theirs.get_received()
    found = error(
        emit(mine, "message:send", {"room_id": room["id"], "body": "one too many"}), "rate_limited"
    )
    assert 0 < found["details"]["retry_after"] <= 10
    # The budget is the user's, across tabs; other users keep theirs.
    error(emit(my_tab, "message:send", {"room_id": room["id"], "body": "tab"}), "rate_limited")
    assert without_presence(theirs.get_received()) == []
    # Sends have a budget of their own: the user's other events still go through.
    ok(emit(my_tab, "sync", {}))
    ok(emit(theirs, "message:send", {"room_id": room["id"], "body": "bob is fine"}))
    history = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"]
    assert [m["body"] for m in history] == ["m0", "m1", "m2", "bob is fine"]


# --- what a banned, departed or archived member may still do -----------------------------


def test_a_banned_member_can_do_nothing_in_the_room(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine = send(bob, room["id"], "before the ban").get_json()
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    sock = connect(bob)
    for name, data in [
        ("message:edit", {"message_id": mine["id"], "body": "after"}),
        ("message:delete", {"message_id": mine["id"]}),
        ("room:leave", {"room_id": room["id"]}),
        ("room:read", {"room_id": room["id"], "message_id": mine["id"]}),
        ("typing", {"room_id": room["id"]}),
    ]:
        error(emit(sock, name, data), "banned")


def test_an_author_who_left_may_not_edit_but_may_delete(
    connect: Connect, bob: Member, room: dict[str, Any]
) -> None:
    mine = send(bob, room["id"], "said before leaving").get_json()
    sock = connect(bob)
    ok(emit(sock, "room:leave", {"room_id": room["id"]}))
    error(emit(sock, "message:edit", {"message_id": mine["id"], "body": "x"}), "not_a_member")
    assert ok(emit(sock, "message:delete", {"message_id": mine["id"]}))["message"]["deleted"]


def test_in_an_archived_room_nobody_edits_or_types(
    connect: Connect, alice: Member, room: dict[str, Any]
) -> None:
    mine = send(alice, room["id"], "last words").get_json()
    alice.patch(f"{API}/rooms/{room['id']}", json={"archived": True})
    sock = connect(alice)
    error(emit(sock, "message:edit", {"message_id": mine["id"], "body": "x"}), "archived")
    error(emit(sock, "typing", {"room_id": room["id"]}), "archived")


def test_the_last_owner_leaving_hands_the_room_over_and_the_room_hears_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    owner, heir = connect(alice), connect(bob)
    owner.get_received(), heir.get_received()
    ok(emit(owner, "room:leave", {"room_id": room["id"]}))
    received = heir.get_received()
    assert [p["user_id"] for p in payloads(received, "room:member_leave")] == [alice.id]
    (update,) = payloads(received, "room:member_update")
    assert update["member"]["user"]["id"] == bob.id and update["member"]["role"] == "owner"
    assert payloads(owner.get_received(), "room:member_update") == []


def test_a_read_through_rest_reaches_the_readers_sockets(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    last = send(alice, room["id"], "read on another device").get_json()["id"]
    sock = connect(bob)
    sock.get_received()
    assert bob.post(f"{API}/rooms/{room['id']}/read", json={"message_id": last}).status_code == 200
    assert payloads(sock.get_received(), "unread") == [
        {"room_id": room["id"], "count": 0, "mention_count": 0, "last_read_message_id": last}
    ]
