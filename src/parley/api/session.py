"""/auth/session: the web page's login, held in an HttpOnly session cookie.

The cookie holds only a random session id (the session is a token of kind "session",
stored hashed); every answer here carries the CSRF token that
the page sends back in X-CSRF-Token on each state-changing request.
"""

from __future__ import annotations

from ..actions import accounts
from ..devices import current_device, remember_device
from ..identity import (
    current_session_token,
    end_session,
    login_client,
    require_same_origin,
    session_csrf_token,
    session_token_in_cookie,
    start_session,
)
from ..models import User
from ..presenters import user_out
from ..ratelimits import login_limit, register_limit
from ..schemas.auth import LoginIn, RegisterIn, SessionOut
from .blueprint import api


@api.route(
    "POST",
    "/auth/session",
    tag="auth",
    body=LoginIn,
    response=SessionOut,
    errors=(401, 403),
    auth=False,
    limit=login_limit,
)
def start_web_session(body: LoginIn) -> SessionOut:
    """Log the web page in: sets the session cookie.

    Answers with the user and the CSRF token. A session the cookie already held is
    ended. Refused with 403 csrf_failed when the Origin header names another site. An
    account with two-factor authentication also sends code: without it 401
    totp_required, with a wrong or used one 401 totp_invalid.
    """
    require_same_origin()
    device = current_device()
    user, raw = accounts.login(
        body.username,
        body.password,
        "session",
        replacing=session_token_in_cookie(),
        device=device,
        code=body.code,
        client=login_client(),
    )
    remember_device(user.id, device)
    return SessionOut(user=user_out(user), csrf_token=start_session(raw))


@api.route(
    "POST",
    "/auth/session/register",
    tag="auth",
    body=RegisterIn,
    response=SessionOut,
    status=201,
    errors=(403, 409),
    auth=False,
    limit=register_limit,
)
def register_web_session(body: RegisterIn) -> SessionOut:
    """Create an account and log the web page in with it: sets the session cookie.

    Answers with the new user and the CSRF token; no API token is made. Refused with
    403 csrf_failed when the Origin header names another site.
    """
    require_same_origin()
    user, raw = accounts.register(
        body.username,
        body.password,
        body.display_name,
        kind="session",
        replacing=session_token_in_cookie(),
        client=login_client(),
    )
    remember_device(user.id, current_device())
    return SessionOut(user=user_out(user), csrf_token=start_session(raw))


@api.route("GET", "/auth/session", tag="auth", response=SessionOut, auth="session")
def get_web_session(actor: User) -> SessionOut:
    """The logged-in user of the session cookie, and its CSRF token.

    401 when the cookie holds no live session; 400 not_a_session for a request that
    sends an Authorization header instead.
    """
    return SessionOut(user=user_out(actor), csrf_token=session_csrf_token())


@api.route("DELETE", "/auth/session", tag="auth", status=204, auth="session")
def end_web_session(actor: User) -> None:
    """Log the web page out: revokes the session's token and clears the cookie."""
    accounts.logout(current_session_token())
    end_session()
