"""Messages in rooms, read state, and search."""

from __future__ import annotations

from ..actions import mentions, messages, pins, reactions, search
from ..models import User
from ..presenters import message_out, reactions_out
from ..ratelimits import limit_sends
from ..schemas.messages import (
    EarlierBody,
    EditHistoryOut,
    EditIn,
    HistoryArgs,
    HistoryOut,
    MentionArgs,
    MentionsOut,
    MessageOut,
    PinsOut,
    ReactionsOut,
    ReadIn,
    ReadOut,
    SearchArgs,
    SearchOut,
    SendIn,
    SentOut,
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
    response=SentOut,
    status=201,
    also=(200,),
    errors=(409, 429, 503),
)
@limit_sends
def send_message(actor: User, room_id: int, body: SendIn) -> tuple[SentOut, int]:
    """Post a message (markdown).

    A resend with a client_id you already used answers 200 with the first message and
    creates nothing. Under overload the server answers 503 `overloaded` at once, with
    Retry-After, and stores nothing: send again with the same client_id after that
    many seconds.

    `@username` names a user, `@room` calls every member and `@here` those online (in a
    room of more than 50 members, `@room` takes a moderator: others get 403
    `mention_not_allowed` and nothing is stored). Those named who cannot read the room
    are not told, and are listed in `not_notified`.

    With `thread_id` (a message of this room; a reply's id stands for its root) the
    message is a reply in that thread, kept out of the room's timeline unless
    `also_to_room`: 404 `thread_not_found` when no such message is in the room, 422
    `thread_root_deleted` when it or its root was deleted; nothing is stored then.
    """
    message, created, not_notified = messages.send_message(
        actor,
        room_id,
        body.body,
        body.client_id,
        thread_id=body.thread_id,
        also_to_room=body.also_to_room,
    )
    sent = SentOut(**message.model_dump(), not_notified=not_notified)
    return sent, 201 if created else 200


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
        mention_count=state.mention_count,
    )


@api.route("GET", "/search", tag="messages", query=SearchArgs, response=SearchOut, errors=(404,))
def search_messages(actor: User, query: SearchArgs) -> SearchOut:
    """Full-text search, newest first, over the messages you may read.

    Every word must match, each as a word prefix; punctuation is ignored.
    """
    page = search.search_messages(actor, query.q, query.room_id, query.limit)
    return SearchOut(messages=[message_out(m) for m in page.messages], has_more=page.has_more)


@api.route(
    "PUT",
    "/messages/<id:message_id>/reactions/<emoji>",
    tag="messages",
    response=ReactionsOut,
    errors=(409, 422),
)
def add_reaction(actor: User, message_id: int, emoji: str) -> ReactionsOut:
    """React with one emoji (Unicode, or its `:shortcode:`, stored as Unicode); reacting
    again with the same one changes nothing. At most 20 different emoji a message."""
    return reactions_out(message_id, reactions.add_reaction(actor, message_id, emoji))


@api.route(
    "DELETE",
    "/messages/<id:message_id>/reactions/<emoji>",
    tag="messages",
    response=ReactionsOut,
    errors=(409, 422),
)
def remove_reaction(actor: User, message_id: int, emoji: str) -> ReactionsOut:
    """Take back your reaction; taking back one you did not make changes nothing."""
    return reactions_out(message_id, reactions.remove_reaction(actor, message_id, emoji))


@api.route(
    "PUT", "/messages/<id:message_id>/pin", tag="messages", response=MessageOut, errors=(409,)
)
def pin_message(actor: User, message_id: int) -> MessageOut:
    """Pin a message to its room (moderators and owners; both people in a direct room)."""
    return pins.set_pinned(actor, message_id, True)


@api.route(
    "DELETE", "/messages/<id:message_id>/pin", tag="messages", response=MessageOut, errors=(409,)
)
def unpin_message(actor: User, message_id: int) -> MessageOut:
    """Unpin a message (the same people as pinning)."""
    return pins.set_pinned(actor, message_id, False)


@api.route("GET", "/rooms/<id:room_id>/pins", tag="messages", response=PinsOut)
def pinned_messages(actor: User, room_id: int) -> PinsOut:
    """The room's pinned messages, newest pin first."""
    return PinsOut(messages=[message_out(m) for m in pins.pinned_messages(actor, room_id)])


@api.route("GET", "/messages/<id:message_id>/history", tag="messages", response=EditHistoryOut)
def edit_history(actor: User, message_id: int) -> EditHistoryOut:
    """The bodies a message had before its edits, oldest first (none once deleted)."""
    return EditHistoryOut(
        message_id=message_id,
        edits=[EarlierBody.model_validate(e) for e in messages.edit_history(actor, message_id)],
    )


@api.route("GET", "/mentions", tag="messages", query=MentionArgs, response=MentionsOut)
def my_mentions(actor: User, query: MentionArgs) -> MentionsOut:
    """The messages that told you of a mention (`@you`, `@room`, `@here`), newest first,
    in rooms you may still read; page back with `before`."""
    page = mentions.my_mentions(actor, query.before, query.limit)
    return MentionsOut(messages=[message_out(m) for m in page.messages], has_more=page.has_more)
