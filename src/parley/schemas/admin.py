"""What the admin console asks and is answered."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import QueryArgs, RequestBody, Response
from .fields import UserQuery
from .rooms import RoomOut
from .users import UserOut


class AdminSearch(QueryArgs):
    q: UserQuery = ""
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class AdminUserList(Response):
    users: list[UserOut]
    roles: list[str] = Field(description="Every role's name, for changing a user's role.")


class PasswordResetOut(Response):
    user: UserOut
    password: str = Field(
        description="The new password, shown this once: the server keeps only its hash."
    )


class AdminRoomList(Response):
    rooms: list[RoomOut]


class AdminRoomUpdateIn(RequestBody):
    archived: bool


class ServerStatusOut(Response):
    version: str
    database_kind: str = Field(description="The database engine: sqlite or postgresql.")
    database: Literal["ok", "unreachable"]
    message_queue: Literal["ok", "unreachable", "not configured"]
    sockets_connected: int = Field(description="Sockets connected to this process.")
    uptime_seconds: int = Field(description="Seconds since this process started serving.")
