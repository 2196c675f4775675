"""Reactions: a person adds or takes back an emoji on a message they can post beside."""

from __future__ import annotations

from sqlalchemy import func, select

from ..emoji_text import reaction_emoji
from ..errors import Conflict
from ..events import Event, emit_after_commit
from ..extensions import db
from ..models import Message, Reaction, ReactionGroup, User
from ..models.message import group_reactions
from ..presenters import dump
from ..schemas.messages import ReactionOut
from ..store.sequence import next_room_seq, room_order
from .access import require_can_post
from .messages import readable_message

# Distinct emoji on one message; a person adding one more of those is always let through.
MAX_EMOJI_PER_MESSAGE = 20


def _reactable(actor: User, message_id: int) -> Message:
    message, room, membership = readable_message(actor, message_id)
    require_can_post(actor, room, membership)
    if message.deleted:
        raise Conflict("The message was deleted.", code="message_deleted")
    return message


def _current(message: Message) -> list[ReactionGroup]:
    db.session.expire(message, ["reaction_rows"])
    return message.reactions


def _count(message_id: int, emoji: str) -> int:
    return (
        db.session.scalar(
            select(func.count(Reaction.id)).where(
                Reaction.message_id == message_id, Reaction.emoji == emoji
            )
        )
        or 0
    )


def _rows(message_id: int) -> list[Reaction]:
    return list(
        db.session.scalars(
            select(Reaction).where(Reaction.message_id == message_id).order_by(Reaction.id)
        )
    )


def _mine(message_id: int, user_id: int, emoji: str) -> Reaction | None:
    return db.session.scalar(
        select(Reaction).where(
            Reaction.message_id == message_id,
            Reaction.user_id == user_id,
            Reaction.emoji == emoji,
        )
    )


def _changed(kind: str, message: Message, emoji: str, user_id: int, seq: int) -> None:
    message.changed_seq = seq
    db.session.flush()
    emit_after_commit(
        Event(
            kind,
            {
                "room_id": message.room_id,
                "message_id": message.id,
                "emoji": emoji,
                "user_id": user_id,
                "count": _count(message.id, emoji),
                "seq": seq,
                # The message's reactions after the change: a client replaces its copy's,
                # since who reacted first can change with a reaction taken back.
                "reactions": [
                    dump(ReactionOut.model_validate(group))
                    for group in group_reactions(_rows(message.id))
                ],
            },
            room_id=message.room_id,
        )
    )


def add_reaction(actor: User, message_id: int, text: str) -> list[ReactionGroup]:
    """Idempotent: reacting again with the same emoji changes nothing."""
    message = _reactable(actor, message_id)
    emoji = reaction_emoji(text)
    with room_order(message.room_id):
        # The first write: it holds the room until commit, so the checks below see every
        # reaction committed before this one.
        seq = next_room_seq(message.room_id)
        if _mine(message.id, actor.id, emoji) is not None:
            db.session.rollback()
            return _current(message)
        used = set(
            db.session.scalars(
                select(Reaction.emoji).where(Reaction.message_id == message.id).distinct()
            )
        )
        if emoji not in used and len(used) >= MAX_EMOJI_PER_MESSAGE:
            raise Conflict(
                f"A message takes at most {MAX_EMOJI_PER_MESSAGE} different emoji.",
                code="too_many_reactions",
                details={"limit": MAX_EMOJI_PER_MESSAGE},
            )
        db.session.add(Reaction(message_id=message.id, user_id=actor.id, emoji=emoji))
        _changed("reaction:add", message, emoji, actor.id, seq)
        db.session.commit()
    return _current(message)


def remove_reaction(actor: User, message_id: int, text: str) -> list[ReactionGroup]:
    """Idempotent: taking back a reaction one did not make changes nothing."""
    message = _reactable(actor, message_id)
    emoji = reaction_emoji(text)
    with room_order(message.room_id):
        seq = next_room_seq(message.room_id)
        mine = _mine(message.id, actor.id, emoji)
        if mine is None:
            db.session.rollback()
            return _current(message)
        db.session.delete(mine)
        _changed("reaction:remove", message, emoji, actor.id, seq)
        db.session.commit()
    return _current(message)
