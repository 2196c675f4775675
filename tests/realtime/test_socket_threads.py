"""Threads over Socket.IO: replies sent with message:send, the room hearing each reply and
then its root's thread:update, thread:read acks, and `sync` bringing a summary missed."""

from __future__ import annotations

from typing import Any

from realtime_support import Connect, emit, error, names, ok, payloads, without_presence

from support import Member, make_room, posted, send

API = "/api/v1"


def test_a_reply_is_acked_and_the_room_hears_it_then_the_roots_summary(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"], "root")
    mine, theirs = connect(bob), connect(alice)
    mine.get_received(), theirs.get_received()
    ack = ok(
        emit(mine, "message:send", {"room_id": room["id"], "body": "re", "thread_id": root_id})
    )
    sent = ack["message"]
    assert (sent["thread_id"], sent["also_to_room"], ack["created"]) == (root_id, False, True)
    for sock in (mine, theirs):
        received = without_presence(sock.get_received())
        assert names(received) == ["message:new", "thread:update"]
        [new] = payloads(received, "message:new")
        assert new["message"] == sent
        [update] = payloads(received, "thread:update")
        assert update == {
            "room_id": room["id"],
            "root_id": root_id,
            "thread": {
                "reply_count": 1,
                "last_reply_at": sent["created_at"],
                "participant_ids": [bob.id],
            },
            "seq": sent["seq"] + 1,
        }


def test_a_reply_also_to_the_room_says_so(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    sock = connect(bob)
    payload = {"room_id": room["id"], "body": "re", "thread_id": root_id, "also_to_room": True}
    sent = ok(emit(sock, "message:send", payload))["message"]
    assert (sent["thread_id"], sent["also_to_room"]) == (root_id, True)
    page = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"]
    assert [m["id"] for m in page] == [root_id, sent["id"]]


def test_a_bad_thread_id_is_an_error_ack_and_sends_nothing(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    other = posted(alice, make_room(alice, "other")["id"])
    sock = connect(bob)
    sock.get_received()
    base = {"room_id": room["id"], "body": "re"}
    error(emit(sock, "message:send", {**base, "thread_id": "1"}), "validation_error")
    error(emit(sock, "message:send", {**base, "thread_id": 0}), "validation_error")
    error(emit(sock, "message:send", {**base, "also_to_room": True}), "validation_error")
    error(emit(sock, "message:send", {**base, "thread_id": other}), "thread_not_found")
    alice.delete(f"{API}/messages/{root_id}")
    sock.get_received()
    error(emit(sock, "message:send", {**base, "thread_id": root_id}), "thread_root_deleted")
    assert without_presence(sock.get_received()) == []


def test_thread_read_is_acked_and_told_to_the_readers_sockets(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    first = send(bob, room["id"], "one", thread_id=root_id).get_json()
    send(bob, room["id"], "two", thread_id=root_id)
    mine, theirs = connect(alice), connect(bob)
    mine.get_received(), theirs.get_received()
    ack = ok(emit(mine, "thread:read", {"message_id": root_id, "last_read_id": first["id"]}))
    assert ack == {
        "ok": True,
        "root_id": root_id,
        "last_read_id": first["id"],
        "unread_count": 1,
        "following": True,
    }
    assert payloads(mine.get_received(), "thread:unread") == [
        {
            "room_id": room["id"],
            "root_id": root_id,
            "last_read_id": first["id"],
            "unread_count": 1,
        }
    ]
    assert payloads(theirs.get_received(), "thread:unread") == []
    error(emit(mine, "thread:read", {"message_id": root_id}), "validation_error")
    error(emit(mine, "thread:read", {"message_id": 987654321, "last_read_id": 1}), "not_found")


def test_sync_brings_a_thread_summary_changed_while_away(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"], "root")
    seen = posted(alice, room["id"], "last seen")
    # While the client was away, after the last message it saw:
    hidden = send(bob, room["id"], "re", thread_id=root_id).get_json()
    sock = connect(alice)
    ack = ok(emit(sock, "sync", {"rooms": {str(room["id"]): seen}}))
    # The reply is not in the timeline; the root's new summary comes among the changes.
    assert ack["messages"][str(room["id"])] == []
    [changed] = ack["changes"]
    assert changed["id"] == root_id
    assert changed["thread"] == {
        "reply_count": 1,
        "last_reply_at": hidden["created_at"],
        "participant_ids": [bob.id],
    }
    # A client that saw the reply's message:new but missed the thread:update after it
    # still gets the summary.
    ack = ok(emit(sock, "sync", {"rooms": {str(room["id"]): hidden["id"]}}))
    assert [m["id"] for m in ack["changes"]] == [root_id]
    # A reply deleted while away comes as a change, and so does its root's emptied summary.
    assert bob.delete(f"{API}/messages/{hidden['id']}").status_code == 200
    ack = ok(emit(sock, "sync", {"rooms": {str(room["id"]): hidden["id"]}}))
    changes = {m["id"]: m for m in ack["changes"]}
    assert set(changes) == {root_id, hidden["id"]}
    assert changes[root_id]["thread"] is None
    assert changes[hidden["id"]]["deleted"] is True
