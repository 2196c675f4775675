"""Who follows a thread, and how far they have read it."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model

RowId = BigInteger().with_variant(Integer(), "sqlite")


class ThreadFollow(Model):
    """One person following one thread: its root's author and everyone who replied.
    Their unread replies are the others' replies, not deleted, above `last_read_id`."""

    __tablename__ = "thread_follows"
    __table_args__ = (Index("ix_thread_follows_user_id_room_id", "user_id", "room_id"),)

    root_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The root's room, so the rooms a person may still read filter their threads
    # without a join through messages.
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    last_read_id: Mapped[int] = mapped_column(RowId, default=0, server_default="0")
