"""The room's creator, while an owner, answers only to themselves and the server's staff
(global moderators, administrators): another owner cannot demote, remove, mute or ban them."""

from __future__ import annotations

from collections.abc import Callable

from support import Member, assert_error, make_room


def role_of(member: Member, room_id: int, user_id: int) -> str:
    members = member.get(f"/api/v1/rooms/{room_id}/members").get_json()["members"]
    role: str = next(m["role"] for m in members if m["user"]["id"] == user_id)
    return role


def make_co_owner(creator: Member, other: Member, room_id: int) -> None:
    assert other.post(f"/api/v1/rooms/{room_id}/join").status_code == 201
    made = creator.patch(f"/api/v1/rooms/{room_id}/members/{other.id}", json={"role": "owner"})
    assert made.status_code == 200, made.get_json()


def test_a_co_owner_cannot_demote_then_remove_the_creator(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    make_co_owner(alice, bob, room["id"])
    creator = f"/api/v1/rooms/{room['id']}/members/{alice.id}"
    for role in ("member", "moderator"):
        assert_error(bob.patch(creator, json={"role": role}), 403, "room_creator")
    assert_error(bob.delete(creator), 403)
    assert_error(bob.post(creator + "/ban"), 403)
    assert_error(bob.post(creator + "/mute", json={"minutes": 5}), 403)
    assert role_of(bob, room["id"], alice.id) == "owner"


def test_the_creator_may_step_down_and_is_then_an_ordinary_member(
    alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    make_co_owner(alice, bob, room["id"])
    creator = f"/api/v1/rooms/{room['id']}/members/{alice.id}"
    assert alice.patch(creator, json={"role": "member"}).status_code == 200
    assert bob.delete(creator).status_code == 204


def test_the_server_staff_may_demote_the_creator(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    staff = [make_user("root", role="Administrator"), make_user("warden", role="Moderator")]
    room = make_room(alice, "general")
    make_co_owner(alice, bob, room["id"])
    creator = f"/api/v1/rooms/{room['id']}/members/{alice.id}"
    for member in staff:
        assert member.patch(creator, json={"role": "member"}).status_code == 200
        assert role_of(bob, room["id"], alice.id) == "member"
        assert alice.patch(creator, json={"role": "owner"}).status_code == 403
        assert staff[0].patch(creator, json={"role": "owner"}).status_code == 200


def test_co_owners_who_did_not_create_the_room_may_demote_each_other(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    make_co_owner(alice, bob, room["id"])
    make_co_owner(alice, carol, room["id"])
    demoted = bob.patch(f"/api/v1/rooms/{room['id']}/members/{carol.id}", json={"role": "member"})
    assert demoted.status_code == 200
