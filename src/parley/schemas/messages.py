"""Messages as the API shows them, and the requests that change them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from .base import QueryArgs, RequestBody, Response
from .fields import ClientId, Id, MessageBody, MessageCursor, SearchText
from .users import UserPublic


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


class SendIn(RequestBody):
    body: MessageBody
    client_id: ClientId | None = None


class EditIn(RequestBody):
    body: MessageBody


class HistoryArgs(QueryArgs):
    before: MessageCursor | None = None
    after: MessageCursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def _one_cursor(self) -> Self:
        if self.before is not None and self.after is not None:
            raise ValueError("give before or after, not both")
        return self


class HistoryOut(Response):
    messages: list[MessageOut]
    has_more: bool


class ReadIn(RequestBody):
    message_id: MessageCursor


class ReadOut(Response):
    room_id: int
    last_read_message_id: int
    unread_count: int


class SearchArgs(QueryArgs):
    q: SearchText
    room_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class SearchOut(Response):
    messages: list[MessageOut]
    has_more: bool
