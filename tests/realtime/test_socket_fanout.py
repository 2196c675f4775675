"""Who hears what: events reach exactly the sockets of those who may see them, and
membership changes move a user's open sockets in or out of a room at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from realtime_support import (
    Connect,
    emit,
    error,
    message_events,
    names,
    ok,
    payloads,
    without_presence,
)

from support import Member, as_stored, make_room, send

API = "/api/v1"


@pytest.fixture
def carol(make_user: Callable[..., Member]) -> Member:
    return make_user("carol")


@pytest.fixture
def private(alice: Member, bob: Member) -> dict[str, Any]:
    made = make_room(alice, "secret", kind="private")
    assert (
        alice.post(f"{API}/rooms/{made['id']}/members", json={"user_id": bob.id}).status_code == 201
    )
    return made


def bodies(received: list[dict[str, Any]], room_id: int | None = None) -> list[str]:
    return [p["message"]["body"] for _, p in message_events(received, room_id)]


# --- private rooms ----------------------------------------------------------------------


def test_a_non_member_hears_nothing_of_a_private_room(
    connect: Connect, alice: Member, bob: Member, carol: Member, private: dict[str, Any]
) -> None:
    owner, member, outsider = connect(alice), connect(bob), connect(carol)
    for sock in (owner, member, outsider):
        sock.get_received()
    sent = ok(emit(owner, "message:send", {"room_id": private["id"], "body": "secret"}))
    message_id = sent["message"]["id"]
    ok(emit(owner, "message:edit", {"message_id": message_id, "body": "still secret"}))
    ok(emit(member, "typing", {"room_id": private["id"]}))
    alice.patch(f"{API}/rooms/{private['id']}", json={"topic": "hush"})
    ok(emit(owner, "message:delete", {"message_id": message_id}))
    assert without_presence(outsider.get_received()) == []
    heard = without_presence(member.get_received())
    assert names(heard) == ["message:new", "message:edit", "room:update", "message:delete"]
    assert names(without_presence(owner.get_received())) == [
        "message:new",
        "message:edit",
        "typing",
        "room:update",
        "message:delete",
    ]


def test_a_non_member_can_neither_post_to_nor_read_a_private_room(
    connect: Connect, carol: Member, private: dict[str, Any]
) -> None:
    sock = connect(carol)
    for name, data in [
        ("message:send", {"room_id": private["id"], "body": "let me in"}),
        ("room:read", {"room_id": private["id"], "message_id": 1}),
        ("typing", {"room_id": private["id"]}),
        ("room:join", {"room_id": private["id"]}),
    ]:
        assert emit(sock, name, data)["error"]["code"] == "not_found"
    synced = ok(emit(sock, "sync", {"rooms": {str(private["id"]): 0}}))
    assert synced["removed"] == [private["id"]] and synced["messages"] == {}


def test_a_public_room_is_heard_by_its_members_only(
    connect: Connect, alice: Member, bob: Member, carol: Member
) -> None:
    room = make_room(alice, "general")
    member, passerby = connect(alice), connect(carol)
    member.get_received(), passerby.get_received()
    send(alice, room["id"], "members only")
    assert bodies(member.get_received()) == ["members only"]
    assert without_presence(passerby.get_received()) == []


# --- REST changes reach sockets ----------------------------------------------------------


def test_a_rest_post_reaches_sockets_in_the_rest_response_shape(
    connect: Connect, alice: Member, bob: Member, private: dict[str, Any]
) -> None:
    sock = connect(bob)
    sock.get_received()
    response = send(alice, private["id"], "via **REST**", client_id="r-1")
    assert response.status_code == 201
    posted = as_stored(response.get_json())
    assert message_events(sock.get_received()) == [
        ("message:new", {"message": posted, "seq": posted["seq"]})
    ]
    edited = alice.patch(f"{API}/messages/{posted['id']}", json={"body": "edited"}).get_json()
    deleted = alice.delete(f"{API}/messages/{posted['id']}").get_json()
    assert message_events(sock.get_received()) == [
        ("message:edit", {"message": edited, "seq": edited["changed_seq"]}),
        ("message:delete", {"message": deleted, "seq": deleted["changed_seq"]}),
    ]


def test_edits_and_deletes_reach_every_member_and_every_tab(
    connect: Connect, alice: Member, bob: Member, carol: Member, private: dict[str, Any]
) -> None:
    alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": carol.id})
    first = send(bob, private["id"], "typo").get_json()
    second = send(carol, private["id"], "rude").get_json()
    socks = [connect(alice), connect(alice), connect(bob), connect(carol)]
    for sock in socks:
        sock.get_received()
    ok(emit(socks[2], "message:edit", {"message_id": first["id"], "body": "fixed"}))
    ok(emit(socks[0], "message:delete", {"message_id": second["id"]}))
    for sock in socks:
        events = message_events(sock.get_received())
        assert [(name, p["message"]["id"]) for name, p in events] == [
            ("message:edit", first["id"]),
            ("message:delete", second["id"]),
        ]
        assert events[0][1]["message"]["body"] == "fixed"
        assert events[1][1]["message"]["deleted"] is True


def test_message_event_seqs_are_contiguous_per_room_across_new_edit_and_delete(
    connect: Connect, alice: Member, bob: Member
) -> None:
    one, two = make_room(alice, "one"), make_room(alice, "two")
    for room in (one, two):
        bob.post(f"{API}/rooms/{room['id']}/join")
    watcher, writer = connect(bob), connect(alice)
    watcher.get_received()

    def socket_send(room: dict[str, Any], body: str) -> int:
        ack = ok(emit(writer, "message:send", {"room_id": room["id"], "body": body}))
        message_id: int = ack["message"]["id"]
        return message_id

    a = socket_send(one, "a")
    b = send(alice, two["id"], "b").get_json()["id"]
    ok(emit(writer, "message:edit", {"message_id": a, "body": "a2"}))
    c = socket_send(one, "c")
    alice.patch(f"{API}/messages/{b}", json={"body": "b2"})
    ok(emit(writer, "message:delete", {"message_id": a}))
    # A refused change takes no number.
    error(emit(writer, "message:edit", {"message_id": a, "body": "no"}), "message_deleted")
    assert alice.delete(f"{API}/messages/{b}").status_code == 200
    socket_send(two, "d")
    alice.delete(f"{API}/messages/{c}")
    received = watcher.get_received()
    for room, count in ((one, 5), (two, 4)):
        seqs = [p["seq"] for _, p in message_events(received, room["id"])]
        assert seqs == list(range(1, count + 1)), (room["name"], seqs)
        last_seq = alice.get(f"{API}/rooms/{room['id']}").get_json()["last_seq"]
        assert last_seq == count


# --- membership moves sockets ------------------------------------------------------------


def test_joining_through_rest_puts_every_open_socket_in_the_room(
    connect: Connect, alice: Member, carol: Member
) -> None:
    room = make_room(alice, "general")
    tab, other_tab, owner = connect(carol), connect(carol), connect(alice)
    for sock in (tab, other_tab, owner):
        sock.get_received()
    member = carol.post(f"{API}/rooms/{room['id']}/join").get_json()
    joined = {"room_id": room["id"], "member": member}
    for sock in (tab, other_tab, owner):
        assert payloads(sock.get_received(), "room:member_join") == [joined]
    send(alice, room["id"], "hello carol")
    assert bodies(tab.get_received()) == ["hello carol"]
    assert bodies(other_tab.get_received()) == ["hello carol"]


def test_an_invited_users_sockets_enter_the_private_room(
    connect: Connect, alice: Member, carol: Member, private: dict[str, Any]
) -> None:
    sock = connect(carol)
    sock.get_received()
    alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": carol.id})
    (joined,) = payloads(sock.get_received(), "room:member_join")
    assert joined["member"]["user"]["id"] == carol.id
    send(alice, private["id"], "welcome in")
    assert bodies(sock.get_received()) == ["welcome in"]


def test_a_new_room_and_a_direct_room_are_heard_at_once(
    connect: Connect, alice: Member, carol: Member
) -> None:
    alice_sock, carol_sock = connect(alice), connect(carol)
    room = make_room(alice, "fresh", kind="private")
    direct = alice.post(f"{API}/dm", json={"user_id": carol.id}).get_json()
    alice_sock.get_received(), carol_sock.get_received()
    send(alice, room["id"], "in my new room")
    send(carol, direct["id"], "psst")
    assert bodies(alice_sock.get_received()) == ["in my new room", "psst"]
    assert bodies(carol_sock.get_received()) == ["psst"]


def test_a_banned_members_sockets_hear_the_ban_and_then_nothing(
    connect: Connect, alice: Member, bob: Member, carol: Member
) -> None:
    room = make_room(alice, "general")
    bob.post(f"{API}/rooms/{room['id']}/join")
    carol.post(f"{API}/rooms/{room['id']}/join")
    earlier = send(alice, room["id"], "before the ban").get_json()
    tab, other_tab, stays = connect(bob), connect(bob), connect(carol)
    for sock in (tab, other_tab, stays):
        sock.get_received()
    assert alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban").status_code == 200
    banned = {"room_id": room["id"], "user_id": bob.id, "reason": "banned"}
    send(alice, room["id"], "after the ban")
    alice.patch(f"{API}/messages/{earlier['id']}", json={"body": "edited after"})
    ok(emit(stays, "typing", {"room_id": room["id"]}))
    alice.patch(f"{API}/rooms/{room['id']}", json={"topic": "no bobs"})
    for sock in (tab, other_tab):
        assert without_presence(sock.get_received()) == [
            {"name": "room:member_leave", "args": [banned], "namespace": "/"}
        ]
    heard = without_presence(stays.get_received())
    assert payloads(heard, "room:member_leave") == [banned]
    assert bodies(heard) == ["after the ban", "edited after"]


def test_a_removed_members_sockets_hear_the_removal_and_then_nothing(
    connect: Connect, alice: Member, bob: Member, private: dict[str, Any]
) -> None:
    sock = connect(bob)
    sock.get_received()
    assert alice.delete(f"{API}/rooms/{private['id']}/members/{bob.id}").status_code == 204
    send(alice, private["id"], "bob was removed")
    assert without_presence(sock.get_received()) == [
        {
            "name": "room:member_leave",
            "args": [{"room_id": private["id"], "user_id": bob.id, "reason": "removed"}],
            "namespace": "/",
        }
    ]


def test_leaving_through_rest_takes_every_open_socket_out(
    connect: Connect, alice: Member, bob: Member, private: dict[str, Any]
) -> None:
    tab, other_tab = connect(bob), connect(bob)
    assert bob.post(f"{API}/rooms/{private['id']}/leave").status_code == 204
    tab.get_received(), other_tab.get_received()
    send(alice, private["id"], "anyone?")
    assert without_presence(tab.get_received()) == []
    assert without_presence(other_tab.get_received()) == []


def test_a_member_who_leaves_and_rejoins_hears_the_room_again(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    sock = connect(bob)
    ok(emit(sock, "room:join", {"room_id": room["id"]}))
    ok(emit(sock, "room:leave", {"room_id": room["id"]}))
    send(alice, room["id"], "missed")
    ok(emit(sock, "room:join", {"room_id": room["id"]}))
    send(alice, room["id"], "heard")
    assert bodies(sock.get_received()) == ["heard"]


def test_a_mute_is_told_to_the_room_and_the_muted_member(
    connect: Connect, alice: Member, bob: Member, carol: Member, private: dict[str, Any]
) -> None:
    muted, owner, outsider = connect(bob), connect(alice), connect(carol)
    for sock in (muted, owner, outsider):
        sock.get_received()
    member = alice.post(
        f"{API}/rooms/{private['id']}/members/{bob.id}/mute", json={"minutes": 5}
    ).get_json()
    update = {"room_id": private["id"], "member": member}
    assert payloads(muted.get_received(), "room:member_update") == [update]
    assert payloads(owner.get_received(), "room:member_update") == [update]
    assert without_presence(outsider.get_received()) == []


def test_banning_a_non_member_and_unbanning_send_nothing(
    connect: Connect, alice: Member, carol: Member
) -> None:
    room = make_room(alice, "general")
    watcher, target = connect(alice), connect(carol)
    watcher.get_received(), target.get_received()
    assert alice.post(f"{API}/rooms/{room['id']}/members/{carol.id}/ban").status_code == 200
    assert alice.delete(f"{API}/rooms/{room['id']}/members/{carol.id}/ban").status_code == 204
    assert without_presence(watcher.get_received()) == []
    assert without_presence(target.get_received()) == []
