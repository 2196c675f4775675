"""Rooms: creating, changing, joining, leaving, inviting, direct rooms, and listing them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..database import in_chunks
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..events import Event, emit_after_commit
from ..extensions import db
from ..models import Membership, Message, Permission, Room, RoomKind, RoomRole, User
from ..models.message import IN_TIMELINE
from ..presenters import dump, member_out, room_out
from ..schemas.fields import room_name_key
from ..video.broadcasts import Broadcast
from .access import (
    administered_room,
    member_room,
    membership_of,
    readable_room,
    require_moderator,
    require_permission,
)
from .mentions import count_mentions
from .messages import count_unread
from .video import live_in


def _name_taken(name: str) -> Conflict:
    return Conflict(
        "A room with that name exists.", code="room_name_taken", details={"field": "name"}
    )


def _commit_or_name_conflict(name: str | None) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _name_taken(name or "") from None


@dataclass(frozen=True)
class RoomView:
    """A room with what its public shape shows besides its own columns."""

    room: Room
    member_count: int
    last_message_id: int
    live: Broadcast | None


def room_views(found: list[Room]) -> list[RoomView]:
    """Each room's view, in two queries whatever the number of rooms."""
    ids = [room.id for room in found]
    if not ids:
        return []
    members = dict(
        db.session.execute(
            select(Membership.room_id, func.count())
            .where(Membership.room_id.in_(ids), Membership.banned.is_(False))
            .group_by(Membership.room_id)
        ).all()
    )
    last_ids = dict(
        db.session.execute(
            select(Message.room_id, func.max(Message.id))
            .where(Message.room_id.in_(ids), IN_TIMELINE)
            .group_by(Message.room_id)
        ).all()
    )
    live = live_in(ids)
    return [
        RoomView(room, members.get(room.id, 0), last_ids.get(room.id) or 0, live.get(room.id))
        for room in found
    ]


def room_view(room: Room) -> RoomView:
    return room_views([room])[0]


def _room_update_event(room: Room) -> Event:
    return Event("room:update", {"room": dump(room_out(room_view(room)))}, room_id=room.id)


def _member_join_event(membership: Membership) -> Event:
    return Event(
        "room:member_join",
        {"room_id": membership.room_id, "member": dump(member_out(membership))},
        room_id=membership.room_id,
        user_ids=(membership.user_id,),
    )


def member_leave_event(room_id: int, user_id: int, reason: str) -> Event:
    return Event(
        "room:member_leave",
        {"room_id": room_id, "user_id": user_id, "reason": reason},
        room_id=room_id,
        user_ids=(user_id,),
    )


def create_room(actor: User, name: str, topic: str = "", kind: str = "public") -> Room:
    require_permission(actor, Permission.CREATE_ROOMS)
    if kind not in (RoomKind.PUBLIC, RoomKind.PRIVATE):
        raise BadRequest("Rooms are public or private; use /dm for direct rooms.")
    key = room_name_key(name)
    if db.session.scalar(select(Room.id).where(Room.name_key == key)) is not None:
        raise _name_taken(name)
    room = Room(name=name, name_key=key, topic=topic, kind=kind, created_by=actor)
    owner = Membership(room=room, user=actor, role=RoomRole.OWNER)
    db.session.add_all([room, owner])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _name_taken(name) from None
    emit_after_commit(_member_join_event(owner))
    _commit_or_name_conflict(name)
    return room


def update_room(
    actor: User,
    room_id: int,
    *,
    name: str | None = None,
    topic: str | None = None,
    archived: bool | None = None,
    kind: str | None = None,
) -> Room:
    """Rename, change the topic, archive (room moderators) or make private or public
    (owners and administrators). A change of kind changes who may read the room: the
    access checks kept before it are dropped at commit like any change to a room
    (store/access_cache.py), and live views are checked again on room:update."""
    room, membership = readable_room(actor, room_id)
    require_moderator(actor, room, membership)
    if kind is not None and kind != room.kind:
        is_owner = membership is not None and membership.role == RoomRole.OWNER
        if not (is_owner or actor.can(Permission.ADMIN)):
            raise Forbidden(
                "Only the room's owners may make it private or public.", code="not_an_owner"
            )
        if kind not in (RoomKind.PUBLIC, RoomKind.PRIVATE):
            raise BadRequest("Rooms are public or private.", details={"field": "kind"})
        room.kind = kind
    return _change_room(room, name=name, topic=topic, archived=archived)


def administer_room(actor: User, room_id: int, *, archived: bool | None = None) -> Room:
    """An administrator archives or unarchives any room but a direct one, in it or not."""
    return _change_room(administered_room(actor, room_id), archived=archived)


def _change_room(
    room: Room,
    *,
    name: str | None = None,
    topic: str | None = None,
    archived: bool | None = None,
) -> Room:
    if name is not None and name != room.name:
        key = room_name_key(name)
        clash = db.session.scalar(select(Room.id).where(Room.name_key == key, Room.id != room.id))
        if clash is not None:
            raise _name_taken(name)
        room.name, room.name_key = name, key
    if topic is not None:
        room.topic = topic
    if archived is not None:
        room.archived = archived
    db.session.flush()
    emit_after_commit(_room_update_event(room))
    _commit_or_name_conflict(name)
    return room


def join_room(actor: User, room_id: int) -> tuple[Membership, bool]:
    """Join a public room; returns the membership and whether it is new."""
    room, membership = readable_room(actor, room_id)
    if membership is not None:
        return membership, False
    if room.archived:
        raise Forbidden("The room is archived.", code="archived")
    membership = Membership(room=room, user=actor, role=RoomRole.MEMBER)
    db.session.add(membership)
    try:
        db.session.flush()
    except IntegrityError:
        # Joined twice at once: the other request won, and the result is the same.
        db.session.rollback()
        existing = membership_of(actor.id, room_id)
        if existing is None:
            raise
        return existing, False
    emit_after_commit(_member_join_event(membership))
    db.session.commit()
    return membership, True


def hand_over_ownership(room: Room, leaving: Membership) -> Membership | None:
    """When the last owner goes, the longest-standing moderator (else member) takes over."""
    if leaving.role != RoomRole.OWNER:
        return None
    others = list(
        db.session.scalars(
            select(Membership)
            .where(
                Membership.room_id == room.id,
                Membership.user_id != leaving.user_id,
                Membership.banned.is_(False),
            )
            .order_by(Membership.joined_at, Membership.user_id)
        )
    )
    if any(m.role == RoomRole.OWNER for m in others) or not others:
        return None
    heir = next((m for m in others if m.role == RoomRole.MODERATOR), others[0])
    heir.role = RoomRole.OWNER
    return heir


def require_may_act_on_creator(actor: User, room: Room, target: Membership) -> None:
    """The room's creator, while an owner, gives up ownership only by their own choice (or
    the server's staff's: global moderators and administrators, who outrank every room
    owner): a co-owner cannot demote them and then remove them."""
    if (
        target.user_id == room.created_by_id
        and target.role == RoomRole.OWNER
        and target.user_id != actor.id
        and not actor.can(Permission.MODERATE)
    ):
        raise Forbidden(
            "The room's creator steps down only by their own choice or the server staff's.",
            code="room_creator",
        )


def leave_room(actor: User, room_id: int) -> None:
    room, membership = member_room(actor, room_id)
    if room.is_direct:
        raise Forbidden("Direct rooms cannot be left.", code="direct_room")
    heir = hand_over_ownership(room, membership)
    db.session.delete(membership)
    events = [member_leave_event(room.id, actor.id, "left")]
    if heir is not None:
        events.append(member_update_event(heir))
    emit_after_commit(*events)
    db.session.commit()


def member_update_event(membership: Membership) -> Event:
    return Event(
        "room:member_update",
        {"room_id": membership.room_id, "member": dump(member_out(membership))},
        room_id=membership.room_id,
        user_ids=(membership.user_id,),
    )


def set_notification_level(actor: User, room_id: int, level: str) -> Membership:
    """What the member is told of in this room; heard by their own sockets only."""
    _, membership = member_room(actor, room_id)
    if membership.notification_level != level:
        membership.notification_level = level
        emit_after_commit(
            Event(
                "room:member_update",
                {"room_id": room_id, "member": dump(member_out(membership))},
                user_ids=(actor.id,),
            )
        )
        db.session.commit()
    return membership


def invite(actor: User, room_id: int, user_id: int) -> tuple[Membership, bool]:
    """Add a user to a room the actor belongs to; returns the membership and if it is new."""
    room, _ = member_room(actor, room_id)
    if room.is_direct:
        raise Forbidden("Nobody can be added to a direct room.", code="direct_room")
    if room.archived:
        raise Forbidden("The room is archived.", code="archived")
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("No such user.", details={"user_id": user_id})
    existing = membership_of(user.id, room.id)
    if existing is not None:
        if existing.banned:
            raise Forbidden("That user is banned from this room.", code="banned")
        return existing, False
    membership = Membership(room=room, user=user, role=RoomRole.MEMBER)
    db.session.add(membership)
    db.session.flush()
    emit_after_commit(_member_join_event(membership))
    db.session.commit()
    return membership, True


def direct_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


def open_direct_room(actor: User, user_id: int) -> tuple[Room, bool]:
    """The one direct room between the actor and another user, made on first use."""
    require_permission(actor, Permission.WRITE)
    if user_id == actor.id:
        raise BadRequest("A direct room needs another user.", code="self_direct")
    other = db.session.get(User, user_id)
    if other is None or not other.active:
        raise NotFound("No such user.", details={"user_id": user_id})
    key = direct_key(actor.id, other.id)
    room = db.session.scalar(select(Room).where(Room.direct_key == key))
    if room is not None:
        return room, False
    room = Room(kind=RoomKind.DIRECT, direct_key=key, topic="", created_by=actor)
    members = [Membership(room=room, user=u, role=RoomRole.MEMBER) for u in (actor, other)]
    db.session.add_all([room, *members])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(Room).where(Room.direct_key == key))
        if existing is None:
            raise
        return existing, False
    emit_after_commit(*[_member_join_event(m) for m in members])
    db.session.commit()
    return room, True


@dataclass(frozen=True)
class MyRoom:
    membership: Membership
    unread_count: int
    last_message_id: int
    member_count: int
    peer: User | None
    live: Broadcast | None
    mention_count: int = 0


def _my_rooms() -> Select[Any]:
    """Each of a user's memberships with its unread count, newest message id and member
    count: one statement, built once (building it cost more than running it)."""
    user_id: BindParameter[int] = bindparam("user_id")
    others = aliased(Membership)
    unread = count_unread(
        user_id, Membership.room_id, Membership.last_read_message_id
    ).scalar_subquery()
    mentioned = count_mentions(
        user_id, Membership.room_id, Membership.last_read_message_id
    ).scalar_subquery()
    last_id = (
        select(func.coalesce(func.max(Message.id), 0))
        .where(Message.room_id == Membership.room_id, IN_TIMELINE)
        .scalar_subquery()
    )
    members = (
        select(func.count())
        .select_from(others)
        .where(others.room_id == Membership.room_id, others.banned.is_(False))
        .scalar_subquery()
    )
    return (
        select(Membership, unread, last_id, members, mentioned)
        .where(Membership.user_id == user_id, Membership.banned.is_(False))
        .order_by(last_id.desc(), Membership.room_id)
    )


MY_ROOMS = _my_rooms()


def list_my_rooms(actor: User) -> list[MyRoom]:
    """Every room the actor belongs to, with unread counts, in a fixed number of queries."""
    require_permission(actor, Permission.READ)
    rows = db.session.execute(MY_ROOMS, {"user_id": actor.id}).all()
    direct_ids = [m.room_id for m, *_ in rows if m.room.is_direct]
    peers: dict[int, User] = {}
    if direct_ids:
        for other in db.session.scalars(
            select(Membership).where(
                and_(Membership.room_id.in_(direct_ids), Membership.user_id != actor.id)
            )
        ):
            peers[other.room_id] = other.user
    live = live_in(m.room_id for m, *_ in rows)
    return [
        MyRoom(
            m,
            unread_count,
            last_message_id,
            member_count,
            peers.get(m.room_id),
            live.get(m.room_id),
            mention_count,
        )
        for m, unread_count, last_message_id, member_count, mention_count in rows
    ]


# A member not banned hears the room: a socket joins it on connect.
HEARD = Membership.banned.is_(False)


def member_room_ids(user: User) -> list[int]:
    """The rooms a user belongs to (and is not banned from): the ones they hear."""
    return list(
        db.session.scalars(select(Membership.room_id).where(Membership.user_id == user.id, HEARD))
    )


def rooms_heard_by(session: Session, user_ids: Collection[int]) -> dict[int, set[int]]:
    """member_room_ids for many users at once, in a session of the caller's."""
    rooms: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    for chunk in in_chunks(user_ids):
        found = session.execute(
            select(Membership.user_id, Membership.room_id).where(
                Membership.user_id.in_(chunk), HEARD
            )
        )
        for user_id, room_id in found:
            rooms[user_id].add(room_id)
    return rooms


def directory(actor: User) -> list[Room]:
    require_permission(actor, Permission.READ)
    return list(
        db.session.scalars(
            select(Room)
            .where(Room.kind == RoomKind.PUBLIC, Room.archived.is_(False))
            .order_by(Room.name_key)
        )
    )


def view_room(actor: User, room_id: int) -> Room:
    room, _ = readable_room(actor, room_id)
    return room


def list_members(actor: User, room_id: int) -> list[Membership]:
    room, membership = readable_room(actor, room_id)
    query = select(Membership).where(Membership.room_id == room.id)
    is_moderator = membership is not None and membership.is_moderator
    if not (is_moderator or actor.can(Permission.MODERATE)):
        # Only moderators (of the room, or global ones) see who is banned.
        query = query.where(Membership.banned.is_(False))
    return list(db.session.scalars(query.order_by(Membership.joined_at, Membership.user_id)))
