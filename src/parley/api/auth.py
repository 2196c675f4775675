"""/auth: register, log in and out, API tokens."""

from __future__ import annotations

from flask import request

from ..actions import accounts, tokens
from ..devices import current_device, remember_device
from ..errors import Unauthorized
from ..identity import current_token, end_session, login_client
from ..models import User
from ..presenters import user_out
from ..ratelimits import login_limit, register_limit
from ..schemas.auth import (
    AuthOut,
    LoginIn,
    RegisterIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenList,
    TokenOut,
)
from .blueprint import api


@api.route(
    "POST",
    "/auth/register",
    tag="auth",
    body=RegisterIn,
    response=AuthOut,
    status=201,
    errors=(403, 409),
    auth=False,
    limit=register_limit,
)
def register(body: RegisterIn) -> AuthOut:
    """Create an account.

    Answers with the new user and an API token for it, shown this once.
    """
    user, token = accounts.register(
        body.username, body.password, body.display_name, client=login_client()
    )
    remember_device(user.id, current_device())
    return AuthOut(user=user_out(user), token=token)


@api.route(
    "POST",
    "/auth/login",
    tag="auth",
    body=LoginIn,
    response=AuthOut,
    errors=(401, 403),
    auth=False,
    limit=login_limit,
)
def login(body: LoginIn) -> AuthOut:
    """Log in with a username and password; answers with a new API token.

    An account with two-factor authentication also sends code (a TOTP or a recovery
    code): without it 401 totp_required, with a wrong or used one 401 totp_invalid.
    """
    device = current_device()
    user, token = accounts.login(
        body.username, body.password, device=device, code=body.code, client=login_client()
    )
    remember_device(user.id, device)
    return AuthOut(user=user_out(user), token=token)


@api.route("POST", "/auth/logout", tag="auth", status=204)
def logout(actor: User) -> None:
    """Revoke the token this request was made with.

    Made with the session cookie, it also clears the cookie (and needs X-CSRF-Token).
    """
    token = current_token()
    if token is None:
        raise Unauthorized()
    accounts.logout(token)
    if "Authorization" not in request.headers:
        end_session()


@api.route("GET", "/auth/tokens", tag="auth", response=TokenList)
def list_tokens(actor: User) -> TokenList:
    """List your tokens (never their secrets)."""
    return TokenList(tokens=[TokenOut.model_validate(t) for t in tokens.list_tokens(actor)])


@api.route(
    "POST", "/auth/tokens", tag="auth", body=TokenCreateIn, response=TokenCreatedOut, status=201
)
def create_token(actor: User, body: TokenCreateIn) -> TokenCreatedOut:
    """Create a named API token; its secret is in this answer and nowhere else."""
    token, raw = tokens.create_token(actor, body.name)
    return TokenCreatedOut(**TokenOut.model_validate(token).model_dump(), token=raw)


@api.route("DELETE", "/auth/tokens/<id:token_id>", tag="auth", status=204)
def revoke_token(actor: User, token_id: int) -> None:
    """Revoke one of your tokens."""
    tokens.revoke_token(actor, token_id)
