"""Accounts: registration, login, profile, and what administrators change."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from ..events import Event, emit_after_commit
from ..extensions import db
from ..login_throttle import Device, begin_password_check
from ..models import ApiToken, Permission, Role, User, insert_roles
from ..models.types import utcnow
from ..password_policy import check_new_password
from ..passwords import burn_verify, hash_password, needs_rehash, verify_password
from ..presenters import dump, user_public
from ..schemas.fields import username_key
from ..usernames import skeleton_digest as username_skeleton
from .access import require_active, require_administrator, require_permission
from .tokens import Client, issue_token, token_revoked_event
from .two_factor import check_login_code


def default_role() -> Role:
    role = db.session.scalar(select(Role).where(Role.default.is_(True)))
    if role is None:
        raise RuntimeError("No default role: run `parley db upgrade` or `parley roles sync`.")
    return role


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_key == username_key(username)))


def create_user(
    username: str, password: str, display_name: str | None = None, role: Role | None = None
) -> User:
    """Add a user to the session (the caller commits); refuses a taken name."""
    if find_user(username) is not None:
        raise Conflict(
            "That username is taken.", code="username_taken", details={"field": "username"}
        )
    skeleton = username_skeleton(username)
    look_alike = db.session.scalar(select(User).where(User.username_skeleton == skeleton))
    if look_alike is not None:
        raise Conflict(
            f"That username looks like {look_alike.username!r}, which is taken.",
            code="username_confusable",
            details={"field": "username", "similar_to": look_alike.username},
        )
    check_new_password(password, username, display_name)
    user = User(
        username=username,
        username_key=username_key(username),
        username_skeleton=skeleton,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role or default_role(),
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "That username is taken.", code="username_taken", details={"field": "username"}
        ) from None
    return user


def register(
    username: str,
    password: str,
    display_name: str | None = None,
    *,
    kind: str = "login",
    replacing: ApiToken | None = None,
    client: Client | None = None,
) -> tuple[User, str]:
    """Create an account and log it in with a new token of this kind ("login" for the API,
    "session" for the web cookie), ending the token it replaces, if any."""
    if not current_app.config.get("REGISTRATION_OPEN", True):
        raise Forbidden("Registration is closed on this server.", code="registration_closed")
    user = create_user(username, password, display_name)
    user.last_seen_at = utcnow()
    _, raw = issue_token(user, kind, kind, client)
    if replacing is not None:
        _end_token(replacing)
    db.session.commit()
    return user, raw


def login(
    username: str,
    password: str,
    kind: str = "login",
    *,
    replacing: ApiToken | None = None,
    device: Device | None = None,
    code: str | None = None,
    client: Client | None = None,
) -> tuple[User, str]:
    """Check the password (and the two-factor code of an account that has 2FA), and issue
    a new token of this kind, ending the token it replaces (the web session's previous
    one), if any. The check counts against the account, or the device when the user
    logged in with it before (parley.login_throttle), until both factors passed."""
    user = find_user(username)
    check = begin_password_check(username_key(username), user.id if user else None, device)
    if user is None:
        burn_verify(password)
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    if not user.active:
        raise Forbidden("This account is deactivated.", code="account_deactivated")
    check_login_code(user, code)
    check.passed()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = utcnow()
    _, raw = issue_token(user, kind, kind, client)
    if replacing is not None:
        _end_token(replacing)
    db.session.commit()
    return user, raw


def logout(token: ApiToken) -> None:
    _end_token(token)
    db.session.commit()


def _end_token(token: ApiToken) -> None:
    """Delete the token (the caller commits); its sockets are disconnected after the commit."""
    emit_after_commit(token_revoked_event(token))
    db.session.delete(token)


def update_profile(
    actor: User,
    *,
    display_name: str | None = None,
    password: str | None = None,
    old_password: str | None = None,
    keep_token_id: int | None = None,
    device: Device | None = None,
) -> User:
    require_active(actor)
    if password is not None:
        check = begin_password_check(actor.username_key, actor.id, device)
        if old_password is None or not verify_password(actor.password_hash, old_password):
            raise ValidationFailed(
                "old_password is wrong.",
                code="wrong_password",
                details={"fields": [{"field": "body.old_password", "message": "wrong"}]},
            )
        check.passed()
        check_new_password(password, actor.username, display_name or actor.display_name)
        actor.password_hash = hash_password(password)
        # A new password ends every other login; hand-made API tokens keep working.
        ended = db.session.scalars(
            select(ApiToken).where(
                ApiToken.user_id == actor.id,
                ApiToken.kind != "api",
                ApiToken.id != (keep_token_id or 0),
            )
        ).all()
        for token in ended:
            emit_after_commit(token_revoked_event(token))
            db.session.delete(token)
    if display_name is not None:
        actor.display_name = display_name
        announce_profile(actor)
    db.session.commit()
    return actor


def announce_profile(user: User) -> None:
    """Tell everyone connected, once committed, how the user now shows (name, picture):
    what it carries is what any logged-in user may read at GET /users/<id>."""
    emit_after_commit(Event("user:update", {"user": dump(user_public(user))}, broadcast=True))


def get_user(actor: User, user_id: int) -> User:
    require_permission(actor, Permission.READ)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", details={"user_id": user_id})
    return user


def search_users(actor: User, prefix: str, limit: int) -> list[User]:
    require_permission(actor, Permission.READ)
    query = select(User).where(User.active.is_(True))
    key = username_key(prefix) if prefix else ""
    if key:
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.username_key.like(escaped + "%", escape="\\"))
    return list(db.session.scalars(query.order_by(User.username_key).limit(limit)))


def _active_admin_count() -> int:
    admin = int(Permission.ADMIN)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .join(Role)
            .where(User.active.is_(True), Role.permissions.op("&")(admin) == admin)
        )
        or 0
    )


def _guard_last_admin(user: User) -> None:
    if user.is_admin and _active_admin_count() <= 1:
        raise Conflict("That would leave the server with no administrator.", code="last_admin")


def set_user_role(actor: User, user_id: int, role_name: str) -> User:
    require_permission(actor, Permission.ADMIN)
    user = get_user(actor, user_id)
    role = db.session.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        names = list(db.session.scalars(select(Role.name).order_by(Role.id)))
        raise ValidationFailed(
            f"No role named {role_name!r}.",
            details={"fields": [{"field": "body.role", "message": "unknown role"}], "roles": names},
        )
    if not role.has_permission(Permission.ADMIN):
        _guard_last_admin(user)
    user.role = role
    emit_after_commit(
        Event(
            "user:update", {"user": dump(user_public(user)), "role": role.name}, user_ids=(user.id,)
        ),
    )
    db.session.commit()
    return user


def deactivate_user(actor: User, user_id: int) -> User:
    require_permission(actor, Permission.ADMIN)
    user = get_user(actor, user_id)
    if not user.active:
        return user
    _guard_last_admin(user)
    user.active = False
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    emit_after_commit(Event("user:deactivated", {"user_id": user.id}, user_ids=(user.id,)))
    db.session.commit()
    return user


def reactivate_user(actor: User, user_id: int) -> User:
    require_permission(actor, Permission.ADMIN)
    user = get_user(actor, user_id)
    user.active = True
    db.session.commit()
    return user


def reset_password(actor: User, user_id: int) -> tuple[User, str]:
    """An administrator gives someone a new, random password, which only they are shown:
    every session and token of that user (hand-made API tokens too) ends with the old one.
    Refused for the administrator's own account, which they change in their settings."""
    require_administrator(actor)
    user = get_user(actor, user_id)
    if user.id == actor.id:
        raise Conflict(
            "Change your own password in your settings, with the old one.", code="own_account"
        )
    temporary = secrets.token_urlsafe(12)
    user.password_hash = hash_password(temporary)
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        emit_after_commit(token_revoked_event(token))
        db.session.delete(token)
    db.session.commit()
    return user, temporary


def update_user(
    actor: User, user_id: int, *, role: str | None = None, active: bool | None = None
) -> User:
    """An administrator's change to another account: its role, whether it is active."""
    require_permission(actor, Permission.ADMIN)
    user = get_user(actor, user_id)
    if role is not None:
        user = set_user_role(actor, user_id, role)
    if active is False:
        user = deactivate_user(actor, user_id)
    elif active is True:
        user = reactivate_user(actor, user_id)
    return user


def sync_roles() -> list[Role]:
    roles = insert_roles(db.session)
    db.session.commit()
    return roles


def create_admin(
    username: str, password: str, display_name: str | None = None
) -> tuple[User, bool]:
    """An Administrator with these credentials, or promote the existing user of that name."""
    admin_role = db.session.scalar(select(Role).where(Role.name == "Administrator"))
    if admin_role is None:
        admin_role = next(r for r in insert_roles(db.session) if r.name == "Administrator")
    existing = find_user(username)
    if existing is not None:
        existing.role = admin_role
        existing.active = True
        db.session.commit()
        return existing, False
    user = create_user(username, password, display_name, role=admin_role)
    db.session.commit()
    return user, True
