"""Who may do what: the one place authorization is decided, for every transport."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from werkzeug.exceptions import NotFound as NoSuchPath

from ..errors import Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..models import Membership, Permission, Room, RoomKind, RoomRole, User
from ..models.types import utcnow
from ..store.access_cache import PostingRights, access_cache

# Higher outranks lower; a global moderator outranks every room role, and an
# administrator outranks a global moderator.
RANK = {RoomRole.MEMBER: 0, RoomRole.MODERATOR: 1, RoomRole.OWNER: 2}
GLOBAL_MODERATOR_RANK = 3
ADMINISTRATOR_RANK = 4


def require_active(actor: User | None) -> User:
    if actor is None or not actor.active:
        raise Unauthorized()
    return actor


def require_permission(actor: User, permission: Permission) -> None:
    require_active(actor)
    if not actor.can(permission):
        raise Forbidden(
            f"Your role does not have the {permission.name} permission.",
            code="missing_permission",
            details={"permission": permission.name},
        )


def require_administrator(actor: User) -> User:
    """The administration's routes answer anyone but an administrator exactly what a path
    that does not exist answers, so they do not tell that they are there."""
    require_active(actor)
    if not actor.can(Permission.ADMIN):
        raise NotFound(NoSuchPath.description)
    return actor


def administered_room(actor: User, room_id: int) -> Room:
    """Any room but a direct one, for an administrator, whether or not they are in it:
    a direct room is two people's conversation, not the server's to manage."""
    require_administrator(actor)
    room = db.session.get(Room, room_id)
    if room is None or room.is_direct:
        raise _no_such_room(room_id)
    return room


def membership_of(user_id: int, room_id: int) -> Membership | None:
    return db.session.get(Membership, (room_id, user_id))


# One query for the room and the actor's membership, built once: every message and read
# goes through here. The membership's room and user are the room just loaded and the
# actor, already in the session.
READABLE_ROOM = (
    select(Room, Membership)
    .outerjoin(
        Membership,
        (Membership.room_id == Room.id) & (Membership.user_id == bindparam("user_id")),
    )
    .where(Room.id == bindparam("room_id"))
    .options(lazyload(Membership.room), lazyload(Membership.user))
)


def readable_room(actor: User, room_id: int) -> tuple[Room, Membership | None]:
    """The room if the actor may read it, with their membership (None in a public room).

    Rooms the actor may not know of answer exactly like rooms that do not exist.
    """
    require_permission(actor, Permission.READ)
    found = db.session.execute(READABLE_ROOM, {"room_id": room_id, "user_id": actor.id}).first()
    if found is None:
        raise _no_such_room(room_id)
    room, membership = found
    _check_readable(room_id, room.kind, membership.banned if membership is not None else None)
    return room, membership


def _no_such_room(room_id: int) -> NotFound:
    return NotFound("No such room.", details={"room_id": room_id})


def _check_readable(room_id: int, kind: str, banned: bool | None) -> None:
    """`banned` is None when the actor is not a member."""
    if banned:
        raise Forbidden("You are banned from this room.", code="banned")
    if banned is None and kind != RoomKind.PUBLIC:
        raise _no_such_room(room_id)


# What deciding a post needs of the room and the actor's membership, as plain columns:
# the send path runs once per message and needs no objects.
_rooms, _memberships = Room.__table__, Membership.__table__
POSTING_RIGHTS = (
    select(_rooms.c.kind, _rooms.c.archived, _memberships.c.banned, _memberships.c.muted_until)
    .select_from(
        _rooms.outerjoin(
            _memberships,
            (_memberships.c.room_id == _rooms.c.id)
            & (_memberships.c.user_id == bindparam("user_id")),
        )
    )
    .where(_rooms.c.id == bindparam("room_id"))
)


def require_can_post_to(actor: User, room_id: int) -> None:
    """The checks of readable_room and require_can_post together, for sending, on
    rights kept between sends (see access_cache)."""
    require_permission(actor, Permission.READ)

    def read() -> PostingRights | None:
        params = {"room_id": room_id, "user_id": actor.id}
        found = db.session.execute(POSTING_RIGHTS, params).first()
        return None if found is None else PostingRights(*found)

    rights = access_cache().posting_rights(actor.id, room_id, read)
    if rights is None:
        raise _no_such_room(room_id)
    _check_readable(room_id, rights.kind, rights.banned)
    _check_postable(actor, rights.banned, rights.muted_until, rights.archived)


def member_room(actor: User, room_id: int) -> tuple[Room, Membership]:
    """The room if the actor may read it and is a member of it."""
    room, membership = readable_room(actor, room_id)
    if membership is None:
        raise Forbidden("Join the room first.", code="not_a_member")
    return room, membership


def require_can_post(actor: User, room: Room, membership: Membership | None) -> Membership:
    _check_postable(
        actor,
        membership.banned if membership is not None else None,
        membership.muted_until if membership is not None else None,
        room.archived,
    )
    assert membership is not None  # _check_postable refuses a non-member
    return membership


def _check_postable(
    actor: User, banned: bool | None, muted_until: datetime | None, archived: bool
) -> None:
    """`banned` is None when the actor is not a member."""
    require_permission(actor, Permission.WRITE)
    if banned is None:
        raise Forbidden("Join the room first.", code="not_a_member")
    if banned:
        raise Forbidden("You are banned from this room.", code="banned")
    if muted_until is not None and muted_until > utcnow():
        raise Forbidden(
            "You are muted in this room.",
            code="muted",
            details={"muted_until": muted_until.isoformat()},
        )
    if archived:
        raise Forbidden("The room is archived.", code="archived")


def moderation_rank(actor: User, membership: Membership | None) -> int:
    if actor.can(Permission.ADMIN):
        return ADMINISTRATOR_RANK
    if actor.can(Permission.MODERATE):
        return GLOBAL_MODERATOR_RANK
    if membership is None or membership.banned:
        return -1
    return RANK[RoomRole(membership.role)]


def can_moderate(actor: User, membership: Membership | None) -> bool:
    return moderation_rank(actor, membership) >= RANK[RoomRole.MODERATOR]


def require_moderator(actor: User, room: Room, membership: Membership | None) -> None:
    require_active(actor)
    if room.is_direct or not can_moderate(actor, membership):
        raise Forbidden("Only the room's moderators may do that.", code="not_a_moderator")


def require_outranks(actor: User, membership: Membership | None, target: Membership) -> None:
    """A moderator acts only on members of lower rank, and never on themselves."""
    if target.user_id == actor.id:
        raise Forbidden("You cannot do that to yourself.", code="self_moderation")
    if moderation_rank(actor, membership) <= moderation_rank(target.user, target):
        raise Forbidden("You may only moderate members of lower rank.", code="insufficient_rank")


def readable_room_ids_query(actor: User):  # type: ignore[no-untyped-def]
    """A subquery of the ids of every room the actor may read."""
    banned = select(Membership.room_id).where(
        Membership.user_id == actor.id, Membership.banned.is_(True)
    )
    member = select(Membership.room_id).where(
        Membership.user_id == actor.id, Membership.banned.is_(False)
    )
    return select(Room.id).where(
        Room.id.not_in(banned),
        (Room.kind == RoomKind.PUBLIC) | Room.id.in_(member),
    )
