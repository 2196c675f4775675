"""A world for the authorization matrices: one user per actor, a public, a private and a
direct room, a message in each, and each room live with a frame.

Built straight through the models and actions (no HTTP), so that a cell that destroys
something (a ban, a leave, a logout) can have a world of its own in a few milliseconds.

Actors, and what they are in the rooms:

| actor    | public, private                        | direct                    |
|----------|----------------------------------------|---------------------------|
| anon     | sends no credentials                   | the same                  |
| outsider | not a member                           | not a member              |
| member   | member, author of the room's message   | one of the two, author    |
| muted    | member, muted for an hour              | not a member              |
| banned   | banned                                 | not a member              |
| mod      | room moderator                         | not a member              |
| owner    | room owner, the room's broadcaster     | the other one of the two  |
| admin    | not a member, role Administrator       | not a member              |
| bot      | member, acting with a hand-made token  | not a member              |
| deact    | member, account deactivated            | not a member              |
| revoked  | member, its token revoked              | not a member              |

Two more users are targets, never actors: `victim` (a plain member of the public and
private rooms, whom moderators act on) and `guest` (in no room: invited, DMed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from parley.actions import messages
from parley.actions.tokens import issue_token
from parley.extensions import db
from parley.models import ApiToken, Avatar, Membership, Role, Room, RoomKind, RoomRole, User
from parley.models.types import utcnow
from parley.passwords import hash_password
from parley.presenters import dump, user_public
from parley.schemas.fields import room_name_key, username_key
from parley.video.broadcasts import Broadcast, Broadcasts
from support import PASSWORD, jpeg

ACTORS = (
    "anon",
    "outsider",
    "member",
    "muted",
    "banned",
    "mod",
    "owner",
    "admin",
    "bot",
    "deact",
    "revoked",
)
KINDS = ("public", "private", "direct")
TARGETS = ("victim", "guest")

# The room members of the public and private rooms, and their room role.
ROOM_ROLES = {
    "owner": RoomRole.OWNER,
    "mod": RoomRole.MODERATOR,
    "member": RoomRole.MEMBER,
    "muted": RoomRole.MEMBER,
    "banned": RoomRole.MEMBER,
    "bot": RoomRole.MEMBER,
    "deact": RoomRole.MEMBER,
    "revoked": RoomRole.MEMBER,
    "victim": RoomRole.MEMBER,
}

_worlds = itertools.count(1)
FRAME = jpeg()


@dataclass
class World:
    number: int
    user_ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    rooms: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    # A second, hand-made token of the member's: the target of DELETE /auth/tokens/{id}.
    spare_token_id: int = 0

    def user(self, name: str) -> int:
        return self.user_ids[name]

    def unique(self, stem: str) -> str:
        """A name no other cell uses: for rooms and accounts a cell creates."""
        return f"{stem}{self.number}x{next(_worlds)}"


def build_world(app: Flask, broadcasts: Broadcasts, *, alive: bool = False) -> World:
    """A new world. `alive=True` leaves `deact` active and `revoked`'s token live, for a
    caller that connects their sockets first and then calls `kill`."""
    world = World(next(_worlds))
    n = world.number
    with app.app_context():
        roles = {role.name: role for role in db.session.scalars(sa.select(Role))}
        password_hash = hash_password(PASSWORD)
        users: dict[str, User] = {}
        for name in (*ACTORS[1:], *TARGETS):
            username = f"{name}{n}w"
            users[name] = User(
                username=username,
                username_key=username_key(username),
                display_name=username,
                password_hash=password_hash,
                role=roles["Administrator" if name == "admin" else "User"],
            )
        tokens: dict[str, ApiToken] = {}
        for name, user in users.items():
            kind = "api" if name == "bot" else "login"
            tokens[name], world.tokens[name] = issue_token(user, name, kind)
        spare, _ = issue_token(users["member"], "spare", "api")
        db.session.add_all(users.values())
        db.session.flush()
        # The victim has a profile picture, for GET /users/{user_id}/avatar to find.
        users["victim"].avatar_key = "0123456789abcdef"
        db.session.add(
            Avatar(user_id=users["victim"].id, image=b"RIFF-not-decoded", media_type="image/webp")
        )

        now = utcnow()
        rooms: dict[str, Room] = {}
        for kind in ("public", "private"):
            name = f"{kind}-{n}"
            room = Room(
                name=name, name_key=room_name_key(name), kind=kind, created_by=users["owner"]
            )
            rooms[kind] = room
            for who, role in ROOM_ROLES.items():
                db.session.add(
                    Membership(
                        room=room,
                        user=users[who],
                        role=role,
                        banned=who == "banned",
                        muted_until=now + timedelta(hours=1) if who == "muted" else None,
                    )
                )
        low, high = sorted((users["member"].id, users["owner"].id))
        direct = Room(kind=RoomKind.DIRECT, direct_key=f"{low}:{high}", created_by=users["owner"])
        rooms["direct"] = direct
        for who in ("member", "owner"):
            db.session.add(Membership(room=direct, user=users[who], role=RoomRole.MEMBER))
        db.session.add_all(rooms.values())
        db.session.flush()
        world.user_ids = {name: user.id for name, user in users.items()}
        world.token_ids = {name: token.id for name, token in tokens.items()}
        world.spare_token_id = spare.id
        world.rooms = {kind: room.id for kind, room in rooms.items()}
        owner_id = users["owner"].id
        publisher = dump(user_public(users["owner"]))
        db.session.commit()

        member = users["member"]
        for kind, room_id in world.rooms.items():
            message, _, _ = messages.send_message(member, room_id, f"hello {kind}")
            world.messages[kind] = message.id
            broadcast = Broadcast(room_id, owner_id, publisher, 64, 48, 10, utcnow())
            broadcasts.add(broadcast)
            broadcast.hub.publish(FRAME)
        db.session.remove()
    if not alive:
        kill(app, world)
    return world


def kill(app: Flask, world: World) -> None:
    """Deactivate `deact` and revoke `revoked`'s token, straight in the database: what
    another process's change looks like to this one before any event of it arrives."""
    with app.app_context():
        user = db.session.get(User, world.user("deact"))
        assert user is not None
        user.active = False
        db.session.execute(sa.delete(ApiToken).where(ApiToken.id == world.token_ids["revoked"]))
        db.session.commit()
        db.session.remove()
    app.extensions["parley.access_cache"].invalidate()


def module_broadcasts(app: Flask) -> Iterator[Broadcasts]:
    """The app's broadcasts for one matrix module alone, ended when it is done (the body
    of each module's `broadcasts_of_module` fixture)."""
    kept = app.extensions["parley.video"]
    fresh = app.extensions["parley.video"] = Broadcasts()
    yield fresh
    for room_id in fresh.live_room_ids():
        fresh.remove(room_id)
    app.extensions["parley.video"] = kept
