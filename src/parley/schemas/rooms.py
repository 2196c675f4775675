"""Rooms, memberships and the requests that change them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from .base import RequestBody, Response
from .fields import Id, RoomName, Topic
from .users import UserPublic
from .video import LiveOut


class RoomCreateIn(RequestBody):
    name: RoomName
    topic: Topic = ""
    kind: Literal["public", "private"] = "public"


class RoomUpdateIn(RequestBody):
    name: RoomName | None = None
    topic: Topic | None = None
    archived: bool | None = None
    # Making a room private or public: its owners (and administrators) only.
    kind: Literal["public", "private"] | None = None


class RoomOut(Response):
    id: int
    name: str | None
    topic: str
    kind: str
    created_by: int | None
    created_at: datetime
    archived: bool
    member_count: int
    last_message_id: int
    # The room's change sequence number so far (see docs/realtime.md).
    last_seq: int
    # The room's live broadcast, or null when it is not live (see docs/video.md).
    live: LiveOut | None = None


class MyRoomOut(RoomOut):
    """A room in the caller's own list, with their place in it."""

    role: str
    unread_count: int
    last_read_message_id: int
    muted_until: datetime | None
    # The other person, for a direct room.
    peer: UserPublic | None = None


class RoomList(Response):
    rooms: list[MyRoomOut]


class DirectoryList(Response):
    rooms: list[RoomOut]


class MemberOut(Response):
    user: UserPublic
    role: str
    joined_at: datetime
    muted_until: datetime | None
    banned: bool
    # The member's moderation rank here: 0 member, 1 room moderator, 2 owner, 3 global
    # moderator, 4 administrator (-1 banned). Moderators act only on lower ranks.
    rank: int
    # Whether the member has read anything here: false for someone added or joined who
    # has not yet opened the room since (or a room with no messages yet).
    seen: bool


class MemberList(Response):
    members: list[MemberOut]


class InviteIn(RequestBody):
    user_id: Id


class DirectIn(RequestBody):
    user_id: Id


class MuteIn(RequestBody):
    minutes: Annotated[int, Field(ge=1, le=366 * 24 * 60)]


class MemberRoleIn(RequestBody):
    role: Literal["member", "moderator", "owner"]
