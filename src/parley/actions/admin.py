"""What the admin console reads: every account, every room, the live broadcasts and the
server's own state. What it changes goes through the same actions as the rest of the API
(accounts, rooms, video); each of these reads starts with the same administrator check."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Role, Room, RoomKind, User
from ..probes import database_state, parley_version, queue_state
from ..schemas.fields import room_name_key, username_key
from .access import require_administrator
from .rooms import RoomView, room_views


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(actor: User, query: str, limit: int) -> list[User]:
    """Accounts, deactivated ones too, whose username starts with the query or whose
    display name contains it (ignoring case), by username."""
    require_administrator(actor)
    statement = select(User)
    if query:
        key = _like_escaped(username_key(query))
        name = _like_escaped(query.lower())
        statement = statement.where(
            or_(
                User.username_key.like(key + "%", escape="\\"),
                func.lower(User.display_name).like("%" + name + "%", escape="\\"),
            )
        )
    return list(db.session.scalars(statement.order_by(User.username_key).limit(limit)))


def role_names(actor: User) -> list[str]:
    require_administrator(actor)
    return list(db.session.scalars(select(Role.name).order_by(Role.id)))


def list_rooms(actor: User, query: str, limit: int) -> list[RoomView]:
    """Public and private rooms, archived ones too, by name (direct rooms are two
    people's conversations, not the server's to manage)."""
    require_administrator(actor)
    statement = select(Room).where(Room.kind != RoomKind.DIRECT)
    if query:
        statement = statement.where(
            Room.name_key.like("%" + _like_escaped(room_name_key(query)) + "%", escape="\\")
        )
    return room_views(list(db.session.scalars(statement.order_by(Room.name_key).limit(limit))))


def live_rooms(actor: User) -> list[RoomView]:
    """The public and private rooms live now, wherever their broadcast runs."""
    require_administrator(actor)
    rooms = list(
        db.session.scalars(select(Room).where(Room.kind != RoomKind.DIRECT).order_by(Room.id))
    )
    return [view for view in room_views(rooms) if view.live is not None]


@dataclass(frozen=True)
class ServerStatus:
    version: str
    database_kind: str
    database: str
    message_queue: str
    sockets_connected: int
    uptime_seconds: int


def server_status(actor: User) -> ServerStatus:
    """This process's view: its database and queue as /readyz finds them, its sockets."""
    require_administrator(actor)
    app = current_app
    sockets = app.extensions.get("parley.sockets")
    return ServerStatus(
        version=parley_version(),
        database_kind=db.session.get_bind().dialect.name,
        database=database_state()[0],
        message_queue=queue_state(app)[0],
        sockets_connected=len(sockets) if sockets is not None else 0,
        uptime_seconds=int(time.time() - app.extensions["parley.started_at"]),
    )
