"""Replies in threads: sending one, and keeping its root's thread summary.

A reply is written in a transaction of its own, under the room's order like an edit,
not through the batch of new messages: with it go its root's new summary (and change
sequence number), the followers it adds and their read marks, all in one commit. Its
`message:new` event goes to the room channel like any message, carrying `thread_id`,
and is followed by the root's `thread:update`.
"""

from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError, Conflict, NotFound
from ..events import Event, emit_after_commit
from ..extensions import db
from ..metrics import observe_send
from ..models import Membership, Message, MessageMention, ThreadFollow, User
from ..models.types import utcnow
from ..presenters import dump, message_out, thread_summary
from ..schemas.messages import MessageOut
from ..store.sequence import next_room_seq, room_order
from .access import require_can_post_to
from .mentions import plan_message


def thread_root(room_id: int, thread_id: int) -> Message:
    """The root of the thread a reply to `thread_id` joins: that message, or its root
    when it is itself a reply. A message of another room answers like one that does not
    exist, so a thread_id tells nothing of rooms the sender cannot read."""
    named = db.session.get(Message, thread_id, populate_existing=True)
    if named is None or named.room_id != room_id:
        raise NotFound(
            "No such message in this room.",
            code="thread_not_found",
            details={"room_id": room_id, "thread_id": thread_id},
        )
    root = named
    if named.thread_id is not None:
        root = db.session.get_one(Message, named.thread_id, populate_existing=True)
    if named.deleted or root.deleted:
        raise ApiError(
            "That message was deleted: its thread takes no more replies.",
            code="thread_root_deleted",
            status=422,
            details={"thread_id": thread_id, "root_id": root.id},
        )
    return root


def send_reply(
    actor: User,
    room_id: int,
    body: str,
    client_id: str | None,
    thread_id: int,
    *,
    also_to_room: bool = False,
) -> tuple[MessageOut, bool, list[int]]:
    """send_message for a reply: the same checks, answer and events, plus the thread's."""
    started = time.perf_counter()
    require_can_post_to(actor, room_id)
    rendered = plan_message(actor, room_id, body)
    try:
        with room_order(room_id):
            # The first write: it holds the room until commit, so the lookups below see
            # every send and delete committed before this one.
            seq = next_room_seq(room_id)
            if client_id is not None and (earlier := _stored(actor.id, client_id)):
                db.session.rollback()
                return message_out(same_room_resend(earlier, room_id)), False, []
            root = thread_root(room_id, thread_id)
            reply = Message(
                room_id=room_id,
                author_id=actor.id,
                body=body,
                html=rendered.html,
                client_id=client_id,
                created_at=utcnow(),
                seq=seq,
                mentions=rendered.mentions,
                mentions_room=rendered.mentions_room,
                thread_id=root.id,
                also_to_room=also_to_room,
                # Given, not left to the server defaults, so presenting the reply below
                # reads nothing back.
                reply_count=0,
                last_reply_at=None,
                participant_ids=[],
            )
            db.session.add(reply)
            db.session.flush()
            db.session.add_all(
                MessageMention(message_id=reply.id, user_id=user_id, room_id=room_id)
                for user_id in rendered.notify
            )
            if also_to_room:
                _mark_room_read(room_id, actor.id, reply.id)
            _follow(root, (root.author_id, actor.id), reader_id=actor.id, read_up_to=reply.id)
            out = message_out(reply)
            emit_after_commit(
                Event("message:new", {"message": dump(out), "seq": seq}, room_id=room_id)
            )
            if rendered.notify:
                emit_after_commit(
                    Event(
                        "mention",
                        {"room_id": room_id, "message_id": reply.id},
                        user_ids=rendered.notify,
                    )
                )
            # The root's change takes a number of its own, after the reply's: a client
            # that saw the reply but not the summary still has it brought by sync.
            refresh_summary(root, next_room_seq(room_id))
            db.session.commit()
    except IntegrityError:
        # The same client_id raced in from another room's send: answer as a resend.
        db.session.rollback()
        earlier = _stored(actor.id, client_id) if client_id is not None else None
        if earlier is None:
            raise
        return message_out(same_room_resend(earlier, room_id)), False, []
    observe_send(started)
    return out, True, rendered.not_notified


def _stored(author_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.author_id == author_id, Message.client_id == client_id)
    )


def same_room_resend(earlier: Message, room_id: int) -> Message:
    """The message an earlier send with the same client_id stored, if it went to this
    room: a resend answers with it; one to another room is a conflict."""
    if earlier.room_id != room_id:
        raise Conflict(
            "That client_id was already used for a message in another room.",
            code="client_id_reused",
            details={"message_id": earlier.id, "room_id": earlier.room_id},
        )
    return earlier


def _mark_room_read(room_id: int, user_id: int, message_id: int) -> None:
    """As the batch does for a new message: its author has read it."""
    db.session.execute(
        update(Membership)
        .where(
            Membership.room_id == room_id,
            Membership.user_id == user_id,
            Membership.last_read_message_id < message_id,
        )
        .values(last_read_message_id=message_id)
        .execution_options(synchronize_session=False)
    )


def _follow(root: Message, user_ids: tuple[int, ...], *, reader_id: int, read_up_to: int) -> None:
    """Make them follow the thread; the reader has read it up to their reply. Called
    with the room's order held, so no other reply adds the same follower meanwhile."""
    wanted = list(dict.fromkeys(user_ids))
    existing = {
        follow.user_id: follow
        for follow in db.session.scalars(
            select(ThreadFollow).where(
                ThreadFollow.root_id == root.id, ThreadFollow.user_id.in_(wanted)
            )
        )
    }
    for user_id in wanted:
        follow = existing.get(user_id)
        if follow is None:
            follow = ThreadFollow(
                root_id=root.id, user_id=user_id, room_id=root.room_id, last_read_id=0
            )
            db.session.add(follow)
        if user_id == reader_id:
            follow.last_read_id = max(follow.last_read_id, read_up_to)


def refresh_summary(root: Message, seq: int) -> None:
    """Rewrite the root's thread summary from its replies not deleted, give the change
    its sequence number, and tell the room once committed. Called with the room's order
    held and `seq` taken under it."""
    replies = db.session.execute(
        select(Message.author_id, Message.created_at)
        .where(Message.thread_id == root.id, Message.deleted_at.is_(None))
        .order_by(Message.id)
    ).all()
    root.reply_count = len(replies)
    root.last_reply_at = replies[-1].created_at if replies else None
    root.participant_ids = list(dict.fromkeys(author_id for author_id, _ in replies))
    root.changed_seq = seq
    summary = thread_summary(root)
    emit_after_commit(
        Event(
            "thread:update",
            {
                "room_id": root.room_id,
                "root_id": root.id,
                "thread": dump(summary) if summary is not None else None,
                "seq": seq,
            },
            room_id=root.room_id,
        )
    )
