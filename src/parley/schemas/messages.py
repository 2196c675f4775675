"""Messages as the API shows them, and the requests that change them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from .base import QueryArgs, RequestBody, Response
from .fields import ClientId, Id, MessageBody, MessageCursor, SearchText
from .users import UserPublic


class ReactionOut(Response):
    emoji: str
    count: int
    user_ids: list[int]


class ThreadSummary(Response):
    reply_count: int
    last_reply_at: datetime
    # Who replied (replies not deleted), in the order of their first reply.
    participant_ids: list[int]


class MessageOut(Response):
    id: int
    room_id: int
    author: UserPublic
    body: str
    html: str
    client_id: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    # Who deleted it, for the tombstone to say: its author or a moderator (null while the
    # message is not deleted).
    deleted_by: Literal["author", "moderator"] | None = None
    # The room sequence numbers of this message's posting and of its latest edit or delete.
    seq: int
    changed_seq: int | None
    # Grouped by emoji, in the order each was first used.
    reactions: list[ReactionOut]
    pinned: bool
    # The users named with `@name`, in order; `@room` or `@here` called the room.
    mentions: list[int]
    mentions_room: bool
    # A reply names its thread's root; a root with replies carries its thread's summary.
    thread_id: int | None = None
    thread: ThreadSummary | None = None
    # A reply also posted to the room's timeline.
    also_to_room: bool = False


class SendIn(RequestBody):
    body: MessageBody
    client_id: ClientId | None = None
    thread_id: Id | None = Field(
        default=None,
        description="Reply in the thread of this message of the room (a reply's id "
        "stands for its root).",
    )
    also_to_room: bool = Field(
        default=False, description="With `thread_id`: show the reply in the room too."
    )

    @model_validator(mode="after")
    def _also_to_room_needs_a_thread(self) -> Self:
        require_thread_for_also_to_room(self.thread_id, self.also_to_room)
        return self


def require_thread_for_also_to_room(thread_id: int | None, also_to_room: bool) -> None:
    """Only a reply can also go to the room: every other message goes there anyway."""
    if also_to_room and thread_id is None:
        raise ValueError("also_to_room takes a thread_id")


class EditIn(RequestBody):
    body: MessageBody


class HistoryArgs(QueryArgs):
    before: MessageCursor | None = None
    after: MessageCursor | None = None
    around: Id | None = Field(
        default=None,
        description="A message of the room: the page holds it, with up to half the page "
        "before it and the rest after.",
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def _one_cursor(self) -> Self:
        given = [c for c in (self.before, self.after, self.around) if c is not None]
        if len(given) > 1:
            raise ValueError("give one of before, after and around")
        return self


class HistoryOut(Response):
    messages: list[MessageOut]
    has_more: bool = Field(
        description="More messages lie beyond the page: newer ones with `after`, older "
        "ones otherwise."
    )
    has_newer: bool | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="With `around` only (absent otherwise): whether newer messages follow "
        "the page.",
    )


class ReadIn(RequestBody):
    message_id: MessageCursor


class ReadOut(Response):
    room_id: int
    last_read_message_id: int
    unread_count: int
    mention_count: int = 0


class SearchArgs(QueryArgs):
    q: SearchText
    room_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class SearchOut(Response):
    messages: list[MessageOut]
    has_more: bool


class ReactionsOut(Response):
    message_id: int
    reactions: list[ReactionOut]


class PinsOut(Response):
    messages: list[MessageOut]


class EarlierBody(Response):
    body: str
    html: str
    # When this body was written (posted, or put in by an edit) and when an edit replaced it.
    written_at: datetime
    replaced_at: datetime


class EditHistoryOut(Response):
    message_id: int
    # Oldest first; empty for a message never edited, or deleted.
    edits: list[EarlierBody]


class SentOut(MessageOut):
    # Users the body named who cannot read the room, so were not told.
    not_notified: list[int] = []


class MentionArgs(QueryArgs):
    before: MessageCursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class MentionsOut(Response):
    messages: list[MessageOut]
    has_more: bool


class ThreadArgs(QueryArgs):
    after: MessageCursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class ThreadOut(Response):
    root: MessageOut
    # Ascending id order.
    messages: list[MessageOut]
    has_more: bool = Field(description="More replies follow the page.")


class FollowedThreadOut(Response):
    root: MessageOut
    unread_count: int
    last_read_id: int


class ThreadsArgs(QueryArgs):
    before: MessageCursor | None = Field(
        default=None,
        description="The root id of the last thread of the previous page: the threads "
        "after it, in the same order.",
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class ThreadsOut(Response):
    # Newest activity first.
    threads: list[FollowedThreadOut]
    has_more: bool = False


class ThreadReadIn(RequestBody):
    last_read_id: MessageCursor


class ThreadReadOut(Response):
    root_id: int
    last_read_id: int
    unread_count: int
    # Whether the caller follows the thread: only a follower's read mark is kept.
    following: bool
