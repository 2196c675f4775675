"""Mentions: who a message names (`@username`) or calls (`@room`, `@here`), who of them is
told, and each person's unread mentions.

A body's `@names` are looked up only when it has any, in one statement; the renderer
decides which count (not those in code) and writes them as mention spans. Those told
get a `mention` event and a row in message_mentions; those named who cannot read the
room are not told, and the sender hears who they were (`not_notified`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, func, select

from ..errors import Forbidden
from ..extensions import db
from ..models import Membership, Message, MessageMention, Permission, Room, User
from ..models.message import IN_TIMELINE
from ..rendering import Mentioned, mention_names, render_markdown, render_with_mentions
from ..schemas.fields import username_key
from .access import can_moderate, require_permission

# Past this many members, calling the whole room with @room takes a moderator.
ROOM_MENTION_FREE_UP_TO = 50


@dataclass(frozen=True)
class Rendered:
    html: str
    mentions: list[int] = field(default_factory=list)
    mentions_room: bool = False
    # Who is told (the room's readers among those named, or everyone @room/@here reach)
    # and who was named but cannot read the room.
    notify: tuple[int, ...] = ()
    not_notified: list[int] = field(default_factory=list)


def _named_users(names: set[str]) -> dict[str, int]:
    """Each name as written, of an active user, to that user's id."""
    keys = {name: username_key(name) for name in names}
    found = dict(
        db.session.execute(
            select(User.username_key, User.id).where(
                User.username_key.in_(set(keys.values())), User.active.is_(True)
            )
        ).all()
    )
    return {name: found[key] for name, key in keys.items() if key in found}


def render_body(body: str) -> tuple[str, Mentioned]:
    """The body's HTML and what it mentions, without deciding who is told (edits)."""
    names = mention_names(body)
    if not names:
        return render_markdown(body), Mentioned()
    return render_with_mentions(body, _named_users(names))


def plan_message(actor: User, room_id: int, body: str) -> Rendered:
    """A new message's HTML and who its mentions reach; refuses `@room` in a room over
    ROOM_MENTION_FREE_UP_TO members from one who may not moderate it."""
    html, mentioned = render_body(body)
    if not (mentioned.user_ids or mentioned.room or mentioned.here):
        return Rendered(html)
    room = db.session.get_one(Room, room_id)
    members = {
        m.user_id: m
        for m in db.session.scalars(
            select(Membership).where(Membership.room_id == room_id, Membership.banned.is_(False))
        )
    }
    too_many = mentioned.room and len(members) > ROOM_MENTION_FREE_UP_TO
    if too_many and not can_moderate(actor, members.get(actor.id)):
        raise Forbidden(
            f"Calling a room of more than {ROOM_MENTION_FREE_UP_TO} members with @room "
            "takes a moderator.",
            code="mention_not_allowed",
            details={"members": len(members)},
        )
    told: list[int] = []
    not_notified: list[int] = []
    if mentioned.user_ids:
        banned = set(
            db.session.scalars(
                select(Membership.user_id).where(
                    Membership.room_id == room_id,
                    Membership.user_id.in_(mentioned.user_ids),
                    Membership.banned.is_(True),
                )
            )
        )
        for user_id in mentioned.user_ids:
            readable = user_id not in banned and (user_id in members or room.kind == "public")
            (told if readable else not_notified).append(user_id)
    if mentioned.room:
        told.extend(members)
    elif mentioned.here:
        online = set(current_app.extensions["parley.presence"].online_user_ids())
        told.extend(user_id for user_id in members if user_id in online)
    notify = tuple(dict.fromkeys(u for u in told if u != actor.id))
    return Rendered(
        html,
        mentioned.user_ids,
        mentioned.room or mentioned.here,
        notify,
        not_notified,
    )


def count_mentions(user_id: Any, room_id: Any, after_id: Any) -> Select[Any]:
    """A user's mentions in a room above their read mark, of messages not deleted and in
    the room's timeline (the read mark moves along the timeline only; a mention in a
    reply kept to its thread is told by its mention event and GET /mentions): for one
    room, or correlated."""
    return (
        select(func.count())
        .select_from(MessageMention)
        .join(Message, Message.id == MessageMention.message_id)
        .where(
            MessageMention.user_id == user_id,
            MessageMention.room_id == room_id,
            MessageMention.message_id > after_id,
            Message.deleted_at.is_(None),
            IN_TIMELINE,
        )
    )


def mention_count(user_id: int, room_id: int, after_id: int) -> int:
    return db.session.scalar(count_mentions(user_id, room_id, after_id)) or 0


@dataclass(frozen=True)
class MentionPage:
    messages: list[Message]
    has_more: bool


def my_mentions(actor: User, before: int | None, limit: int) -> MentionPage:
    """The messages that told the actor of a mention, newest first, in rooms they may
    still read (a member not banned, or a public room)."""
    require_permission(actor, Permission.READ)
    query = (
        select(Message)
        .join(MessageMention, MessageMention.message_id == Message.id)
        .join(Room, Room.id == Message.room_id)
        .outerjoin(
            Membership,
            and_(Membership.room_id == Message.room_id, Membership.user_id == actor.id),
        )
        .where(
            MessageMention.user_id == actor.id,
            Message.deleted_at.is_(None),
            Membership.banned.is_not(True),
            (Membership.user_id.is_not(None)) | (Room.kind == "public"),
        )
    )
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)))
    return MentionPage(rows[:limit], len(rows) > limit)
