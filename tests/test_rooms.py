"""Rooms over the REST API: listing, creating, changing, joining, leaving, inviting,
direct rooms, and the moderation of members with its rank rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from parley.extensions import db
from parley.models import Membership, Room
from support import Member, assert_error, make_room, send

API = "/api/v1"
# "general" in fullwidth letters: NFKC folds it onto the plain name
FULLWIDTH_GENERAL = "".join(chr(ord(c) + 0xFEE0) for c in "general")


def room_url(room_id: int, rest: str = "") -> str:
    return f"{API}/rooms/{room_id}{rest}"


def member_url(room_id: int, user_id: int, rest: str = "") -> str:
    return f"{API}/rooms/{room_id}/members/{user_id}{rest}"


def join(member: Member, room_id: int) -> None:
    response = member.post(room_url(room_id, "/join"))
    assert response.status_code == 201, response.get_json()


def set_room_role(owner: Member, room_id: int, user_id: int, role: str) -> None:
    response = owner.patch(member_url(room_id, user_id), json={"role": role})
    assert response.status_code == 200, response.get_json()


def membership_row(app: Flask, room_id: int, user_id: int) -> Membership | None:
    with app.app_context():
        row = db.session.get(Membership, (room_id, user_id))
        if row is not None:
            db.session.expunge(row)
        return row


def my_rooms(member: Member) -> dict[int, dict[str, Any]]:
    response = member.get(f"{API}/rooms")
    assert response.status_code == 200
    return {room["id"]: room for room in response.get_json()["rooms"]}


def member_roles(member: Member, room_id: int) -> dict[int, str]:
    response = member.get(room_url(room_id, "/members"))
    assert response.status_code == 200, response.get_json()
    return {m["user"]["id"]: m["role"] for m in response.get_json()["members"]}


# --- GET /rooms ---------------------------------------------------------------------


def test_my_rooms_is_empty_for_a_new_user(alice: Member) -> None:
    response = alice.get(f"{API}/rooms")
    assert response.status_code == 200
    assert response.get_json() == {"rooms": []}


def test_my_rooms_lists_only_rooms_i_belong_to_with_my_role(alice: Member, bob: Member) -> None:
    mine = make_room(alice, "mine")
    joined = make_room(bob, "joined")
    make_room(bob, "not-mine")
    join(alice, joined["id"])

    rooms = my_rooms(alice)
    assert set(rooms) == {mine["id"], joined["id"]}
    assert rooms[mine["id"]]["role"] == "owner"
    assert rooms[joined["id"]]["role"] == "member"
    assert rooms[joined["id"]]["member_count"] == 2
    assert rooms[mine["id"]]["peer"] is None


def test_my_rooms_shows_unread_count_and_last_message_ids(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    own = send(bob, room["id"], "mine").get_json()
    first = send(alice, room["id"], "one").get_json()
    last = send(alice, room["id"], "two").get_json()

    bobs = my_rooms(bob)[room["id"]]
    assert bobs["unread_count"] == 2  # alice's two; his own never count
    assert bobs["last_read_message_id"] == own["id"]  # his own post marks it read
    assert bobs["last_message_id"] == last["id"]
    alices = my_rooms(alice)[room["id"]]
    assert alices["unread_count"] == 0
    assert alices["last_read_message_id"] == last["id"]
    assert last["id"] > first["id"] > own["id"]


def test_posting_marks_everything_before_my_message_read(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    send(alice, room["id"], "one")
    send(alice, room["id"], "two")
    mine = send(bob, room["id"], "reply").get_json()
    bobs = my_rooms(bob)[room["id"]]
    assert (bobs["unread_count"], bobs["last_read_message_id"]) == (0, mine["id"])
    assert my_rooms(alice)[room["id"]]["unread_count"] == 1


def test_my_rooms_lists_a_direct_room_with_the_peer(alice: Member, bob: Member) -> None:
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    rooms = my_rooms(alice)
    assert rooms[dm["id"]]["kind"] == "direct"
    assert rooms[dm["id"]]["name"] is None
    assert rooms[dm["id"]]["peer"] == {
        "id": bob.id,
        "username": "bob",
        "display_name": "bob",
        "avatar_url": None,
    }
    assert my_rooms(bob)[dm["id"]]["peer"]["id"] == alice.id


def test_my_rooms_lists_the_most_recently_active_first(alice: Member) -> None:
    quiet = make_room(alice, "quiet")
    busy = make_room(alice, "busy")
    send(alice, busy["id"], "x")
    send(alice, quiet["id"], "y")
    ids = [r["id"] for r in alice.get(f"{API}/rooms").get_json()["rooms"]]
    assert ids == [quiet["id"], busy["id"]]


def test_my_rooms_leaves_out_a_room_i_am_banned_from(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert room["id"] not in my_rooms(bob)


def test_rooms_require_authentication(client: FlaskClient) -> None:
    assert_error(client.get(f"{API}/rooms"), 401, "unauthorized")


# --- GET /rooms/directory -------------------------------------------------------------


def test_directory_lists_public_unarchived_rooms_by_name(alice: Member, bob: Member) -> None:
    make_room(alice, "zebra")
    make_room(bob, "Apple")
    make_room(alice, "mango")
    make_room(alice, "secret", kind="private")
    old = make_room(alice, "old")
    alice.patch(room_url(old["id"]), json={"archived": True})
    alice.post(f"{API}/dm", json={"user_id": bob.id})

    response = bob.get(f"{API}/rooms/directory")
    assert response.status_code == 200
    names = [r["name"] for r in response.get_json()["rooms"]]
    assert names == ["Apple", "mango", "zebra"]


def test_directory_shows_member_counts_and_last_message_id(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    message = send(bob, room["id"], "hello").get_json()
    (listed,) = alice.get(f"{API}/rooms/directory").get_json()["rooms"]
    assert listed["member_count"] == 2
    assert listed["last_message_id"] == message["id"]


# --- POST /rooms ----------------------------------------------------------------------


def test_create_room_makes_the_creator_its_owner(app: Flask, alice: Member) -> None:
    response = alice.post(f"{API}/rooms", json={"name": "general", "topic": "anything"})
    assert response.status_code == 201
    room = response.get_json()
    assert room["name"] == "general"
    assert room["topic"] == "anything"
    assert room["kind"] == "public"
    assert room["created_by"] == alice.id
    assert room["archived"] is False
    assert room["member_count"] == 1
    assert room["last_message_id"] == 0
    row = membership_row(app, room["id"], alice.id)
    assert row is not None and row.role == "owner"


def test_create_private_room(alice: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert room["kind"] == "private"


@pytest.mark.parametrize("second", ["general", "GENERAL", "  General  ", FULLWIDTH_GENERAL])
def test_create_room_with_a_taken_name_ignoring_case_is_a_conflict(
    app: Flask, alice: Member, bob: Member, second: str
) -> None:
    make_room(alice, "General")
    error = assert_error(bob.post(f"{API}/rooms", json={"name": second}), 409, "room_name_taken")
    assert error["details"] == {"field": "name"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Room)) == 1


def test_create_room_of_kind_direct_is_refused(app: Flask, alice: Member) -> None:
    assert_error(alice.post(f"{API}/rooms", json={"name": "x", "kind": "direct"}), 422)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Room)) == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 65}, {"name": 5}, {"name": "a", "x": 1}],
)
def test_create_room_with_an_invalid_body_is_refused(alice: Member, body: dict[str, Any]) -> None:
    assert_error(alice.post(f"{API}/rooms", json=body), 422, "validation_error")


# --- GET /rooms/{id} -------------------------------------------------------------------


def test_get_public_room_as_a_non_member(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general", topic="hello")
    response = bob.get(room_url(room["id"]))
    assert response.status_code == 200
    assert response.get_json()["topic"] == "hello"


def test_get_private_room_as_a_non_member_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert_error(bob.get(room_url(room["id"])), 404, "not_found")
    assert_error(bob.get(room_url(room["id"] + 1000)), 404, "not_found")


def test_get_private_room_as_a_member(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    alice.post(room_url(room["id"], "/members"), json={"user_id": bob.id})
    assert bob.get(room_url(room["id"])).status_code == 200


def test_get_room_i_am_banned_from_is_forbidden(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert_error(bob.get(room_url(room["id"])), 403, "banned")


# --- PATCH /rooms/{id} -----------------------------------------------------------------


def test_owner_renames_room_and_changes_topic(app: Flask, alice: Member) -> None:
    room = make_room(alice, "general")
    response = alice.patch(room_url(room["id"]), json={"name": "lobby", "topic": "new"})
    assert response.status_code == 200
    assert response.get_json()["name"] == "lobby"
    assert response.get_json()["topic"] == "new"
    with app.app_context():
        row = db.session.get_one(Room, room["id"])
        assert (row.name, row.name_key, row.topic) == ("lobby", "lobby", "new")


def test_room_moderator_may_archive_the_room(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    response = bob.patch(room_url(room["id"]), json={"archived": True})
    assert response.status_code == 200
    assert response.get_json()["archived"] is True


def test_global_moderator_may_change_a_public_room_they_are_not_in(
    alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    response = mod.patch(room_url(room["id"]), json={"topic": "tidied"})
    assert response.status_code == 200
    assert response.get_json()["topic"] == "tidied"


def test_plain_member_may_not_change_the_room(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    assert_error(bob.patch(room_url(room["id"]), json={"name": "mine"}), 403, "not_a_moderator")
    with app.app_context():
        assert db.session.get_one(Room, room["id"]).name == "general"


def test_non_member_may_not_change_a_public_room(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    assert_error(bob.patch(room_url(room["id"]), json={"topic": "x"}), 403, "not_a_moderator")


def test_renaming_onto_an_existing_name_is_a_conflict(app: Flask, alice: Member) -> None:
    make_room(alice, "general")
    room = make_room(alice, "random")
    assert_error(
        alice.patch(room_url(room["id"]), json={"name": "GENERAL"}), 409, "room_name_taken"
    )
    with app.app_context():
        assert db.session.get_one(Room, room["id"]).name == "random"


def test_renaming_a_room_to_its_own_name_in_another_case_is_allowed(alice: Member) -> None:
    room = make_room(alice, "general")
    response = alice.patch(room_url(room["id"]), json={"name": "General"})
    assert response.status_code == 200
    assert response.get_json()["name"] == "General"


def test_nobody_may_change_a_direct_room(alice: Member, bob: Member) -> None:
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    assert_error(alice.patch(room_url(dm["id"]), json={"topic": "x"}), 403, "not_a_moderator")


def test_unarchiving_lets_members_post_again(alice: Member) -> None:
    room = make_room(alice, "general")
    alice.patch(room_url(room["id"]), json={"archived": True})
    assert_error(send(alice, room["id"], "hi"), 403, "archived")
    alice.patch(room_url(room["id"]), json={"archived": False})
    assert send(alice, room["id"], "hi").status_code == 201


# --- join / leave ----------------------------------------------------------------------


def test_join_is_201_the_first_time_and_200_after(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    first = bob.post(room_url(room["id"], "/join"))
    assert first.status_code == 201
    assert first.get_json()["user"]["id"] == bob.id
    assert first.get_json()["role"] == "member"
    again = bob.post(room_url(room["id"], "/join"))
    assert again.status_code == 200
    assert again.get_json()["joined_at"] == first.get_json()["joined_at"]
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).where(Membership.room_id == room["id"])
        )
        assert count == 2


def test_joining_a_private_room_is_not_found(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert_error(bob.post(room_url(room["id"], "/join")), 404, "not_found")
    assert membership_row(app, room["id"], bob.id) is None


def test_joining_an_archived_room_is_forbidden(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "old")
    alice.patch(room_url(room["id"]), json={"archived": True})
    assert_error(bob.post(room_url(room["id"], "/join")), 403, "archived")
    assert membership_row(app, room["id"], bob.id) is None


def test_joining_a_room_i_am_banned_from_is_forbidden(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert_error(bob.post(room_url(room["id"], "/join")), 403, "banned")


def test_joining_a_missing_room_is_not_found(alice: Member) -> None:
    assert_error(alice.post(room_url(999999, "/join")), 404, "not_found")


def test_leave_removes_the_membership(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = bob.post(room_url(room["id"], "/leave"))
    assert response.status_code == 204
    assert response.get_data() == b""
    assert membership_row(app, room["id"], bob.id) is None
    assert room["id"] not in my_rooms(bob)


def test_leaving_a_room_i_am_not_in_is_forbidden(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    assert_error(bob.post(room_url(room["id"], "/leave")), 403, "not_a_member")


def test_leaving_a_direct_room_is_forbidden(app: Flask, alice: Member, bob: Member) -> None:
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    assert_error(alice.post(room_url(dm["id"], "/leave")), 403, "direct_room")
    assert membership_row(app, dm["id"], alice.id) is not None


def test_when_the_only_owner_leaves_the_longest_standing_moderator_takes_over(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol, dave = make_user("carol"), make_user("dave")
    room = make_room(alice, "general")
    for member in (bob, carol, dave):
        join(member, room["id"])
    set_room_role(alice, room["id"], dave.id, "moderator")
    set_room_role(alice, room["id"], carol.id, "moderator")

    assert alice.post(room_url(room["id"], "/leave")).status_code == 204
    roles = member_roles(bob, room["id"])
    # carol joined before dave; bob joined earlier still but is no moderator
    assert roles == {bob.id: "member", carol.id: "owner", dave.id: "moderator"}


def test_when_the_only_owner_leaves_without_moderators_the_longest_standing_member_takes_over(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    alice.post(room_url(room["id"], "/leave"))
    assert member_roles(bob, room["id"]) == {bob.id: "owner", carol.id: "member"}


def test_a_banned_member_never_inherits_ownership(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    alice.post(room_url(room["id"], "/leave"))
    # carol, now owner, sees the banned bob too: still banned, still a plain member
    members = carol.get(room_url(room["id"], "/members")).get_json()["members"]
    assert {m["user"]["id"]: (m["role"], m["banned"]) for m in members} == {
        bob.id: ("member", True),
        carol.id: ("owner", False),
    }


def test_when_another_owner_remains_nobody_is_promoted(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    set_room_role(alice, room["id"], carol.id, "owner")
    alice.post(room_url(room["id"], "/leave"))
    assert member_roles(bob, room["id"]) == {bob.id: "member", carol.id: "owner"}


def test_the_last_member_leaving_leaves_an_empty_room(app: Flask, alice: Member) -> None:
    room = make_room(alice, "general")
    assert alice.post(room_url(room["id"], "/leave")).status_code == 204
    with app.app_context():
        assert db.session.get(Room, room["id"]) is not None
    assert alice.get(room_url(room["id"])).get_json()["member_count"] == 0


# --- members and invites ---------------------------------------------------------------


def test_members_lists_everyone_in_join_order(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    response = carol.get(room_url(room["id"], "/members"))
    assert response.status_code == 200
    members = response.get_json()["members"]
    assert [m["user"]["username"] for m in members] == ["alice", "bob", "carol"]
    assert [m["role"] for m in members] == ["owner", "member", "member"]
    assert all(m["banned"] is False and m["muted_until"] is None for m in members)


def test_only_moderators_see_banned_members(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert set(member_roles(carol, room["id"])) == {alice.id, carol.id}
    assert set(member_roles(alice, room["id"])) == {alice.id, bob.id, carol.id}


def test_a_global_moderator_outside_the_room_sees_banned_members(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    members = mod.get(room_url(room["id"], "/members")).get_json()["members"]
    assert {m["user"]["id"]: m["banned"] for m in members} == {alice.id: False, bob.id: True}


def test_members_of_a_private_room_are_hidden_from_outsiders(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert_error(bob.get(room_url(room["id"], "/members")), 404, "not_found")


def test_invite_adds_a_user_201_then_200(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    first = alice.post(room_url(room["id"], "/members"), json={"user_id": bob.id})
    assert first.status_code == 201
    assert first.get_json()["user"]["id"] == bob.id
    assert first.get_json()["role"] == "member"
    again = alice.post(room_url(room["id"], "/members"), json={"user_id": bob.id})
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert room["id"] in my_rooms(bob)


def test_any_member_may_invite(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "hideout", kind="private")
    alice.post(room_url(room["id"], "/members"), json={"user_id": bob.id})
    assert bob.post(room_url(room["id"], "/members"), json={"user_id": carol.id}).status_code == 201


def test_inviting_a_banned_user_is_forbidden(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert_error(
        alice.post(room_url(room["id"], "/members"), json={"user_id": bob.id}), 403, "banned"
    )
    row = membership_row(app, room["id"], bob.id)
    assert row is not None and row.banned is True


def test_inviting_an_unknown_user_is_not_found(alice: Member) -> None:
    room = make_room(alice, "general")
    assert_error(alice.post(room_url(room["id"], "/members"), json={"user_id": 99999}), 404)


def test_outsiders_may_not_invite(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    public = make_room(alice, "general")
    private = make_room(alice, "hideout", kind="private")
    body = {"user_id": carol.id}
    assert_error(bob.post(room_url(public["id"], "/members"), json=body), 403, "not_a_member")
    assert_error(bob.post(room_url(private["id"], "/members"), json=body), 404, "not_found")


def test_nobody_may_be_invited_into_a_direct_room(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    body = {"user_id": carol.id}
    assert_error(alice.post(room_url(dm["id"], "/members"), json=body), 403, "direct_room")


def test_nobody_may_be_invited_into_an_archived_room(alice: Member, bob: Member) -> None:
    room = make_room(alice, "old")
    alice.patch(room_url(room["id"]), json={"archived": True})
    body = {"user_id": bob.id}
    assert_error(alice.post(room_url(room["id"], "/members"), json=body), 403, "archived")


# --- POST /dm --------------------------------------------------------------------------


def test_dm_creates_a_direct_room_then_returns_it_from_either_side(
    app: Flask, alice: Member, bob: Member
) -> None:
    first = alice.post(f"{API}/dm", json={"user_id": bob.id})
    assert first.status_code == 201
    room = first.get_json()
    assert room["kind"] == "direct"
    assert room["member_count"] == 2
    again = alice.post(f"{API}/dm", json={"user_id": bob.id})
    assert again.status_code == 200
    assert again.get_json()["id"] == room["id"]
    other_side = bob.post(f"{API}/dm", json={"user_id": alice.id})
    assert other_side.status_code == 200
    assert other_side.get_json()["id"] == room["id"]
    with app.app_context():
        rooms = db.session.scalars(sa.select(Room)).all()
        assert [(r.kind, r.direct_key) for r in rooms] == [
            ("direct", f"{min(alice.id, bob.id)}:{max(alice.id, bob.id)}")
        ]
        roles = db.session.scalars(
            sa.select(Membership.role).where(Membership.room_id == room["id"])
        ).all()
        assert sorted(roles) == ["member", "member"]


def test_dm_with_myself_is_a_bad_request(alice: Member) -> None:
    assert_error(alice.post(f"{API}/dm", json={"user_id": alice.id}), 400, "self_direct")


def test_dm_with_an_unknown_user_is_not_found(alice: Member) -> None:
    assert_error(alice.post(f"{API}/dm", json={"user_id": 987654}), 404, "not_found")


def test_dm_is_private_to_its_two_members(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    assert_error(carol.get(room_url(dm["id"])), 404)
    assert_error(carol.post(room_url(dm["id"], "/join")), 404)
    assert_error(carol.get(room_url(dm["id"], "/messages")), 404)


# --- moderation: roles -----------------------------------------------------------------


def test_owner_makes_a_member_moderator(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = alice.patch(member_url(room["id"], bob.id), json={"role": "moderator"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "moderator"
    row = membership_row(app, room["id"], bob.id)
    assert row is not None and row.role == "moderator"


def test_room_moderator_may_not_change_roles(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    response = bob.patch(member_url(room["id"], carol.id), json={"role": "moderator"})
    assert_error(response, 403, "not_an_owner")


def test_plain_member_may_not_change_roles(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    assert_error(bob.patch(member_url(room["id"], bob.id), json={"role": "owner"}), 403)


def test_global_moderator_may_change_roles(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = mod.patch(member_url(room["id"], bob.id), json={"role": "owner"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "owner"


def test_an_owner_stepping_down_hands_over_ownership(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = alice.patch(member_url(room["id"], alice.id), json={"role": "member"})
    assert response.status_code == 200
    assert member_roles(alice, room["id"]) == {alice.id: "member", bob.id: "owner"}


def test_changing_the_role_of_a_non_member_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    assert_error(alice.patch(member_url(room["id"], bob.id), json={"role": "moderator"}), 404)


def test_an_unknown_role_is_a_validation_error(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = alice.patch(member_url(room["id"], bob.id), json={"role": "admin"})
    assert_error(response, 422, "validation_error")


# --- moderation: remove ----------------------------------------------------------------


def test_room_moderator_removes_a_member(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    response = bob.delete(member_url(room["id"], carol.id))
    assert response.status_code == 204
    assert membership_row(app, room["id"], carol.id) is None
    # removal is not a ban: a public room can be joined again
    assert carol.post(room_url(room["id"], "/join")).status_code == 201


def test_room_moderator_may_not_remove_the_owner_or_another_moderator(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    set_room_role(alice, room["id"], carol.id, "moderator")
    assert_error(bob.delete(member_url(room["id"], alice.id)), 403, "insufficient_rank")
    assert_error(bob.delete(member_url(room["id"], carol.id)), 403, "insufficient_rank")
    assert membership_row(app, room["id"], carol.id) is not None


def test_nobody_may_moderate_themselves(alice: Member) -> None:
    room = make_room(alice, "general")
    assert_error(alice.delete(member_url(room["id"], alice.id)), 403, "self_moderation")
    response = alice.post(member_url(room["id"], alice.id, "/mute"), json={"minutes": 5})
    assert_error(response, 403, "self_moderation")
    assert_error(alice.post(member_url(room["id"], alice.id, "/ban")), 403, "self_moderation")


def test_owner_removes_a_moderator(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    assert alice.delete(member_url(room["id"], bob.id)).status_code == 204


def test_owner_may_not_remove_another_owner(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "owner")
    assert_error(alice.delete(member_url(room["id"], bob.id)), 403, "insufficient_rank")


def test_global_moderator_outranks_the_owner(
    app: Flask, alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    assert mod.delete(member_url(room["id"], alice.id)).status_code == 204
    assert membership_row(app, room["id"], alice.id) is None


def test_plain_member_may_not_moderate(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    assert_error(bob.delete(member_url(room["id"], carol.id)), 403, "not_a_moderator")
    response = bob.post(member_url(room["id"], carol.id, "/mute"), json={"minutes": 5})
    assert_error(response, 403, "not_a_moderator")
    assert_error(bob.post(member_url(room["id"], carol.id, "/ban")), 403, "not_a_moderator")
    row = membership_row(app, room["id"], carol.id)
    assert row is not None and row.muted_until is None and row.banned is False


def test_removing_someone_not_in_the_room_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    assert_error(alice.delete(member_url(room["id"], bob.id)), 404, "not_found")


def test_nobody_may_moderate_a_direct_room(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    assert_error(alice.delete(member_url(dm["id"], bob.id)), 403, "not_a_moderator")
    # a global moderator is not even told the direct room exists
    assert_error(mod.post(member_url(dm["id"], bob.id, "/ban")), 404)


# --- moderation: mute ------------------------------------------------------------------


def test_muted_member_cannot_post_until_unmuted(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    before = datetime.now(UTC)
    response = alice.post(member_url(room["id"], bob.id, "/mute"), json={"minutes": 10})
    assert response.status_code == 200
    muted_until = datetime.fromisoformat(response.get_json()["muted_until"])
    assert (
        before + timedelta(minutes=10) <= muted_until <= datetime.now(UTC) + timedelta(minutes=10)
    )
    error = assert_error(send(bob, room["id"], "hello?"), 403, "muted")
    assert error["details"]["muted_until"] is not None

    response = alice.delete(member_url(room["id"], bob.id, "/mute"))
    assert response.status_code == 200
    assert response.get_json()["muted_until"] is None
    row = membership_row(app, room["id"], bob.id)
    assert row is not None and row.muted_until is None
    assert send(bob, room["id"], "hello!").status_code == 201


def test_an_expired_mute_no_longer_blocks_posting(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    with app.app_context():
        row = db.session.get_one(Membership, (room["id"], bob.id))
        row.muted_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert send(bob, room["id"], "free").status_code == 201


@pytest.mark.parametrize("minutes", [0, -1, 366 * 24 * 60 + 1, "5", None])
def test_mute_minutes_out_of_range_is_a_validation_error(
    alice: Member, bob: Member, minutes: int | str | None
) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = alice.post(member_url(room["id"], bob.id, "/mute"), json={"minutes": minutes})
    assert_error(response, 422, "validation_error")


def test_room_moderator_may_not_mute_the_owner(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    response = bob.post(member_url(room["id"], alice.id, "/mute"), json={"minutes": 5})
    assert_error(response, 403, "insufficient_rank")


def test_room_owner_may_not_mute_a_global_moderator(
    alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    join(mod, room["id"])
    response = alice.post(member_url(room["id"], mod.id, "/mute"), json={"minutes": 5})
    assert_error(response, 403, "insufficient_rank")


def test_an_administrator_outranks_a_global_moderator_but_not_the_reverse(
    alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    admin = make_user("root", role="Administrator")
    room = make_room(alice, "general")
    join(mod, room["id"])
    join(admin, room["id"])
    refused = mod.post(member_url(room["id"], admin.id, "/mute"), json={"minutes": 5})
    assert_error(refused, 403, "insufficient_rank")
    allowed = admin.post(member_url(room["id"], mod.id, "/mute"), json={"minutes": 5})
    assert allowed.status_code == 200


# --- moderation: ban -------------------------------------------------------------------


def test_banned_member_loses_reading_posting_and_joining(
    app: Flask, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    response = alice.post(member_url(room["id"], bob.id, "/ban"))
    assert response.status_code == 200
    assert response.get_json()["banned"] is True
    assert response.get_json()["role"] == "member"
    assert_error(send(bob, room["id"], "hi"), 403, "banned")
    assert_error(bob.get(room_url(room["id"], "/messages")), 403, "banned")
    assert_error(bob.post(room_url(room["id"], "/join")), 403, "banned")
    assert alice.get(room_url(room["id"])).get_json()["member_count"] == 1


def test_ban_strips_a_moderators_room_role(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    alice.post(member_url(room["id"], bob.id, "/ban"))
    row = membership_row(app, room["id"], bob.id)
    assert row is not None and (row.banned, row.role) == (True, "member")


def test_banning_twice_is_harmless(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    again = alice.post(member_url(room["id"], bob.id, "/ban"))
    assert again.status_code == 200
    assert again.get_json()["banned"] is True


def test_ban_a_non_member_of_a_public_room_keeps_them_out(
    app: Flask, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    response = alice.post(member_url(room["id"], bob.id, "/ban"))
    assert response.status_code == 200
    assert response.get_json()["banned"] is True
    assert_error(bob.post(room_url(room["id"], "/join")), 403, "banned")


def test_a_global_moderator_outside_the_room_may_not_ban_themselves(
    app: Flask, alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    assert_error(mod.post(member_url(room["id"], mod.id, "/ban")), 403, "self_moderation")
    assert membership_row(app, room["id"], mod.id) is None
    assert mod.post(room_url(room["id"], "/join")).status_code == 201


def test_ban_an_unknown_user_is_not_found(alice: Member) -> None:
    room = make_room(alice, "general")
    assert_error(alice.post(member_url(room["id"], 987654, "/ban")), 404)


def test_ban_a_non_member_of_a_private_room_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert_error(alice.post(member_url(room["id"], bob.id, "/ban")), 404, "not_found")


def test_unban_lets_the_user_join_again(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    response = alice.delete(member_url(room["id"], bob.id, "/ban"))
    assert response.status_code == 204
    assert membership_row(app, room["id"], bob.id) is None
    assert bob.post(room_url(room["id"], "/join")).status_code == 201


def test_unban_of_someone_not_banned_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    assert_error(alice.delete(member_url(room["id"], bob.id, "/ban")), 404, "not_found")


def test_plain_member_may_not_unban(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    join(bob, room["id"])
    join(carol, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert_error(carol.delete(member_url(room["id"], bob.id, "/ban")), 403, "not_a_moderator")


def test_removing_a_banned_user_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    alice.post(member_url(room["id"], bob.id, "/ban"))
    assert_error(alice.delete(member_url(room["id"], bob.id)), 404, "not_found")
