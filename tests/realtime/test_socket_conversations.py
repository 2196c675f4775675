"""Reactions and pins over Socket.IO: the client events' acks and errors, the events the
room hears after each commit, and `sync` bringing what a client missed."""

from __future__ import annotations

from typing import Any

from realtime_support import Connect, emit, error, ok, payloads, without_presence

from support import Member, make_room, send

API = "/api/v1"


def test_a_reaction_is_acked_with_the_messages_reactions_and_the_room_hears_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message = send(alice, room["id"], "hi").get_json()
    mine, theirs = connect(bob), connect(alice)
    mine.get_received(), theirs.get_received()
    ack = ok(emit(mine, "reaction:add", {"message_id": message["id"], "emoji": ":tada:"}))
    assert ack == {
        "ok": True,
        "message_id": message["id"],
        "reactions": [{"emoji": "🎉", "count": 1, "user_ids": [bob.id]}],
    }
    for sock in (mine, theirs):
        [event] = payloads(sock.get_received(), "reaction:add")
        assert event["room_id"] == room["id"] and event["message_id"] == message["id"]
        assert (event["emoji"], event["user_id"], event["count"]) == ("🎉", bob.id, 1)
        assert event["seq"] > message["seq"]
    ok(emit(mine, "reaction:remove", {"message_id": message["id"], "emoji": "🎉"}))
    [removed] = payloads(theirs.get_received(), "reaction:remove")
    assert (removed["emoji"], removed["user_id"], removed["count"]) == ("🎉", bob.id, 0)


def test_reacting_again_or_taking_back_nothing_sends_no_event(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message = send(alice, room["id"], "hi").get_json()
    sock = connect(bob)
    ok(emit(sock, "reaction:add", {"message_id": message["id"], "emoji": "👍"}))
    sock.get_received()
    ok(emit(sock, "reaction:add", {"message_id": message["id"], "emoji": "👍"}))
    ok(emit(sock, "reaction:remove", {"message_id": message["id"], "emoji": "🎉"}))
    assert without_presence(sock.get_received()) == []


def test_a_bad_emoji_or_an_unreadable_message_is_an_error_ack_and_changes_nothing(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message = send(alice, room["id"], "hi").get_json()
    sock = connect(bob)
    error(emit(sock, "reaction:add", {"message_id": message["id"], "emoji": "ok"}), "invalid_emoji")
    error(emit(sock, "reaction:add", {"message_id": message["id"]}), "validation_error")
    private = make_room(alice, "secret", kind="private")
    hidden = send(alice, private["id"], "psst").get_json()
    error(emit(sock, "reaction:add", {"message_id": hidden["id"], "emoji": "👍"}), "not_found")
    error(
        emit(sock, "message:pin", {"message_id": message["id"], "pinned": True}), "not_a_moderator"
    )
    history = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"]
    assert history[-1]["reactions"] == [] and history[-1]["pinned"] is False


def test_a_pin_is_acked_with_the_message_and_the_room_hears_who_pinned_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message = send(bob, room["id"], "keep this").get_json()
    mine, theirs = connect(alice), connect(bob)
    mine.get_received(), theirs.get_received()
    ack = ok(emit(mine, "message:pin", {"message_id": message["id"], "pinned": True}))
    assert ack["message"]["pinned"] is True
    [event] = payloads(theirs.get_received(), "message:pin")
    assert event == {
        "room_id": room["id"],
        "message_id": message["id"],
        "pinned": True,
        "by": alice.id,
        "seq": ack["message"]["changed_seq"],
    }


def test_sync_brings_the_reactions_and_pins_a_client_missed(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    first = send(alice, room["id"], "one").get_json()
    second = send(alice, room["id"], "two").get_json()
    # The client saw up to the second message; then, while it was away:
    bob.request("PUT", f"{API}/messages/{first['id']}/reactions/%F0%9F%91%8D")
    alice.request("PUT", f"{API}/messages/{second['id']}/pin")
    sock = connect(bob)
    ack = ok(emit(sock, "sync", {"rooms": {str(room["id"]): second["id"]}}))
    changes = {m["id"]: m for m in ack["changes"]}
    assert changes[first["id"]]["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [bob.id]}]
    assert changes[second["id"]]["pinned"] is True


def test_a_mention_reaches_the_named_members_sockets_only_and_sync_counts_it(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    theirs, mine = connect(bob), connect(alice)
    theirs.get_received(), mine.get_received()
    ack = ok(emit(mine, "message:send", {"room_id": room["id"], "body": "@bob look"}))
    assert ack["message"]["mentions"] == [bob.id] and ack["not_notified"] == []
    assert payloads(theirs.get_received(), "mention") == [
        {"room_id": room["id"], "message_id": ack["message"]["id"]}
    ]
    assert payloads(mine.get_received(), "mention") == []
    synced = ok(emit(theirs, "sync", {"rooms": {}}))
    [mine_there] = [r for r in synced["rooms"] if r["id"] == room["id"]]
    assert mine_there["mention_count"] == 1
