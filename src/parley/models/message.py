"""Messages: the server-wide increasing id is the order clients sync by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .reaction import Reaction
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
        Index("ix_messages_thread_id_id", "thread_id", "id"),
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
    # The users named with `@name` (outside code), in order; `@room` or `@here` called
    # the room.
    mentions: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    mentions_room: Mapped[bool] = mapped_column(default=False, server_default=false())
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who pinned it, as the message:pin event told; kept without a foreign key, since
    # adding one to `messages` on SQLite would rebuild the table and its search triggers.
    pinned_by_id: Mapped[int | None] = mapped_column(Integer)

    # A reply names its thread's root (a message of the same room). Kept without a foreign
    # key, like pinned_by_id: adding one to `messages` on SQLite would rebuild the table.
    thread_id: Mapped[int | None] = mapped_column(MessageId)
    # A reply that was also posted to the room's timeline.
    also_to_room: Mapped[bool] = mapped_column(server_default=false())
    # A root's thread summary, kept on the root so presenting a message runs no query;
    # rewritten from the replies whenever one is sent or deleted. These and also_to_room
    # have server defaults only: the batch insert of new messages names no other columns.
    reply_count: Mapped[int] = mapped_column(server_default="0")
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    participant_ids: Mapped[list[int]] = mapped_column(JSON, server_default="[]")

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    # Loaded with every query of messages, in one more statement for all of them (a
    # history page costs the same number of statements however many reactions it has).
    reaction_rows: Mapped[list[Reaction]] = relationship(
        lazy="selectin", order_by=Reaction.id, viewonly=True
    )

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def pinned(self) -> bool:
        return self.pinned_at is not None

    @property
    def reactions(self) -> list[ReactionGroup]:
        return group_reactions(self.reaction_rows)

    @property
    def deleted_by(self) -> str | None:
        """Who deleted it: "author" or "moderator" (None while it is not deleted)."""
        if self.deleted_at is None:
            return None
        return "moderator" if self.deleted_by_moderator else "author"

    def __repr__(self) -> str:
        return f"<Message {self.id} in room {self.room_id}>"


# What a room's timeline shows: every message but replies kept to their thread.
IN_TIMELINE = or_(Message.thread_id.is_(None), Message.also_to_room.is_(True))


@dataclass(frozen=True)
class ReactionGroup:
    emoji: str
    count: int
    user_ids: list[int]


def group_reactions(rows: list[Reaction]) -> list[ReactionGroup]:
    """By emoji, in the order each was first used (rows come in insertion order)."""
    users: dict[str, list[int]] = {}
    for row in rows:
        users.setdefault(row.emoji, []).append(row.user_id)
    return [ReactionGroup(emoji, len(ids), ids) for emoji, ids in users.items()]
