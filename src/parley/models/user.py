"""Accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .role import Permission, Role
from .types import UTCDateTime, utcnow


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # NFKC + casefold of the username: the key that makes names unique ignoring case.
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Digest of the username's confusable skeleton (see parley.usernames): look-alike
    # names share it. Empty only for a look-alike that was already there before 0003.
    username_skeleton: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor authentication (TOTP): the base32 secret, set at enrolment and in force
    # once confirmed; the time step of the last code accepted, so no code is used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Digest of the current profile picture (models/avatar.py), None without one: its
    # version in the picture's URL and its ETag, so a new picture is never served stale.
    avatar_key: Mapped[str | None] = mapped_column(String(32))

    role: Mapped[Role] = relationship(lazy="joined", innerjoin=True)

    def can(self, permission: Permission) -> bool:
        return self.active and self.role.has_permission(permission)

    @property
    def is_admin(self) -> bool:
        return self.can(Permission.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.username}>"
