"""Moderation of room members: mute, ban, remove, and room roles."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..errors import Forbidden, NotFound
from ..events import emit_after_commit
from ..extensions import db
from ..models import Membership, Permission, Room, RoomKind, RoomRole, User
from ..models.types import utcnow
from .access import membership_of, readable_room, require_moderator, require_outranks
from .rooms import (
    hand_over_ownership,
    member_leave_event,
    member_update_event,
    require_may_act_on_creator,
)


def _target(actor: User, room_id: int, user_id: int) -> tuple[Room, Membership]:
    room, membership = readable_room(actor, room_id)
    require_moderator(actor, room, membership)
    target = membership_of(user_id, room.id)
    if target is None:
        raise NotFound("That user is not in this room.", details={"user_id": user_id})
    require_outranks(actor, membership, target)
    require_may_act_on_creator(actor, room, target)
    return room, target


def mute_member(actor: User, room_id: int, user_id: int, minutes: int) -> Membership:
    return _set_muted_until(actor, room_id, user_id, utcnow() + timedelta(minutes=minutes))


def unmute_member(actor: User, room_id: int, user_id: int) -> Membership:
    return _set_muted_until(actor, room_id, user_id, None)


def _set_muted_until(actor: User, room_id: int, user_id: int, until: datetime | None) -> Membership:
    _, target = _target(actor, room_id, user_id)
    target.muted_until = until
    emit_after_commit(member_update_event(target))
    db.session.commit()
    return target


def ban_member(actor: User, room_id: int, user_id: int) -> Membership:
    """Ban a user from a room; in a public room they need not be a member yet."""
    room, membership = readable_room(actor, room_id)
    require_moderator(actor, room, membership)
    target = membership_of(user_id, room.id)
    if target is None:
        user = db.session.get(User, user_id)
        if user is None or room.kind != RoomKind.PUBLIC:
            raise NotFound("That user is not in this room.", details={"user_id": user_id})
        target = Membership(
            room=room, user=user, user_id=user.id, role=RoomRole.MEMBER, banned=True
        )
        require_outranks(actor, membership, target)  # no banning yourself
        db.session.add(target)
        db.session.flush()
        db.session.commit()
        return target
    require_outranks(actor, membership, target)
    require_may_act_on_creator(actor, room, target)
    if target.banned:
        return target
    target.banned = True
    target.role = RoomRole.MEMBER
    emit_after_commit(member_leave_event(room.id, user_id, "banned"))
    db.session.commit()
    return target


def unban_member(actor: User, room_id: int, user_id: int) -> None:
    """Lift a ban; the user is out of the room and may join (public) or be invited again."""
    room, membership = readable_room(actor, room_id)
    require_moderator(actor, room, membership)
    target = membership_of(user_id, room.id)
    if target is None or not target.banned:
        raise NotFound("That user is not banned here.", details={"user_id": user_id})
    db.session.delete(target)
    db.session.commit()


def remove_member(actor: User, room_id: int, user_id: int) -> None:
    room, target = _target(actor, room_id, user_id)
    if target.banned:
        raise NotFound("That user is not in this room.", details={"user_id": user_id})
    db.session.delete(target)
    emit_after_commit(member_leave_event(room.id, user_id, "removed"))
    db.session.commit()


def set_member_role(actor: User, room_id: int, user_id: int, role: str) -> Membership:
    """Owners (and global moderators) name moderators and owners; an owner may step down."""
    room, membership = readable_room(actor, room_id)
    require_moderator(actor, room, membership)
    target = membership_of(user_id, room.id)
    if target is None or target.banned:
        raise NotFound("That user is not in this room.", details={"user_id": user_id})
    actor_is_owner = membership is not None and membership.role == RoomRole.OWNER
    if not (actor_is_owner or actor.can(Permission.MODERATE)):
        raise Forbidden("Only the room's owners may change roles.", code="not_an_owner")
    if role != RoomRole.OWNER:
        require_may_act_on_creator(actor, room, target)
    events = []
    if target.user_id == actor.id and role != RoomRole.OWNER:
        heir = hand_over_ownership(room, target)
        if heir is not None:
            events.append(member_update_event(heir))
    target.role = role
    events.append(member_update_event(target))
    emit_after_commit(*events)
    db.session.commit()
    return target
