"""The device cookie: how a browser that logged in before is told from a stranger.

After a right password the answer sets ``parley_device``: a random id for this browser
and the ids of the users who logged in with it, signed with the app's secret key (so it
cannot be made up or edited, and says nothing secret). Its holder's password checks for
those users count against the device, not the account (see ``parley.login_throttle``),
so guesses from elsewhere never lock the owner's own browser out.
"""

from __future__ import annotations

import secrets

from flask import Response, after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from .login_throttle import Device

COOKIE = "parley_device"
_SALT = "parley.device"
# Enough for a shared family computer; past it, some users are forgotten.
_MAX_USERS = 20
_MAX_AGE = 400 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=_SALT)


def current_device() -> Device | None:
    """The device this request's cookie names, when its signature holds."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    nonce, users = data.get("n"), data.get("u")
    if not isinstance(nonce, str) or not isinstance(users, list):
        return None
    return Device(nonce, frozenset(u for u in users if isinstance(u, int)))


def remember_device(user_id: int, device: Device | None) -> None:
    """Have this request's answer set the device cookie, now knowing this user."""
    nonce = device.nonce if device is not None else secrets.token_urlsafe(18)
    known = [u for u in (device.user_ids if device else ()) if u != user_id]
    users = [*sorted(known)[-(_MAX_USERS - 1) :], user_id]
    value = _serializer().dumps({"n": nonce, "u": users})

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE,
            value,
            max_age=_MAX_AGE,
            path="/api/",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
        return response
