"""Who is asking: one loader for a Bearer token and the web session cookie alike.

The web session stores a token of kind "session", so both paths resolve through the same
table, and revoking or deactivating ends either at once.
"""

from __future__ import annotations

from flask import g, request, session

from .actions.tokens import authenticate
from .errors import Unauthorized
from .models import ApiToken, User

SESSION_KEY = "token"
_G_KEY = "parley_token"


def current_token() -> ApiToken | None:
    """The token this request authenticates with, or None when it sends none."""
    if _G_KEY in g:
        cached: ApiToken | None = g.get(_G_KEY)
        return cached
    header = request.headers.get("Authorization")
    token: ApiToken | None = None
    if header is not None:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized(
                "Send the token as: Authorization: Bearer <token>.", code="invalid_authorization"
            )
        token = authenticate(raw.strip())
        if token is None:
            raise Unauthorized("The token is not valid or was revoked.", code="invalid_token")
    else:
        raw_session = session.get(SESSION_KEY)
        if isinstance(raw_session, str):
            token = authenticate(raw_session)
            if token is None:
                session.pop(SESSION_KEY, None)
    g.setdefault(_G_KEY, token)
    return token


def current_user() -> User:
    token = current_token()
    if token is None:
        raise Unauthorized()
    return token.user


def forget_request_identity(_exc: BaseException | None = None) -> None:
    g.pop(_G_KEY, None)
