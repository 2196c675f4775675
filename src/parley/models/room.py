"""Rooms and who belongs to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow
from .user import User


class RoomKind(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    DIRECT = "direct"


class RoomRole(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    OWNER = "owner"


class Room(Model):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Direct rooms have no name; NULLs never collide in a unique index.
    name: Mapped[str | None] = mapped_column(String(64))
    name_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    topic: Mapped[str] = mapped_column(String(250), default="")
    kind: Mapped[str] = mapped_column(String(16), index=True)
    # "<low user id>:<high user id>" for direct rooms: one room per pair.
    direct_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived: Mapped[bool] = mapped_column(default=False)
    # The room's change sequence: every new, edited or deleted message takes the next
    # number, so a client can tell it missed one (see docs/realtime.md).
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    created_by: Mapped[User | None] = relationship()

    @property
    def is_direct(self) -> bool:
        return self.kind == RoomKind.DIRECT

    def __repr__(self) -> str:
        return f"<Room {self.id} {self.name or self.direct_key}>"


class Membership(Model):
    __tablename__ = "memberships"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=RoomRole.MEMBER)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_read_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A ban keeps the row, so the user cannot simply join again.
    banned: Mapped[bool] = mapped_column(default=False)
    # "all", "mentions" or "none"; None is the room kind's default (notification_level).
    notification_level: Mapped[str | None] = mapped_column(String(16))

    room: Mapped[Room] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def effective_notification_level(self) -> str:
        if self.notification_level is not None:
            return self.notification_level
        return "all" if self.room.is_direct else "mentions"

    @property
    def is_moderator(self) -> bool:
        return self.role in (RoomRole.MODERATOR, RoomRole.OWNER)

    def __repr__(self) -> str:
        return f"<Membership room={self.room_id} user={self.user_id} {self.role}>"
