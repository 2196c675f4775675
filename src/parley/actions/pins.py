"""Pins: a room's moderators and owners (both people, in a direct room) keep messages at
hand; anyone who can read the room sees the list."""

from __future__ import annotations

from sqlalchemy import select

from ..errors import Conflict, Forbidden
from ..events import Event, emit_after_commit
from ..extensions import db
from ..models import Message, Room, User
from ..models.types import utcnow
from ..presenters import message_out
from ..schemas.messages import MessageOut
from ..store.sequence import next_room_seq, room_order
from .access import can_moderate, readable_room, require_active
from .messages import fresh_under_lock, readable_message

# A room's pinned list is short by nature; past this, the oldest pins are not listed.
MAX_LISTED_PINS = 200


def set_pinned(actor: User, message_id: int, pinned: bool) -> MessageOut:
    message, room, membership = readable_message(actor, message_id)
    require_active(actor)
    allowed = (
        membership is not None and not membership.banned
        if room.is_direct
        else can_moderate(actor, membership)
    )
    if not allowed:
        raise Forbidden(
            "Only the room's moderators and owners may pin messages.", code="not_a_moderator"
        )
    if message.deleted:
        raise Conflict("The message was deleted.", code="message_deleted")
    if message.pinned == pinned:
        return message_out(message)
    with room_order(message.room_id):
        seq = next_room_seq(message.room_id)
        fresh_under_lock(message)
        if message.deleted or message.pinned == pinned:
            db.session.rollback()
            if message.deleted:
                raise Conflict("The message was deleted.", code="message_deleted")
            return message_out(message)
        message.pinned_at = utcnow() if pinned else None
        message.pinned_by_id = actor.id if pinned else None
        message.changed_seq = seq
        out = message_out(message)
        emit_after_commit(
            Event(
                "message:pin",
                {
                    "room_id": message.room_id,
                    "message_id": message.id,
                    "pinned": pinned,
                    "by": actor.id,
                    "seq": seq,
                },
                room_id=message.room_id,
            )
        )
        db.session.commit()
    return out


def pinned_messages(actor: User, room_id: int) -> list[Message]:
    """Newest pin first."""
    room: Room
    room, _ = readable_room(actor, room_id)
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.room_id == room.id, Message.pinned_at.is_not(None))
            .order_by(Message.pinned_at.desc(), Message.id.desc())
            .limit(MAX_LISTED_PINS)
        )
    )
