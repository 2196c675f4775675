"""Payloads of the Socket.IO events clients send (see docs/realtime.md)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from .base import RequestBody
from .fields import ClientId, Id, MessageBody, MessageCursor, ReactionText
from .messages import require_thread_for_also_to_room

MAX_SYNC_ROOMS = 1000


class SendEvent(RequestBody):
    room_id: Id
    body: MessageBody
    client_id: ClientId | None = None
    thread_id: Id | None = None
    also_to_room: bool = False

    @model_validator(mode="after")
    def _also_to_room_needs_a_thread(self) -> Self:
        require_thread_for_also_to_room(self.thread_id, self.also_to_room)
        return self


class EditEvent(RequestBody):
    message_id: Id
    body: MessageBody


class MessageRef(RequestBody):
    message_id: Id


class ReactionEvent(RequestBody):
    message_id: Id
    emoji: ReactionText


class PinEvent(RequestBody):
    message_id: Id
    pinned: bool


class RoomRef(RequestBody):
    room_id: Id


class ReadEvent(RequestBody):
    room_id: Id
    message_id: MessageCursor


class SyncEvent(RequestBody):
    # JSON object keys are strings: "12" is room 12, so this one converts.
    model_config = ConfigDict(strict=False, extra="forbid")

    rooms: Annotated[dict[Id, MessageCursor], Field(max_length=MAX_SYNC_ROOMS)] = {}
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class ThreadReadEvent(RequestBody):
    message_id: Id
    last_read_id: MessageCursor
