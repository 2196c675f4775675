"""Messages: send, edit, delete, read state and history."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from ..database import commit_keeping_loaded_objects
from ..errors import Conflict, Forbidden, NotFound
from ..events import Event, emit_after_commit
from ..extensions import db
from ..metrics import observe_send
from ..models import Membership, Message, MessageEdit, Permission, Reaction, Room, User
from ..models.message import IN_TIMELINE
from ..models.types import utcnow
from ..presenters import dump, message_out, user_public
from ..schemas.messages import MessageOut
from ..store.message_batch import Draft
from ..store.message_writer import MessageWriter
from ..store.sequence import next_room_seq, room_order
from .access import can_moderate, readable_room, require_can_post, require_can_post_to
from .mentions import mention_count, plan_message, render_body
from .replies import refresh_summary, same_room_resend, send_reply


def _changed(kind: str, message: Message) -> MessageOut:
    """The changed message as clients see it, told to the room after the commit."""
    out = message_out(message)
    seq = message.changed_seq
    emit_after_commit(Event(kind, {"message": dump(out), "seq": seq}, room_id=message.room_id))
    return out


def send_message(
    actor: User,
    room_id: int,
    body: str,
    client_id: str | None = None,
    *,
    arrived_at: float | None = None,
    thread_id: int | None = None,
    also_to_room: bool = False,
) -> tuple[MessageOut, bool, list[int]]:
    """Post a message; returns it as clients see it, whether it is new (False for a
    resend), and the users it named who cannot read the room, so were not told.

    Concurrent sends are committed together (see message_writer); this returns once the
    commit that stores the message has landed and its event is published, and raises
    Overloaded (nothing stored) when the writer's queue is full or the send waited too
    long for its turn, counted from `arrived_at` (time.monotonic()) when the transport
    knows when the send reached the process. The message is the one its message:new
    event carries, built from what was written: nothing is read back.

    With `thread_id`, a reply in that message's thread (see replies.send_reply), kept
    out of the room's timeline unless `also_to_room`.
    """
    if thread_id is not None:
        return send_reply(actor, room_id, body, client_id, thread_id, also_to_room=also_to_room)
    started = time.perf_counter()
    require_can_post_to(actor, room_id)
    rendered = plan_message(actor, room_id, body)
    draft = Draft(
        user_public(actor),
        room_id,
        body,
        rendered.html,
        client_id,
        mentions=rendered.mentions,
        mentions_room=rendered.mentions_room,
        notify=rendered.notify,
    )
    # Checks answered from what is kept (access_cache) leave this request without a
    # session: opening one only to close it is work a send need not pay for.
    session = db.session() if db.session.registry.has() else None
    if session is not None and session.in_transaction():
        # The checks read the database: end their transaction and give the connection
        # back, so the senders waiting on a batch hold no connections (the pool would
        # open and close extra ones all the time under load).
        commit_keeping_loaded_objects(session)
    try:
        writer().write(draft, arrived_at=arrived_at)
    finally:
        if session is not None:
            _expire_written(session, room_id, actor.id)
    observe_send(started)
    if draft.out is not None:
        return draft.out, True, rendered.not_notified
    earlier = db.session.get(Message, draft.earlier_id)
    if earlier is None:
        raise NotFound("No such message.", details={"message_id": draft.earlier_id})
    return message_out(same_room_resend(earlier, room_id)), False, []


def _expire_written(session: Session, room_id: int, author_id: int) -> None:
    """The batch wrote the room's sequence number and the author's read mark on a
    connection of its own: this session reads them again if it had them loaded."""
    for key in (identity_key(Room, room_id), identity_key(Membership, (room_id, author_id))):
        loaded = session.identity_map.get(key)
        if loaded is not None:
            session.expire(loaded)


def writer() -> MessageWriter:
    found: MessageWriter = current_app.extensions["parley.message_writer"]
    return found


def readable_message(actor: User, message_id: int) -> tuple[Message, Room, Membership | None]:
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound("No such message.", details={"message_id": message_id})
    try:
        room, membership = readable_room(actor, message.room_id)
    except NotFound:
        raise NotFound("No such message.", details={"message_id": message_id}) from None
    return message, room, membership


def fresh_under_lock(message: Message) -> None:
    """Reads the message again once the room's sequence is held: it was loaded before,
    and a reaction, pin or edit committed in between would otherwise be missing from the
    copy this change tells with a newer `changed_seq`."""
    db.session.refresh(message)
    db.session.expire(message, ["reaction_rows"])


def edit_message(actor: User, message_id: int, body: str) -> MessageOut:
    message, room, membership = readable_message(actor, message_id)
    if message.author_id != actor.id:
        raise Forbidden("Only the author may edit a message.", code="not_the_author")
    if message.deleted:
        raise Conflict("The message was deleted.", code="message_deleted")
    require_can_post(actor, room, membership)
    if body == message.body:
        return message_out(message)
    html, mentioned = render_body(body)
    with room_order(room.id):
        seq = next_room_seq(room.id)
        fresh_under_lock(message)
        if message.deleted:
            raise Conflict("The message was deleted.", code="message_deleted")
        message.changed_seq = seq
        now = utcnow()
        db.session.add(
            MessageEdit(
                message_id=message.id,
                body=message.body,
                html=message.html,
                written_at=message.edited_at or message.created_at,
                replaced_at=now,
            )
        )
        message.body = body
        message.html = html
        # Told again to no one: an edit's mentions show, but notify only when sent.
        message.mentions = mentioned.user_ids
        message.mentions_room = mentioned.room or mentioned.here
        message.edited_at = now
        out = _changed("message:edit", message)
        db.session.commit()
    return out


def delete_message(actor: User, message_id: int) -> MessageOut:
    """Delete a message, leaving a tombstone: the id stays, the text goes."""
    message, _, membership = readable_message(actor, message_id)
    is_author = message.author_id == actor.id and actor.can(Permission.WRITE)
    if not (is_author or can_moderate(actor, membership)):
        raise Forbidden("You may delete only your own messages.", code="not_the_author")
    if message.deleted:
        return message_out(message)
    with room_order(message.room_id):
        seq = next_room_seq(message.room_id)
        fresh_under_lock(message)
        if message.deleted:
            db.session.rollback()
            return message_out(message)
        message.changed_seq = seq
        message.body = ""
        message.html = ""
        message.deleted_at = utcnow()
        message.deleted_by_moderator = message.author_id != actor.id
        message.pinned_at = None
        message.pinned_by_id = None
        # The text is gone, and with it every earlier version of it.
        db.session.execute(delete(MessageEdit).where(MessageEdit.message_id == message.id))
        db.session.execute(delete(Reaction).where(Reaction.message_id == message.id))
        db.session.expire(message, ["reaction_rows"])
        out = _changed("message:delete", message)
        if message.thread_id is not None:
            root = db.session.get_one(Message, message.thread_id, populate_existing=True)
            refresh_summary(root, next_room_seq(message.room_id))
        db.session.commit()
    return out


def edit_history(actor: User, message_id: int) -> list[MessageEdit]:
    """The bodies a message had before its edits, oldest first."""
    message, _, _ = readable_message(actor, message_id)
    return list(
        db.session.scalars(
            select(MessageEdit).where(MessageEdit.message_id == message.id).order_by(MessageEdit.id)
        )
    )


@dataclass(frozen=True)
class ReadState:
    room_id: int
    last_read_message_id: int
    unread_count: int
    mention_count: int


def count_unread(user_id: Any, room_id: Any, after_id: Any) -> Select[Any]:
    """Others' messages in the timeline, not deleted, above the read mark: for one room,
    or correlated. Replies kept to their thread count in the thread's unread instead."""
    return select(func.count(Message.id)).where(
        Message.room_id == room_id,
        IN_TIMELINE,
        Message.id > after_id,
        Message.deleted_at.is_(None),
        Message.author_id != user_id,
    )


def unread_count(user_id: int, room_id: int, after_id: int) -> int:
    return db.session.scalar(count_unread(user_id, room_id, after_id)) or 0


def mark_read(actor: User, room_id: int, message_id: int) -> ReadState:
    """Move the read mark forward (never back), up to the room's newest message."""
    room, membership = readable_room(actor, room_id)
    if membership is None:
        raise Forbidden("Join the room first.", code="not_a_member")
    newest = (
        db.session.scalar(
            select(func.coalesce(func.max(Message.id), 0)).where(Message.room_id == room.id)
        )
        or 0
    )
    target = min(message_id, newest)
    changed = target > membership.last_read_message_id
    if changed:
        membership.last_read_message_id = target
    state = ReadState(
        room.id,
        membership.last_read_message_id,
        unread_count(actor.id, room.id, membership.last_read_message_id),
        mention_count(actor.id, room.id, membership.last_read_message_id),
    )
    if changed:
        emit_after_commit(
            Event(
                "unread",
                {
                    "room_id": room.id,
                    "count": state.unread_count,
                    "mention_count": state.mention_count,
                    "last_read_message_id": state.last_read_message_id,
                },
                user_ids=(actor.id,),
            ),
        )
    db.session.commit()
    return state


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    has_more: bool
    # Only for a page around a message: whether newer messages follow it (has_more then
    # says whether older ones precede it).
    has_newer: bool | None = None


def history(
    actor: User,
    room_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    limit: int = 50,
) -> Page:
    """A page of a room's timeline, always in ascending id order: replies kept to their
    thread are not in it (those sent also to the room are).

    ``after`` gives the oldest messages above that id (catching up); ``around`` a message
    of the room with up to half the page before it and the rest after (opening a search
    hit); otherwise the newest below ``before`` (or the newest of all), for scrolling back.
    """
    room, _ = readable_room(actor, room_id)
    query = select(Message).where(Message.room_id == room.id, IN_TIMELINE)
    if around is not None:
        return _around(query, room_id, around, limit)
    if after is not None:
        rows = list(
            db.session.scalars(
                query.where(Message.id > after).order_by(Message.id).limit(limit + 1)
            )
        )
        return Page(rows[:limit], len(rows) > limit)
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)))
    return Page(list(reversed(rows[:limit])), len(rows) > limit)


def _around(query: Select[Any], room_id: int, message_id: int, limit: int) -> Page:
    hit = query.with_only_columns(Message.id).where(Message.id == message_id)
    if db.session.scalar(hit) is None:
        raise NotFound(
            "No such message in this room.",
            details={"room_id": room_id, "message_id": message_id},
        )
    older = list(
        db.session.scalars(
            query.where(Message.id < message_id).order_by(Message.id.desc()).limit(limit + 1)
        )
    )
    newer = list(
        db.session.scalars(
            query.where(Message.id >= message_id).order_by(Message.id).limit(limit + 1)
        )
    )
    # Half the page before the message; a side with fewer leaves its share to the other.
    take_newer = min(len(newer), limit - min(len(older), (limit - 1) // 2))
    take_older = min(len(older), limit - take_newer)
    return Page(
        list(reversed(older[:take_older])) + newer[:take_newer],
        has_more=len(older) > take_older,
        has_newer=len(newer) > take_newer,
    )
