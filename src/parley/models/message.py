"""Messages: the server-wide increasing id is the order clients sync by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow
from .user import User

# SQLite only gives AUTOINCREMENT (ids never reused, even after the newest is deleted) to
# a column typed exactly INTEGER.
MessageId = BigInteger().with_variant(Integer(), "sqlite")


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("author_id", "client_id"),
        Index("ix_messages_room_id_id", "room_id", "id"),
        Index("ix_messages_room_id_changed_seq", "room_id", "changed_seq"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deleted by a moderator rather than by its author. Only a server default: the batch
    # insert of new messages (store/message_batch.py) names its columns and no other.
    deleted_by_moderator: Mapped[bool] = mapped_column(server_default=false())
    # The room sequence number taken when the message was posted, and by its latest edit
    # or delete.
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    changed_seq: Mapped[int | None] = mapped_column(BigInteger)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def deleted_by(self) -> str | None:
        """Who deleted it: "author" or "moderator" (None while it is not deleted)."""
        if self.deleted_at is None:
            return None
        return "moderator" if self.deleted_by_moderator else "author"

    def __repr__(self) -> str:
        return f"<Message {self.id} in room {self.room_id}>"
