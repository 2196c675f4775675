"""/auth/sessions: your logins (web sessions and API logins), where from, and revoking them."""

from __future__ import annotations

from flask import request

from ..actions import tokens
from ..identity import current_token, end_session
from ..models import User
from ..schemas.auth import SessionInfoOut, SessionList
from .blueprint import api


@api.route("GET", "/auth/sessions", tag="auth", response=SessionList)
def list_sessions(actor: User) -> SessionList:
    """Your web sessions and API logins: device, address, last use; current marks this one.

    Hand-made API tokens are listed by GET /auth/tokens instead.
    """
    current = current_token()
    return SessionList(
        sessions=[
            SessionInfoOut(
                id=t.id,
                kind=t.kind,
                device=t.device,
                address=t.address,
                created_at=t.created_at,
                last_used_at=t.last_used_at,
                current=current is not None and t.id == current.id,
            )
            for t in tokens.list_sessions(actor)
        ]
    )


@api.route("DELETE", "/auth/sessions/<id:session_id>", tag="auth", status=204)
def revoke_session(actor: User, session_id: int) -> None:
    """End one of your sessions at once: its requests are refused and its sockets dropped.

    Ending the web session this request came with also clears its cookie.
    """
    current = current_token()
    tokens.revoke_session(actor, session_id)
    if current is not None and current.id == session_id and "Authorization" not in request.headers:
        end_session()
