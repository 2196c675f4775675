"""Registration, login, the web session and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .base import RequestBody, Response
from .fields import DisplayName, Password, TokenName, Username
from .users import UserOut


class RegisterIn(RequestBody):
    username: Username
    password: Password
    display_name: DisplayName | None = None


class LoginIn(RequestBody):
    # Not the registration rules: a login with any string gets the same answer.
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    # For an account with two-factor authentication: a TOTP or a recovery code.
    code: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class AuthOut(Response):
    user: UserOut
    token: str


class SessionOut(Response):
    """The web session's user, and the CSRF token its state-changing requests send in
    the X-CSRF-Token header."""

    user: UserOut
    csrf_token: str


class TokenCreateIn(RequestBody):
    name: TokenName


class TokenOut(Response):
    id: int
    name: str
    kind: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class TokenList(Response):
    tokens: list[TokenOut]


class SessionInfoOut(Response):
    """One login: a web session (kind "session") or an API login (kind "login")."""

    id: int
    kind: str
    device: str | None
    address: str | None
    created_at: datetime
    last_used_at: datetime | None
    current: bool


class SessionList(Response):
    sessions: list[SessionInfoOut]
