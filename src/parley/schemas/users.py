"""Accounts as the API shows them, and the requests that change them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from .base import QueryArgs, RequestBody, Response
from .fields import DisplayName, Password, UserQuery


class UserPublic(Response):
    """What anyone logged in may see of a user."""

    id: int
    username: str
    display_name: str
    # GET this for their picture (logged in); it changes with the picture. None: no
    # picture, show a letter tile.
    avatar_url: str | None = None


class UserOut(UserPublic):
    role: str
    permissions: list[str]
    active: bool
    created_at: datetime
    last_seen_at: datetime | None


class UserList(Response):
    users: list[UserOut]


class UpdateMe(RequestBody):
    display_name: DisplayName | None = None
    password: Password | None = None
    old_password: Annotated[str, Field(max_length=1024)] | None = None

    @model_validator(mode="after")
    def _password_needs_old(self) -> Self:
        if self.password is not None and self.old_password is None:
            raise ValueError("changing the password needs old_password")
        return self


class AdminUpdateUser(RequestBody):
    role: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    active: bool | None = None


class UserSearch(QueryArgs):
    q: UserQuery = ""
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class AvatarCrop(QueryArgs):
    """The square of the upright picture to keep, in its pixels; none: the centred one."""

    x: Annotated[int, Field(ge=0, le=100_000)] | None = None
    y: Annotated[int, Field(ge=0, le=100_000)] | None = None
    size: Annotated[int, Field(ge=1, le=100_000)] | None = None

    @model_validator(mode="after")
    def _all_or_none(self) -> Self:
        given = [v is not None for v in (self.x, self.y, self.size)]
        if any(given) and not all(given):
            raise ValueError("a crop needs all of x, y and size, or none of them")
        return self
