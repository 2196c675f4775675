"""Making a room private reaches the sockets at once: the posting rights kept for it are
dropped at commit, and its members hear room:update with the new kind."""

from __future__ import annotations

from flask_socketio import SocketIOTestClient
from realtime_support import Connect, emit, error, ok, payloads

from support import Member, make_room

API = "/api/v1"


def send_over(sock: SocketIOTestClient, room_id: int, body: str) -> dict[str, object]:
    return emit(sock, "message:send", {"room_id": room_id, "body": body})


def test_making_a_room_private_drops_an_outsiders_kept_rights_at_once(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    outsider = connect(bob)
    # Kept: the room is public and bob is no member, so he may read but not post.
    error(send_over(outsider, room["id"], "hi"), "not_a_member")
    error(send_over(outsider, room["id"], "hi"), "not_a_member")
    response = alice.patch(f"{API}/rooms/{room['id']}", json={"kind": "private"})
    assert response.status_code == 200
    # A room he may no longer know of answers as one that does not exist.
    error(send_over(outsider, room["id"], "hi"), "not_found")


def test_members_hear_the_new_kind_and_keep_posting(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    assert bob.post(f"{API}/rooms/{room['id']}/join").status_code == 201
    member = connect(bob)
    ok(send_over(member, room["id"], "before"))
    member.get_received()
    assert alice.patch(f"{API}/rooms/{room['id']}", json={"kind": "private"}).status_code == 200
    updates = payloads(member.get_received(), "room:update")
    assert [u["room"]["kind"] for u in updates] == ["private"]
    ok(send_over(member, room["id"], "after"))
