"""Threads as people read them: a thread's replies, the threads a person follows with
their unread replies, and marking a thread read. Sending a reply is replies.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from ..errors import NotFound
from ..events import Event, emit_after_commit
from ..extensions import db
from ..models import Message, Permission, ThreadFollow, User
from .access import readable_room_ids_query, require_permission
from .messages import readable_message


def readable_root(actor: User, message_id: int) -> Message:
    """The root of the thread `message_id` belongs to (itself unless it is a reply), if
    the actor may read its room."""
    message, _, _ = readable_message(actor, message_id)
    if message.thread_id is None:
        return message
    return db.session.get_one(Message, message.thread_id)


@dataclass(frozen=True)
class ThreadPage:
    root: Message
    replies: list[Message]
    has_more: bool


def thread_page(actor: User, message_id: int, after: int | None, limit: int) -> ThreadPage:
    """The thread's root and its oldest replies above `after`, in ascending id order."""
    root = readable_root(actor, message_id)
    query = select(Message).where(Message.thread_id == root.id)
    if after is not None:
        query = query.where(Message.id > after)
    rows = list(db.session.scalars(query.order_by(Message.id).limit(limit + 1)))
    return ThreadPage(root, rows[:limit], len(rows) > limit)


def count_unread_replies(user_id: Any, root_id: Any, after_id: Any) -> Select[Any]:
    """Others' replies, not deleted, above a read mark: for one thread, or correlated."""
    reply = aliased(Message)
    return select(func.count(reply.id)).where(
        reply.thread_id == root_id,
        reply.id > after_id,
        reply.deleted_at.is_(None),
        reply.author_id != user_id,
    )


def unread_replies(user_id: int, root_id: int, after_id: int) -> int:
    return db.session.scalar(count_unread_replies(user_id, root_id, after_id)) or 0


@dataclass(frozen=True)
class FollowedThread:
    root: Message
    unread_count: int
    last_read_id: int


def followed_threads(
    actor: User, limit: int, before: int | None = None
) -> tuple[list[FollowedThread], bool]:
    """The threads the actor follows in rooms they may still read, newest reply first,
    and whether more were left out past `limit`. With `before` (a root the actor
    follows, the last of the previous page), the threads after it in that order."""
    require_permission(actor, Permission.READ)
    unread = count_unread_replies(
        actor.id, ThreadFollow.root_id, ThreadFollow.last_read_id
    ).scalar_subquery()
    query = (
        select(Message, ThreadFollow.last_read_id, unread)
        .join(ThreadFollow, ThreadFollow.root_id == Message.id)
        .where(
            ThreadFollow.user_id == actor.id,
            ThreadFollow.room_id.in_(readable_room_ids_query(actor)),
            Message.reply_count > 0,
        )
    )
    if before is not None:
        anchor = db.session.execute(
            query.with_only_columns(Message.last_reply_at, Message.id).where(Message.id == before)
        ).first()
        if anchor is None:
            raise NotFound("You follow no such thread.", details={"before": before})
        query = query.where(
            or_(
                Message.last_reply_at < anchor.last_reply_at,
                and_(Message.last_reply_at == anchor.last_reply_at, Message.id < anchor.id),
            )
        )
    rows = db.session.execute(
        query.order_by(Message.last_reply_at.desc(), Message.id.desc()).limit(limit + 1)
    ).all()
    found = [FollowedThread(root, int(count or 0), last_read) for root, last_read, count in rows]
    return found[:limit], len(found) > limit


@dataclass(frozen=True)
class ThreadReadState:
    root_id: int
    last_read_id: int
    unread_count: int
    following: bool


def mark_thread_read(actor: User, message_id: int, last_read_id: int) -> ThreadReadState:
    """Move the actor's read mark in the thread forward (never back), up to its newest
    reply. Only a follower's mark is kept; anyone who may read the thread is answered."""
    root = readable_root(actor, message_id)
    newest = (
        db.session.scalar(
            select(func.coalesce(func.max(Message.id), 0)).where(Message.thread_id == root.id)
        )
        or 0
    )
    target = min(last_read_id, newest)
    follow = db.session.get(ThreadFollow, (root.id, actor.id))
    if follow is None:
        return ThreadReadState(root.id, target, unread_replies(actor.id, root.id, target), False)
    changed = target > follow.last_read_id
    if changed:
        follow.last_read_id = target
    state = ThreadReadState(
        root.id,
        follow.last_read_id,
        unread_replies(actor.id, root.id, follow.last_read_id),
        True,
    )
    if changed:
        emit_after_commit(
            Event(
                "thread:unread",
                {
                    "room_id": root.room_id,
                    "root_id": root.id,
                    "last_read_id": state.last_read_id,
                    "unread_count": state.unread_count,
                },
                user_ids=(actor.id,),
            )
        )
    db.session.commit()
    return state
