"""API tokens: issued, listed, revoked, and resolved back to their user."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..database import in_chunks
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


@dataclass(frozen=True)
class Client:
    """Where a login comes from: its device (summarised User-Agent) and address."""

    device: str | None = None
    address: str | None = None


SESSION_KINDS = ("login", "session")


def issue_token(
    user: User, name: str, kind: str = "api", client: Client | None = None
) -> tuple[ApiToken, str]:
    """Add a new token to the session (the caller commits); returns it and its only copy.

    A web session's secret is a bare random session id, kept in the signed cookie: it
    has no token prefix and is never accepted as a Bearer token, so a copy read out of a
    cookie is no API credential."""
    secret = secrets.token_urlsafe(32)
    raw = secret if kind == "session" else TOKEN_PREFIX + secret
    client = client or Client()
    token = ApiToken(
        user=user,
        name=name,
        kind=kind,
        token_hash=hash_token(raw),
        device=client.device,
        address=client.address,
    )
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


def authenticate(raw: str, address: str | None = None) -> ApiToken | None:
    """The live token for this secret, or None; never a web session's id (see
    authenticate_session). Marks it used (at most once a minute)."""
    token = find_token(raw)
    if token is None or token.kind == "session":
        return None
    return _live(token, address)


def authenticate_session(session_id: str, address: str | None = None) -> ApiToken | None:
    """The live web session with this id (from the signed cookie), or None.

    A web session lapses when unused for as long as its cookie lives, so an id read out
    of an old cookie does not outlive the cookie."""
    token = find_token(session_id)
    if token is None or token.kind != "session":
        return None
    idle_since = token.last_used_at or token.created_at
    if utcnow() - idle_since > current_app.permanent_session_lifetime:
        return None
    return _live(token, address)


def _live(token: ApiToken, address: str | None) -> ApiToken | None:
    if not token.user.active:
        return None
    now = utcnow()
    every = timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])
    moved = address is not None and token.kind in SESSION_KINDS and token.address != address
    if moved or token.last_used_at is None or now - token.last_used_at >= every:
        token.last_used_at = now
        token.user.last_seen_at = now
        if moved:
            token.address = address
        db.session.commit()
    return token


# The user of a live token, with their role joined: one query, built once, as a socket
# checks it on every event.
ACTIVE_USER_OF_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.id == bindparam("token_id"), User.active.is_(True))
)


def live_token_ids(session: Session, token_ids: Collection[int]) -> set[int]:
    """Those of the tokens that are not revoked and whose user is active, at once: the
    rule of ACTIVE_USER_OF_TOKEN for many tokens."""
    live: set[int] = set()
    for chunk in in_chunks(token_ids):
        live.update(
            session.scalars(
                select(ApiToken.id)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.id.in_(chunk), User.active.is_(True))
            )
        )
    return live


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


def list_sessions(actor: User) -> list[ApiToken]:
    """The actor's logins (web sessions and API logins), most recently used first."""
    require_active(actor)
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == actor.id, ApiToken.kind.in_(SESSION_KINDS))
            .order_by(ApiToken.last_used_at.desc().nulls_last(), ApiToken.id.desc())
        )
    )


def revoke_session(actor: User, session_id: int) -> None:
    """End one of the actor's logins at once: its requests fail and its sockets drop."""
    require_active(actor)
    token = db.session.get(ApiToken, session_id)
    if token is None or token.user_id != actor.id or token.kind not in SESSION_KINDS:
        raise NotFound("No such session.", details={"session_id": session_id})
    emit_after_commit(token_revoked_event(token))
    db.session.delete(token)
    db.session.commit()
