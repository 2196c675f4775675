"""/users: your own account, other people, and what administrators change."""

from __future__ import annotations

from ..actions import accounts
from ..devices import current_device
from ..identity import current_token
from ..models import User
from ..presenters import user_out
from ..schemas.users import AdminUpdateUser, UpdateMe, UserList, UserOut, UserSearch
from .blueprint import api


@api.route("GET", "/users/me", tag="users", response=UserOut)
def me(actor: User) -> UserOut:
    """Your own account."""
    return user_out(actor)


@api.route("PATCH", "/users/me", tag="users", body=UpdateMe, response=UserOut, errors=(429,))
def update_me(actor: User, body: UpdateMe) -> UserOut:
    """Change your display name, or your password (with the old one).

    A new password logs out every other session and login token; hand-made API tokens
    keep working.
    """
    token = current_token()
    user = accounts.update_profile(
        actor,
        display_name=body.display_name,
        password=body.password,
        old_password=body.old_password,
        keep_token_id=token.id if token else None,
        device=current_device(),
    )
    return user_out(user)


@api.route("GET", "/users", tag="users", query=UserSearch, response=UserList)
def search_users(actor: User, query: UserSearch) -> UserList:
    """Find active users whose username starts with q (ignoring case)."""
    users = accounts.search_users(actor, query.q, query.limit)
    return UserList(users=[user_out(u) for u in users])


@api.route("GET", "/users/<id:user_id>", tag="users", response=UserOut)
def get_user(actor: User, user_id: int) -> UserOut:
    """One user."""
    return user_out(accounts.get_user(actor, user_id))


@api.route(
    "PATCH",
    "/users/<id:user_id>",
    tag="users",
    body=AdminUpdateUser,
    response=UserOut,
    errors=(409,),
)
def admin_update_user(actor: User, user_id: int, body: AdminUpdateUser) -> UserOut:
    """Change a user's role or deactivate/reactivate them (administrators only).

    Deactivating revokes every token of theirs at once.
    """
    user = accounts.update_user(actor, user_id, role=body.role, active=body.active)
    return user_out(user)
