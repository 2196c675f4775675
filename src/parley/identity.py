"""Who is asking: one loader for a Bearer token and the web session cookie alike.

The web session cookie (signed, not encrypted) holds only a random session id; the
session lives server-side as a token of kind "session", stored as a hash like any token,
so both paths resolve through the same table and revoking or deactivating ends either at
once. The id is no Bearer token: read out of a cookie, it works only in a signed cookie.

A browser sends the cookie on its own, even on a request another site started, so a
state-changing request that authenticates with the cookie must also carry the session's
CSRF token in ``X-CSRF-Token``; a header-authenticated request needs none, since no other
site can make a browser send it.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import g, request, session

from .actions.tokens import Client, authenticate, authenticate_session, find_token
from .actions.two_factor import admin_must_enrol
from .errors import BadRequest, Forbidden, Unauthorized
from .models import ApiToken, User
from .user_agents import summarize_user_agent

SESSION_KEY = "sid"
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_G_KEY = "parley_token"
_DEFAULT_PORTS = {"http": "80", "https": "443"}


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
        token = authenticate(raw.strip(), request.remote_addr)
        if token is None:
            raise Unauthorized("The token is not valid or was revoked.", code="invalid_token")
    else:
        session_id = session.get(SESSION_KEY)
        if isinstance(session_id, str):
            if request.method not in SAFE_METHODS:
                _require_csrf_token()
            token = authenticate_session(session_id, request.remote_addr)
            if token is None:
                session.pop(SESSION_KEY, None)
    g.setdefault(_G_KEY, token)
    return token


def cookie_session_token() -> ApiToken | None:
    """The live web session the signed cookie names, with no CSRF check: for the Socket.IO
    handshake, which changes nothing."""
    session_id = session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    return authenticate_session(session_id, request.remote_addr)


def login_client() -> Client:
    """The device and address a login is made from, as the sessions list shows them."""
    return Client(summarize_user_agent(request.user_agent.string), request.remote_addr)


# What an administrator's login may do while PARLEY_REQUIRE_ADMIN_2FA is on and they have
# no second factor yet: see who they are, enrol, and end sessions.
ENROL_ENDPOINTS = frozenset(
    {
        "api.me",
        "api.two_factor_status",
        "api.start_two_factor",
        "api.confirm_two_factor",
        "api.get_web_session",
        "api.end_web_session",
        "api.logout",
        "api.list_sessions",
        "api.revoke_session",
    }
)


def require_enrolled(token: ApiToken) -> None:
    """Refuse an unenrolled administrator's login everything but enrolment (403)."""
    if request.endpoint not in ENROL_ENDPOINTS and admin_must_enrol(token):
        raise Forbidden(
            "This server requires administrators to use two-factor authentication: "
            "enrol with POST /api/v1/users/me/2fa first.",
            code="admin_2fa_required",
        )


def current_user() -> User:
    token = current_token()
    if token is None:
        raise Unauthorized()
    require_enrolled(token)
    return token.user


def current_session_token() -> ApiToken:
    """The live web session this request's cookie holds; a request with an Authorization
    header is refused, since a token sent that way is not a session."""
    if "Authorization" in request.headers:
        raise BadRequest(
            "This route is for the web session cookie; send no Authorization header.",
            code="not_a_session",
        )
    token = current_token()
    if token is None:
        raise Unauthorized("No web session: log in with POST /api/v1/auth/session.")
    require_enrolled(token)
    return token


def session_token_in_cookie() -> ApiToken | None:
    """The session-kind token the cookie holds, if still stored, whatever else the request
    sends: what a new login in this browser replaces."""
    raw = session.get(SESSION_KEY)
    token = find_token(raw) if isinstance(raw, str) else None
    return token if token is not None and token.kind == "session" else None


def start_session(session_id: str) -> str:
    """Put a session id in the (permanent) session cookie with a new CSRF token; returns
    that."""
    csrf = secrets.token_urlsafe(32)
    session[SESSION_KEY] = session_id
    session[CSRF_KEY] = csrf
    session.permanent = True
    return csrf


def session_csrf_token() -> str:
    """The session's CSRF token, made now if it has none yet."""
    csrf = session.get(CSRF_KEY)
    if not isinstance(csrf, str) or not csrf:
        csrf = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return csrf


def end_session() -> None:
    """Empty the session, so the answer deletes the cookie."""
    session.clear()


def _require_csrf_token() -> None:
    expected = session.get(CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER, "")
    if not (
        isinstance(expected, str)
        and expected
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise Forbidden(
            f"A request made with the session cookie must send the session's CSRF token "
            f"in the {CSRF_HEADER} header (GET /api/v1/auth/session answers it).",
            code="csrf_failed",
        )


def require_same_origin() -> None:
    """Refuse a request another site's page started (login CSRF): a browser names the
    page's origin in Origin, which must then be this server's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    ours = _origin_of(request.host_url)
    if ours is None or _origin_of(origin) != ours:
        raise Forbidden(
            "A login from another site's page is refused; log in from this server's page.",
            code="csrf_failed",
        )


def _origin_of(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) in lower case with the scheme's default port dropped; None
    for what is not an http(s) origin ("null", garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return scheme, host


def forget_request_identity(_exc: BaseException | None = None) -> None:
    g.pop(_G_KEY, None)
