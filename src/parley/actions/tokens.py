"""API tokens: issued, listed, revoked, and resolved back to their user."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..events import Event, emit_after_commit
from ..extensions import db
from ..models import ApiToken, User
from ..models.types import utcnow
from .access import require_active

TOKEN_PREFIX = "prly_"
# Longer than any token we issue, so nothing legitimate is cut off.
MAX_TOKEN_LENGTH = 256


def hash_token(raw: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(user: User, name: str, kind: str = "api") -> tuple[ApiToken, str]:
    """Add a new token to the session (the caller commits); returns it and its only copy."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, kind=kind, token_hash=hash_token(raw))
    db.session.add(token)
    return token, raw


def find_token(raw: str) -> ApiToken | None:
    """The stored token for this secret, live or not, without marking it used."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    token: ApiToken | None = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw))
    )
    return token


def authenticate(raw: str) -> ApiToken | None:
    """The live token for this secret, or None; marks it used (at most once a minute).

    A web session's token lapses when unused for as long as its cookie lives, so a copy
    read out of an old cookie does not outlive the cookie."""
    token = find_token(raw)
    if token is None or not token.user.active:
        return None
    now = utcnow()
    if token.kind == "session":
        idle_since = token.last_used_at or token.created_at
        if now - idle_since > current_app.permanent_session_lifetime:
            return None
    every = timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])
    if token.last_used_at is None or now - token.last_used_at >= every:
        token.last_used_at = now
        token.user.last_seen_at = now
        db.session.commit()
    return token


# The user of a live token, with their role joined: one query, built once, as a socket
# checks it on every event.
ACTIVE_USER_OF_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.id == bindparam("token_id"), User.active.is_(True))
)


def active_user_of_token(token_id: int, session: Session) -> User | None:
    """The token's user, or None once the token is revoked or the user deactivated."""
    user: User | None = session.scalar(ACTIVE_USER_OF_TOKEN, {"token_id": token_id})
    return user


def token_revoked_event(token: ApiToken) -> Event:
    """Tells the realtime layer to drop the sockets that logged in with this token."""
    return Event("token:revoked", {"token_id": token.id}, user_ids=(token.user_id,))


def create_token(actor: User, name: str) -> tuple[ApiToken, str]:
    require_active(actor)
    token, raw = issue_token(actor, name, "api")
    db.session.commit()
    return token, raw


def list_tokens(actor: User) -> list[ApiToken]:
    require_active(actor)
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id)
        )
    )


def revoke_token(actor: User, token_id: int) -> None:
    require_active(actor)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("No such token.", details={"token_id": token_id})
    emit_after_commit(token_revoked_event(token))
    db.session.delete(token)
    db.session.commit()
