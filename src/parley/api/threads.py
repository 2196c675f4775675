"""Threads: a thread's replies, the threads you follow, and marking one read."""

from __future__ import annotations

from ..actions import threads
from ..models import User
from ..presenters import message_out
from ..schemas.messages import (
    FollowedThreadOut,
    ThreadArgs,
    ThreadOut,
    ThreadReadIn,
    ThreadReadOut,
    ThreadsArgs,
    ThreadsOut,
)
from .blueprint import api


@api.route(
    "GET", "/messages/<id:message_id>/thread", tag="threads", query=ThreadArgs, response=ThreadOut
)
def get_thread(actor: User, message_id: int, query: ThreadArgs) -> ThreadOut:
    """A thread: its root and a page of its replies in ascending id order (with `after`,
    the oldest above that id). A reply's id stands for its root's thread."""
    page = threads.thread_page(actor, message_id, query.after, query.limit)
    return ThreadOut(
        root=message_out(page.root),
        messages=[message_out(m) for m in page.replies],
        has_more=page.has_more,
    )


@api.route(
    "POST",
    "/messages/<id:message_id>/thread/read",
    tag="threads",
    body=ThreadReadIn,
    response=ThreadReadOut,
)
def mark_thread_read(actor: User, message_id: int, body: ThreadReadIn) -> ThreadReadOut:
    """Mark a thread read up to a reply id; the mark only moves forward, and is kept only
    for a thread you follow (`following`)."""
    state = threads.mark_thread_read(actor, message_id, body.last_read_id)
    return ThreadReadOut(
        root_id=state.root_id,
        last_read_id=state.last_read_id,
        unread_count=state.unread_count,
        following=state.following,
    )


@api.route("GET", "/threads", tag="threads", query=ThreadsArgs, response=ThreadsOut, errors=(404,))
def followed_threads(actor: User, query: ThreadsArgs) -> ThreadsOut:
    """The threads you follow (you wrote the root or a reply) in rooms you may still
    read, newest reply first, each with your unread replies (others', not deleted).
    With `before` (the root id of the last thread of a page), the next page; 404 if you
    do not follow that thread (any more)."""
    found, has_more = threads.followed_threads(actor, query.limit, query.before)
    return ThreadsOut(
        threads=[
            FollowedThreadOut(
                root=message_out(t.root), unread_count=t.unread_count, last_read_id=t.last_read_id
            )
            for t in found
        ],
        has_more=has_more,
    )
