"""Roles and the permission bitmask they grant."""

from __future__ import annotations

from enum import IntFlag
from typing import Any

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from ..extensions import Model


class Permission(IntFlag):
    READ = 1
    WRITE = 2
    CREATE_ROOMS = 4
    MODERATE = 8
    ADMIN = 16


USER_PERMISSIONS = Permission.READ | Permission.WRITE | Permission.CREATE_ROOMS

# name -> (permissions, is the default for new accounts)
DEFAULT_ROLES: dict[str, tuple[Permission, bool]] = {
    "User": (USER_PERMISSIONS, True),
    "Moderator": (USER_PERMISSIONS | Permission.MODERATE, False),
    "Administrator": (USER_PERMISSIONS | Permission.MODERATE | Permission.ADMIN, False),
}


class Role(Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[int] = mapped_column(Integer, default=0)
    default: Mapped[bool] = mapped_column(default=False, index=True)

    def has_permission(self, permission: Permission) -> bool:
        # On plain ints: an IntFlag operand makes each operation build a flag member.
        wanted = permission.value
        return self.permissions & wanted == wanted

    def permission_names(self) -> list[str]:
        return [p.name for p in Permission if p.name and self.has_permission(p)]

    def __repr__(self) -> str:
        return f"<Role {self.name}>"


def insert_roles(session: Session | scoped_session[Any]) -> list[Role]:
    """Create or bring up to date the built-in roles; safe to run any number of times."""
    roles = []
    for name, (permissions, default) in DEFAULT_ROLES.items():
        role = session.scalar(select(Role).where(Role.name == name))
        if role is None:
            role = Role(name=name)
            session.add(role)
        role.permissions = int(permissions)
        role.default = default
        roles.append(role)
    session.flush()
    return roles
