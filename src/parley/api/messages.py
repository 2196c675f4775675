"""Messages in rooms, read state, and search."""

from __future__ import annotations

from ..actions import messages, search
from ..models import User
from ..presenters import message_out
from ..ratelimits import limit_sends
from ..schemas.messages import (
    EditIn,
    HistoryArgs,
    HistoryOut,
    MessageOut,
    ReadIn,
    ReadOut,
    SearchArgs,
    SearchOut,
    SendIn,
)
from .blueprint import api


@api.route(
    "GET", "/rooms/<id:room_id>/messages", tag="messages", query=HistoryArgs, response=HistoryOut
)
def history(actor: User, room_id: int, query: HistoryArgs) -> HistoryOut:
    """A page of a room's messages, in ascending id order.

    With `after`, the oldest messages above that id (for catching up); with `around`, that
    message with up to half the page before it and the rest after (for opening a search
    hit in context; 404 when it is not a message of this room), then `has_more` says
    whether older messages precede the page and `has_newer` whether newer ones follow;
    otherwise the newest below `before`, or the newest of all (for scrolling back).
    `has_more` says whether the page was cut at `limit`.
    """
    page = messages.history(
        actor,
        room_id,
        before=query.before,
        after=query.after,
        around=query.around,
        limit=query.limit,
    )
    return HistoryOut(
        messages=[message_out(m) for m in page.messages],
        has_more=page.has_more,
        has_newer=page.has_newer,
    )


@api.route(
    "POST",
    "/rooms/<id:room_id>/messages",
    tag="messages",
    body=SendIn,
    response=MessageOut,
    status=201,
    also=(200,),
    errors=(409, 429, 503),
)
@limit_sends
def send_message(actor: User, room_id: int, body: SendIn) -> tuple[MessageOut, int]:
    """Post a message (markdown).

    A resend with a client_id you already used answers 200 with the first message and
    creates nothing. Under overload the server answers 503 `overloaded` at once, with
    Retry-After, and stores nothing: send again with the same client_id after that
    many seconds.
    """
    message, created = messages.send_message(actor, room_id, body.body, body.client_id)
    return message, 201 if created else 200


@api.route(
    "PATCH",
    "/messages/<id:message_id>",
    tag="messages",
    body=EditIn,
    response=MessageOut,
    errors=(409,),
)
def edit_message(actor: User, message_id: int, body: EditIn) -> MessageOut:
    """Edit your own message."""
    return messages.edit_message(actor, message_id, body.body)


@api.route("DELETE", "/messages/<id:message_id>", tag="messages", response=MessageOut)
def delete_message(actor: User, message_id: int) -> MessageOut:
    """Delete a message (yours, or any as a moderator); the id stays as a tombstone."""
    return messages.delete_message(actor, message_id)


@api.route("POST", "/rooms/<id:room_id>/read", tag="messages", body=ReadIn, response=ReadOut)
def mark_read(actor: User, room_id: int, body: ReadIn) -> ReadOut:
    """Mark a room read up to a message id; the mark only moves forward."""
    state = messages.mark_read(actor, room_id, body.message_id)
    return ReadOut(
        room_id=state.room_id,
        last_read_message_id=state.last_read_message_id,
        unread_count=state.unread_count,
    )


@api.route("GET", "/search", tag="messages", query=SearchArgs, response=SearchOut, errors=(404,))
def search_messages(actor: User, query: SearchArgs) -> SearchOut:
    """Full-text search, newest first, over the messages you may read.

    Every word must match, each as a word prefix; punctuation is ignored.
    """
    page = search.search_messages(actor, query.q, query.room_id, query.limit)
    return SearchOut(messages=[message_out(m) for m in page.messages], has_more=page.has_more)
