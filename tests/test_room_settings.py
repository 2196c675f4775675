"""Room settings the page offers: making a room private or public (owners and
administrators), and what the member list tells the page (rank, whether a member has
opened the room yet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from parley.events import Event
from parley.extensions import db
from parley.models import Room
from support import Member, assert_error, make_room, send

API = "/api/v1"


def room_url(room_id: int, rest: str = "") -> str:
    return f"{API}/rooms/{room_id}{rest}"


def join(member: Member, room_id: int) -> None:
    assert member.post(room_url(room_id, "/join")).status_code == 201


def set_room_role(owner: Member, room_id: int, user_id: int, role: str) -> None:
    response = owner.patch(room_url(room_id, f"/members/{user_id}"), json={"role": role})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def heard(app: Flask) -> list[Event]:
    """Every event the bus publishes during the test."""
    events: list[Event] = []
    app.extensions["parley.bus"].subscribe(events.append)
    return events


def stored_kind(app: Flask, room_id: int) -> str:
    with app.app_context():
        return db.session.get_one(Room, room_id).kind


# --- kind ----------------------------------------------------------------------------


def test_owner_makes_a_public_room_private_and_outsiders_lose_it(
    app: Flask, alice: Member, bob: Member, heard: list[Event]
) -> None:
    room = make_room(alice, "general")
    assert send(alice, room["id"], "hello").status_code == 201
    assert bob.get(room_url(room["id"], "/messages")).status_code == 200
    response = alice.patch(room_url(room["id"]), json={"kind": "private"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["kind"] == "private"
    assert stored_kind(app, room["id"]) == "private"
    assert_error(bob.get(room_url(room["id"], "/messages")), 404)
    assert_error(bob.get(room_url(room["id"])), 404)
    directory = bob.get(f"{API}/rooms/directory").get_json()["rooms"]
    assert room["id"] not in [r["id"] for r in directory]
    updates = [e for e in heard if e.type == "room:update"]
    assert [e.payload["room"]["kind"] for e in updates] == ["private"]
    assert updates[0].room_id == room["id"]


def test_owner_makes_a_private_room_public_and_outsiders_may_join(
    app: Flask, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert_error(bob.post(room_url(room["id"], "/join")), 404)
    response = alice.patch(room_url(room["id"]), json={"kind": "public"})
    assert response.status_code == 200
    assert stored_kind(app, room["id"]) == "public"
    assert bob.post(room_url(room["id"], "/join")).status_code == 201


def test_an_administrator_outside_the_room_may_change_its_kind(
    app: Flask, alice: Member, make_user: Callable[..., Member]
) -> None:
    admin = make_user("root", role="Administrator")
    room = make_room(alice, "general")
    assert admin.patch(room_url(room["id"]), json={"kind": "private"}).status_code == 200
    assert stored_kind(app, room["id"]) == "private"


def test_a_room_moderator_may_not_change_the_kind(
    app: Flask, alice: Member, bob: Member, heard: list[Event]
) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    refused = bob.patch(room_url(room["id"]), json={"kind": "private", "topic": "mine"})
    assert_error(refused, 403, "not_an_owner")
    assert stored_kind(app, room["id"]) == "public"
    assert bob.get(room_url(room["id"])).get_json()["topic"] == ""
    assert not [e for e in heard if e.type == "room:update"]


def test_a_global_moderator_who_is_no_owner_may_not_change_the_kind(
    app: Flask, alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    room = make_room(alice, "general")
    assert_error(mod.patch(room_url(room["id"]), json={"kind": "private"}), 403, "not_an_owner")
    assert stored_kind(app, room["id"]) == "public"


def test_a_plain_member_may_not_change_the_kind(app: Flask, alice: Member, bob: Member) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    assert_error(bob.patch(room_url(room["id"]), json={"kind": "private"}), 403, "not_a_moderator")
    assert stored_kind(app, room["id"]) == "public"


def test_a_direct_room_never_changes_kind(app: Flask, alice: Member, bob: Member) -> None:
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    assert_error(alice.patch(room_url(dm["id"]), json={"kind": "public"}), 403, "not_a_moderator")
    assert stored_kind(app, dm["id"]) == "direct"


@pytest.mark.parametrize("kind", ["direct", "secret", "", 1, None])
def test_a_kind_other_than_public_or_private_is_refused(
    app: Flask, alice: Member, kind: Any
) -> None:
    room = make_room(alice, "general")
    response = alice.patch(room_url(room["id"]), json={"kind": kind})
    if kind is None:
        # null means "leave it", as for every field of the update
        assert response.status_code == 200
    else:
        assert_error(response, 422)
    assert stored_kind(app, room["id"]) == "public"


def test_setting_the_kind_it_already_has_is_allowed_for_moderators(
    alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    set_room_role(alice, room["id"], bob.id, "moderator")
    # The page's settings form sends the kind with every save; a moderator keeps it.
    response = bob.patch(room_url(room["id"]), json={"kind": "public", "topic": "tidied"})
    assert response.status_code == 200
    assert response.get_json()["topic"] == "tidied"


# --- what the member list tells the page ------------------------------------------------


def members_by_name(member: Member, room_id: int) -> dict[str, dict[str, Any]]:
    response = member.get(room_url(room_id, "/members"))
    assert response.status_code == 200
    return {m["user"]["username"]: m for m in response.get_json()["members"]}


def test_members_carry_their_moderation_rank(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    mod = make_user("mod", role="Moderator")
    admin = make_user("root", role="Administrator")
    room = make_room(alice, "general")
    for member in (bob, carol, mod, admin):
        join(member, room["id"])
    set_room_role(alice, room["id"], carol.id, "moderator")
    ranks = {name: m["rank"] for name, m in members_by_name(bob, room["id"]).items()}
    assert ranks == {"alice": 2, "bob": 0, "carol": 1, "mod": 3, "root": 4}


def test_an_invited_member_is_unseen_until_they_read_the_room(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    message = send(alice, room["id"], "welcome").get_json()
    assert alice.post(room_url(room["id"], "/members"), json={"user_id": bob.id}).status_code == 201
    members = members_by_name(alice, room["id"])
    assert members["alice"]["seen"] is True
    assert members["bob"]["seen"] is False
    read = bob.post(room_url(room["id"], "/read"), json={"message_id": message["id"]})
    assert read.status_code == 200, read.get_json()
    assert members_by_name(alice, room["id"])["bob"]["seen"] is True


# --- who deleted a message --------------------------------------------------------------


def history(member: Member, room_id: int) -> dict[int, dict[str, Any]]:
    response = member.get(room_url(room_id, "/messages"))
    assert response.status_code == 200
    return {m["id"]: m for m in response.get_json()["messages"]}


def test_a_message_deleted_by_a_moderator_says_so_and_one_by_its_author_says_that(
    alice: Member, bob: Member, heard: list[Event]
) -> None:
    room = make_room(alice, "general")
    join(bob, room["id"])
    by_author = send(bob, room["id"], "oops").get_json()
    by_moderator = send(bob, room["id"], "rude").get_json()
    kept = send(bob, room["id"], "fine").get_json()
    assert by_author["deleted_by"] is None
    assert bob.delete(f"{API}/messages/{by_author['id']}").status_code == 200
    answer = alice.delete(f"{API}/messages/{by_moderator['id']}")
    assert answer.status_code == 200
    assert answer.get_json()["deleted_by"] == "moderator"
    seen = history(bob, room["id"])
    assert seen[by_author["id"]]["deleted_by"] == "author"
    assert seen[by_moderator["id"]]["deleted_by"] == "moderator"
    assert seen[kept["id"]]["deleted_by"] is None
    deletes = [e.payload["message"] for e in heard if e.type == "message:delete"]
    assert [(m["id"], m["deleted_by"]) for m in deletes] == [
        (by_author["id"], "author"),
        (by_moderator["id"], "moderator"),
    ]


def test_a_moderator_deleting_their_own_message_deletes_it_as_its_author(alice: Member) -> None:
    room = make_room(alice, "general")
    mine = send(alice, room["id"], "draft").get_json()
    answer = alice.delete(f"{API}/messages/{mine['id']}")
    assert answer.get_json()["deleted_by"] == "author"
