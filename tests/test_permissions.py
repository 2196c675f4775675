"""The permission matrix: every room action, tried by every kind of actor, in a public
and in a private room, over the REST API against a real database.

The expected outcomes are one explicit table, EXPECTED, keyed by (action, actor, room
kind). Each case builds only the state it needs (the room, its owner, the actor in their
state, and a plain member, a message or a user to invite when the action needs one), so
every case stands alone.

The actors:
- anonymous: sends no token.
- non_member: an ordinary user who is not in the room.
- member: an ordinary member (invited by the owner).
- muted: a member the owner muted (POST /rooms/{id}/members/{uid}/mute).
- banned: a member the owner banned (POST /rooms/{id}/members/{uid}/ban).
- room_moderator: a member the owner made a moderator (PATCH /rooms/{id}/members/{uid}).
- room_owner: the room's creator.
- global_moderator: role "Moderator", not a member of the room.
- administrator: role "Administrator", not a member of the room.
- deactivated: a member an administrator deactivated; their old token is dead.

Edit-own-message is tried only by actors who could have written a message in the room
(its author posts it first, then gets their state); anonymous tries to edit the owner's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from support import Member, assert_error, make_room, send

API = "/api/v1"
PUBLIC, PRIVATE = "public", "private"

Outcome = int | tuple[int, str]

OK, CREATED = 200, 201
UNAUTHENTICATED = (401, "unauthorized")
TOKEN_REVOKED = (401, "invalid_token")
HIDDEN = (404, "not_found")
BANNED = (403, "banned")
MUTED = (403, "muted")
NOT_A_MEMBER = (403, "not_a_member")
NOT_A_MODERATOR = (403, "not_a_moderator")
NOT_THE_AUTHOR = (403, "not_the_author")

# (action, actor, room kind) -> the status, or (status, error code), the actor gets.
EXPECTED: dict[tuple[str, str, str], Outcome] = {
    # view_room
    ("view_room", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("view_room", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("view_room", "non_member", PUBLIC): OK,
    ("view_room", "non_member", PRIVATE): HIDDEN,
    ("view_room", "member", PUBLIC): OK,
    ("view_room", "member", PRIVATE): OK,
    ("view_room", "muted", PUBLIC): OK,
    ("view_room", "muted", PRIVATE): OK,
    ("view_room", "banned", PUBLIC): BANNED,
    ("view_room", "banned", PRIVATE): BANNED,
    ("view_room", "room_moderator", PUBLIC): OK,
    ("view_room", "room_moderator", PRIVATE): OK,
    ("view_room", "room_owner", PUBLIC): OK,
    ("view_room", "room_owner", PRIVATE): OK,
    ("view_room", "global_moderator", PUBLIC): OK,
    ("view_room", "global_moderator", PRIVATE): HIDDEN,
    ("view_room", "administrator", PUBLIC): OK,
    ("view_room", "administrator", PRIVATE): HIDDEN,
    ("view_room", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("view_room", "deactivated", PRIVATE): TOKEN_REVOKED,
    # read_history
    ("read_history", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("read_history", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("read_history", "non_member", PUBLIC): OK,
    ("read_history", "non_member", PRIVATE): HIDDEN,
    ("read_history", "member", PUBLIC): OK,
    ("read_history", "member", PRIVATE): OK,
    ("read_history", "muted", PUBLIC): OK,
    ("read_history", "muted", PRIVATE): OK,
    ("read_history", "banned", PUBLIC): BANNED,
    ("read_history", "banned", PRIVATE): BANNED,
    ("read_history", "room_moderator", PUBLIC): OK,
    ("read_history", "room_moderator", PRIVATE): OK,
    ("read_history", "room_owner", PUBLIC): OK,
    ("read_history", "room_owner", PRIVATE): OK,
    ("read_history", "global_moderator", PUBLIC): OK,
    ("read_history", "global_moderator", PRIVATE): HIDDEN,
    ("read_history", "administrator", PUBLIC): OK,
    ("read_history", "administrator", PRIVATE): HIDDEN,
    ("read_history", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("read_history", "deactivated", PRIVATE): TOKEN_REVOKED,
    # list_members
    ("list_members", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("list_members", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("list_members", "non_member", PUBLIC): OK,
    ("list_members", "non_member", PRIVATE): HIDDEN,
    ("list_members", "member", PUBLIC): OK,
    ("list_members", "member", PRIVATE): OK,
    ("list_members", "muted", PUBLIC): OK,
    ("list_members", "muted", PRIVATE): OK,
    ("list_members", "banned", PUBLIC): BANNED,
    ("list_members", "banned", PRIVATE): BANNED,
    ("list_members", "room_moderator", PUBLIC): OK,
    ("list_members", "room_moderator", PRIVATE): OK,
    ("list_members", "room_owner", PUBLIC): OK,
    ("list_members", "room_owner", PRIVATE): OK,
    ("list_members", "global_moderator", PUBLIC): OK,
    ("list_members", "global_moderator", PRIVATE): HIDDEN,
    ("list_members", "administrator", PUBLIC): OK,
    ("list_members", "administrator", PRIVATE): HIDDEN,
    ("list_members", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("list_members", "deactivated", PRIVATE): TOKEN_REVOKED,
    # join
    ("join", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("join", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("join", "non_member", PUBLIC): CREATED,
    ("join", "non_member", PRIVATE): HIDDEN,
    ("join", "member", PUBLIC): OK,
    ("join", "member", PRIVATE): OK,
    ("join", "muted", PUBLIC): OK,
    ("join", "muted", PRIVATE): OK,
    ("join", "banned", PUBLIC): BANNED,
    ("join", "banned", PRIVATE): BANNED,
    ("join", "room_moderator", PUBLIC): OK,
    ("join", "room_moderator", PRIVATE): OK,
    ("join", "room_owner", PUBLIC): OK,
    ("join", "room_owner", PRIVATE): OK,
    ("join", "global_moderator", PUBLIC): CREATED,
    ("join", "global_moderator", PRIVATE): HIDDEN,
    ("join", "administrator", PUBLIC): CREATED,
    ("join", "administrator", PRIVATE): HIDDEN,
    ("join", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("join", "deactivated", PRIVATE): TOKEN_REVOKED,
    # post_message
    ("post_message", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("post_message", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("post_message", "non_member", PUBLIC): NOT_A_MEMBER,
    ("post_message", "non_member", PRIVATE): HIDDEN,
    ("post_message", "member", PUBLIC): CREATED,
    ("post_message", "member", PRIVATE): CREATED,
    ("post_message", "muted", PUBLIC): MUTED,
    ("post_message", "muted", PRIVATE): MUTED,
    ("post_message", "banned", PUBLIC): BANNED,
    ("post_message", "banned", PRIVATE): BANNED,
    ("post_message", "room_moderator", PUBLIC): CREATED,
    ("post_message", "room_moderator", PRIVATE): CREATED,
    ("post_message", "room_owner", PUBLIC): CREATED,
    ("post_message", "room_owner", PRIVATE): CREATED,
    ("post_message", "global_moderator", PUBLIC): NOT_A_MEMBER,
    ("post_message", "global_moderator", PRIVATE): HIDDEN,
    ("post_message", "administrator", PUBLIC): NOT_A_MEMBER,
    ("post_message", "administrator", PRIVATE): HIDDEN,
    ("post_message", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("post_message", "deactivated", PRIVATE): TOKEN_REVOKED,
    # edit_own_message
    ("edit_own_message", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("edit_own_message", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("edit_own_message", "member", PUBLIC): OK,
    ("edit_own_message", "member", PRIVATE): OK,
    ("edit_own_message", "muted", PUBLIC): MUTED,
    ("edit_own_message", "muted", PRIVATE): MUTED,
    ("edit_own_message", "banned", PUBLIC): BANNED,
    ("edit_own_message", "banned", PRIVATE): BANNED,
    ("edit_own_message", "room_moderator", PUBLIC): OK,
    ("edit_own_message", "room_moderator", PRIVATE): OK,
    ("edit_own_message", "room_owner", PUBLIC): OK,
    ("edit_own_message", "room_owner", PRIVATE): OK,
    ("edit_own_message", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("edit_own_message", "deactivated", PRIVATE): TOKEN_REVOKED,
    # delete_others_message
    ("delete_others_message", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("delete_others_message", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("delete_others_message", "non_member", PUBLIC): NOT_THE_AUTHOR,
    ("delete_others_message", "non_member", PRIVATE): HIDDEN,
    ("delete_others_message", "member", PUBLIC): NOT_THE_AUTHOR,
    ("delete_others_message", "member", PRIVATE): NOT_THE_AUTHOR,
    ("delete_others_message", "muted", PUBLIC): NOT_THE_AUTHOR,
    ("delete_others_message", "muted", PRIVATE): NOT_THE_AUTHOR,
    ("delete_others_message", "banned", PUBLIC): BANNED,
    ("delete_others_message", "banned", PRIVATE): BANNED,
    ("delete_others_message", "room_moderator", PUBLIC): OK,
    ("delete_others_message", "room_moderator", PRIVATE): OK,
    ("delete_others_message", "room_owner", PUBLIC): OK,
    ("delete_others_message", "room_owner", PRIVATE): OK,
    ("delete_others_message", "global_moderator", PUBLIC): OK,
    ("delete_others_message", "global_moderator", PRIVATE): HIDDEN,
    ("delete_others_message", "administrator", PUBLIC): OK,
    ("delete_others_message", "administrator", PRIVATE): HIDDEN,
    ("delete_others_message", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("delete_others_message", "deactivated", PRIVATE): TOKEN_REVOKED,
    # update_room
    ("update_room", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("update_room", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("update_room", "non_member", PUBLIC): NOT_A_MODERATOR,
    ("update_room", "non_member", PRIVATE): HIDDEN,
    ("update_room", "member", PUBLIC): NOT_A_MODERATOR,
    ("update_room", "member", PRIVATE): NOT_A_MODERATOR,
    ("update_room", "muted", PUBLIC): NOT_A_MODERATOR,
    ("update_room", "muted", PRIVATE): NOT_A_MODERATOR,
    ("update_room", "banned", PUBLIC): BANNED,
    ("update_room", "banned", PRIVATE): BANNED,
    ("update_room", "room_moderator", PUBLIC): OK,
    ("update_room", "room_moderator", PRIVATE): OK,
    ("update_room", "room_owner", PUBLIC): OK,
    ("update_room", "room_owner", PRIVATE): OK,
    ("update_room", "global_moderator", PUBLIC): OK,
    ("update_room", "global_moderator", PRIVATE): HIDDEN,
    ("update_room", "administrator", PUBLIC): OK,
    ("update_room", "administrator", PRIVATE): HIDDEN,
    ("update_room", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("update_room", "deactivated", PRIVATE): TOKEN_REVOKED,
    # invite
    ("invite", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("invite", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("invite", "non_member", PUBLIC): NOT_A_MEMBER,
    ("invite", "non_member", PRIVATE): HIDDEN,
    ("invite", "member", PUBLIC): CREATED,
    ("invite", "member", PRIVATE): CREATED,
    ("invite", "muted", PUBLIC): CREATED,
    ("invite", "muted", PRIVATE): CREATED,
    ("invite", "banned", PUBLIC): BANNED,
    ("invite", "banned", PRIVATE): BANNED,
    ("invite", "room_moderator", PUBLIC): CREATED,
    ("invite", "room_moderator", PRIVATE): CREATED,
    ("invite", "room_owner", PUBLIC): CREATED,
    ("invite", "room_owner", PRIVATE): CREATED,
    ("invite", "global_moderator", PUBLIC): NOT_A_MEMBER,
    ("invite", "global_moderator", PRIVATE): HIDDEN,
    ("invite", "administrator", PUBLIC): NOT_A_MEMBER,
    ("invite", "administrator", PRIVATE): HIDDEN,
    ("invite", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("invite", "deactivated", PRIVATE): TOKEN_REVOKED,
    # mark_read
    ("mark_read", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("mark_read", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("mark_read", "non_member", PUBLIC): NOT_A_MEMBER,
    ("mark_read", "non_member", PRIVATE): HIDDEN,
    ("mark_read", "member", PUBLIC): OK,
    ("mark_read", "member", PRIVATE): OK,
    ("mark_read", "muted", PUBLIC): OK,
    ("mark_read", "muted", PRIVATE): OK,
    ("mark_read", "banned", PUBLIC): BANNED,
    ("mark_read", "banned", PRIVATE): BANNED,
    ("mark_read", "room_moderator", PUBLIC): OK,
    ("mark_read", "room_moderator", PRIVATE): OK,
    ("mark_read", "room_owner", PUBLIC): OK,
    ("mark_read", "room_owner", PRIVATE): OK,
    ("mark_read", "global_moderator", PUBLIC): NOT_A_MEMBER,
    ("mark_read", "global_moderator", PRIVATE): HIDDEN,
    ("mark_read", "administrator", PUBLIC): NOT_A_MEMBER,
    ("mark_read", "administrator", PRIVATE): HIDDEN,
    ("mark_read", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("mark_read", "deactivated", PRIVATE): TOKEN_REVOKED,
    # search_room
    ("search_room", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("search_room", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("search_room", "non_member", PUBLIC): OK,
    ("search_room", "non_member", PRIVATE): HIDDEN,
    ("search_room", "member", PUBLIC): OK,
    ("search_room", "member", PRIVATE): OK,
    ("search_room", "muted", PUBLIC): OK,
    ("search_room", "muted", PRIVATE): OK,
    ("search_room", "banned", PUBLIC): BANNED,
    ("search_room", "banned", PRIVATE): BANNED,
    ("search_room", "room_moderator", PUBLIC): OK,
    ("search_room", "room_moderator", PRIVATE): OK,
    ("search_room", "room_owner", PUBLIC): OK,
    ("search_room", "room_owner", PRIVATE): OK,
    ("search_room", "global_moderator", PUBLIC): OK,
    ("search_room", "global_moderator", PRIVATE): HIDDEN,
    ("search_room", "administrator", PUBLIC): OK,
    ("search_room", "administrator", PRIVATE): HIDDEN,
    ("search_room", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("search_room", "deactivated", PRIVATE): TOKEN_REVOKED,
    # mute_member
    ("mute_member", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("mute_member", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("mute_member", "non_member", PUBLIC): NOT_A_MODERATOR,
    ("mute_member", "non_member", PRIVATE): HIDDEN,
    ("mute_member", "member", PUBLIC): NOT_A_MODERATOR,
    ("mute_member", "member", PRIVATE): NOT_A_MODERATOR,
    ("mute_member", "muted", PUBLIC): NOT_A_MODERATOR,
    ("mute_member", "muted", PRIVATE): NOT_A_MODERATOR,
    ("mute_member", "banned", PUBLIC): BANNED,
    ("mute_member", "banned", PRIVATE): BANNED,
    ("mute_member", "room_moderator", PUBLIC): OK,
    ("mute_member", "room_moderator", PRIVATE): OK,
    ("mute_member", "room_owner", PUBLIC): OK,
    ("mute_member", "room_owner", PRIVATE): OK,
    ("mute_member", "global_moderator", PUBLIC): OK,
    ("mute_member", "global_moderator", PRIVATE): HIDDEN,
    ("mute_member", "administrator", PUBLIC): OK,
    ("mute_member", "administrator", PRIVATE): HIDDEN,
    ("mute_member", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("mute_member", "deactivated", PRIVATE): TOKEN_REVOKED,
    # ban_member
    ("ban_member", "anonymous", PUBLIC): UNAUTHENTICATED,
    ("ban_member", "anonymous", PRIVATE): UNAUTHENTICATED,
    ("ban_member", "non_member", PUBLIC): NOT_A_MODERATOR,
    ("ban_member", "non_member", PRIVATE): HIDDEN,
    ("ban_member", "member", PUBLIC): NOT_A_MODERATOR,
    ("ban_member", "member", PRIVATE): NOT_A_MODERATOR,
    ("ban_member", "muted", PUBLIC): NOT_A_MODERATOR,
    ("ban_member", "muted", PRIVATE): NOT_A_MODERATOR,
    ("ban_member", "banned", PUBLIC): BANNED,
    ("ban_member", "banned", PRIVATE): BANNED,
    ("ban_member", "room_moderator", PUBLIC): OK,
    ("ban_member", "room_moderator", PRIVATE): OK,
    ("ban_member", "room_owner", PUBLIC): OK,
    ("ban_member", "room_owner", PRIVATE): OK,
    ("ban_member", "global_moderator", PUBLIC): OK,
    ("ban_member", "global_moderator", PRIVATE): HIDDEN,
    ("ban_member", "administrator", PUBLIC): OK,
    ("ban_member", "administrator", PRIVATE): HIDDEN,
    ("ban_member", "deactivated", PUBLIC): TOKEN_REVOKED,
    ("ban_member", "deactivated", PRIVATE): TOKEN_REVOKED,
}

# Actors the owner adds to the room before they get their state.
IN_THE_ROOM = {"member", "muted", "banned", "room_moderator", "deactivated"}
GLOBAL_ROLES = {"global_moderator": "Moderator", "administrator": "Administrator"}
ACTORS = (
    "anonymous",
    "non_member",
    "member",
    "muted",
    "banned",
    "room_moderator",
    "room_owner",
    "global_moderator",
    "administrator",
    "deactivated",
)
ACTIONS = (
    "view_room",
    "read_history",
    "list_members",
    "join",
    "post_message",
    "edit_own_message",
    "delete_others_message",
    "update_room",
    "invite",
    "mark_read",
    "search_room",
    "mute_member",
    "ban_member",
)
# Only someone who was in the room can have a message of their own there to edit.
NO_OWN_MESSAGE = {"non_member", "global_moderator", "administrator"}


@dataclass
class Scene:
    room_id: int
    owner: Member
    actor: Member | None  # None: anonymous
    plain: Member | None = None  # a plain member: author of the message to delete, target
    guest: Member | None = None  # a user outside the room, to be invited
    message_id: int | None = None  # the message to edit or delete


def room_url(room_id: int, rest: str = "") -> str:
    return f"{API}/rooms/{room_id}{rest}"


def member_url(room_id: int, user_id: int, rest: str = "") -> str:
    return f"{API}/rooms/{room_id}/members/{user_id}{rest}"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def add_to_room(owner: Member, room_id: int, user: Member) -> None:
    ok(owner.post(room_url(room_id, "/members"), json={"user_id": user.id}), 201)


def post(author: Member, room_id: int, body: str) -> int:
    message_id: int = ok(send(author, room_id, body), 201)["id"]
    return message_id


def build_scene(
    make_user: Callable[..., Member], action: str, actor_kind: str, room_kind: str
) -> Scene:
    """The room, its owner, the actor in their state, and whatever the action acts on."""
    owner = make_user("owner")
    room_id = make_room(owner, "lobby", room_kind)["id"]
    scene = Scene(room_id, owner, actor=None)
    if actor_kind == "room_owner":
        scene.actor = owner
    elif actor_kind != "anonymous":
        scene.actor = make_user("actor", role=GLOBAL_ROLES.get(actor_kind))
        if actor_kind in IN_THE_ROOM:
            add_to_room(owner, room_id, scene.actor)

    if action in ("delete_others_message", "mute_member", "ban_member"):
        scene.plain = make_user("plain")
        add_to_room(owner, room_id, scene.plain)
        if action == "delete_others_message":
            scene.message_id = post(scene.plain, room_id, "hello from a plain member")
    elif action == "invite":
        scene.guest = make_user("guest")
    elif action == "edit_own_message":
        scene.message_id = post(scene.actor or owner, room_id, "first draft")

    # The actor's state comes last: they wrote their message before it.
    actor = scene.actor
    if actor_kind == "muted":
        assert actor is not None
        ok(owner.post(member_url(room_id, actor.id, "/mute"), json={"minutes": 60}))
    elif actor_kind == "banned":
        assert actor is not None
        ok(owner.post(member_url(room_id, actor.id, "/ban")))
    elif actor_kind == "room_moderator":
        assert actor is not None
        ok(owner.patch(member_url(room_id, actor.id), json={"role": "moderator"}))
    elif actor_kind == "deactivated":
        assert actor is not None
        admin = make_user("admin", role="Administrator")
        ok(admin.patch(f"{API}/users/{actor.id}", json={"active": False}))
    return scene


def request_for(action: str, scene: Scene) -> tuple[str, str, dict[str, Any] | None]:
    """The one REST call that performs the action: method, path, JSON body."""
    room_id = scene.room_id
    if action == "view_room":
        return "GET", room_url(room_id), None
    if action == "read_history":
        return "GET", room_url(room_id, "/messages"), None
    if action == "list_members":
        return "GET", room_url(room_id, "/members"), None
    if action == "join":
        return "POST", room_url(room_id, "/join"), None
    if action == "post_message":
        return "POST", room_url(room_id, "/messages"), {"body": "hello"}
    if action == "edit_own_message":
        return "PATCH", f"{API}/messages/{scene.message_id}", {"body": "second draft"}
    if action == "delete_others_message":
        return "DELETE", f"{API}/messages/{scene.message_id}", None
    if action == "update_room":
        return "PATCH", room_url(room_id), {"topic": "a new topic"}
    if action == "invite":
        assert scene.guest is not None
        return "POST", room_url(room_id, "/members"), {"user_id": scene.guest.id}
    if action == "mark_read":
        return "POST", room_url(room_id, "/read"), {"message_id": 0}
    if action == "search_room":
        return "GET", f"{API}/search?q=hello&room_id={room_id}", None
    if action == "mute_member":
        assert scene.plain is not None
        return "POST", member_url(room_id, scene.plain.id, "/mute"), {"minutes": 5}
    if action == "ban_member":
        assert scene.plain is not None
        return "POST", member_url(room_id, scene.plain.id, "/ban"), None
    raise AssertionError(f"no request for {action}")


# What the owner sees of the state a write changes, to prove a refused write changed nothing.
WRITE_EFFECTS: dict[str, Callable[[Scene], str]] = {
    "join": lambda scene: room_url(scene.room_id, "/members"),
    "invite": lambda scene: room_url(scene.room_id, "/members"),
    "mute_member": lambda scene: room_url(scene.room_id, "/members"),
    "ban_member": lambda scene: room_url(scene.room_id, "/members"),
    "post_message": lambda scene: room_url(scene.room_id, "/messages"),
    "edit_own_message": lambda scene: room_url(scene.room_id, "/messages"),
    "delete_others_message": lambda scene: room_url(scene.room_id, "/messages"),
    "update_room": lambda scene: room_url(scene.room_id),
}


def cases() -> list[Any]:
    return [
        pytest.param(action, actor, kind, expected, id=f"{kind}-{actor}-{action}")
        for (action, actor, kind), expected in EXPECTED.items()
    ]


def test_the_matrix_has_an_outcome_for_every_action_actor_and_room_kind() -> None:
    wanted = {
        (action, actor, kind)
        for action in ACTIONS
        for actor in ACTORS
        for kind in (PUBLIC, PRIVATE)
        if not (action == "edit_own_message" and actor in NO_OWN_MESSAGE)
    }
    assert set(EXPECTED) == wanted


@pytest.mark.parametrize(("action", "actor_kind", "room_kind", "expected"), cases())
def test_room_action_is_allowed_or_refused_as_the_matrix_says(
    client: FlaskClient,
    make_user: Callable[..., Member],
    action: str,
    actor_kind: str,
    room_kind: str,
    expected: Outcome,
) -> None:
    scene = build_scene(make_user, action, actor_kind, room_kind)
    method, path, body = request_for(action, scene)
    effect_url = WRITE_EFFECTS[action](scene) if action in WRITE_EFFECTS else None
    before = ok(scene.owner.get(effect_url)) if effect_url else None

    if scene.actor is None:
        response = client.open(path, method=method, json=body)
    else:
        response = scene.actor.request(method, path, json=body)

    if isinstance(expected, tuple):
        assert_error(response, *expected)
        if effect_url:
            assert ok(scene.owner.get(effect_url)) == before, "a refused write changed state"
    else:
        assert response.status_code == expected, (response.status_code, response.get_json())
        # Joining a room one is already in is the one allowed write that changes nothing.
        if effect_url and not (action == "join" and expected == OK):
            assert ok(scene.owner.get(effect_url)) != before, "an allowed write changed nothing"
