"""/admin: what the admin console reads and changes. Anyone logged in but an
administrator gets exactly the 404 of a path that does not exist. Role changes and
deactivation are PATCH /users/{id}, the same route any API client uses."""

from __future__ import annotations

from ..actions import accounts, admin, rooms, video
from ..models import User
from ..presenters import room_out, user_out
from ..schemas.admin import (
    AdminRoomList,
    AdminRoomUpdateIn,
    AdminSearch,
    AdminUserList,
    PasswordResetOut,
    ServerStatusOut,
)
from ..schemas.rooms import RoomOut
from .blueprint import api

# 404 is every route's answer to anyone who is not an administrator.
NOT_AN_ADMIN = (404,)


@api.route(
    "GET",
    "/admin/users",
    tag="admin",
    query=AdminSearch,
    response=AdminUserList,
    errors=NOT_AN_ADMIN,
)
def admin_users(actor: User, query: AdminSearch) -> AdminUserList:
    """Accounts, deactivated ones too: q matches the start of a username or any part of a
    display name. With every role's name."""
    users = admin.list_users(actor, query.q, query.limit)
    return AdminUserList(users=[user_out(u) for u in users], roles=admin.role_names(actor))


@api.route(
    "POST",
    "/admin/users/<id:user_id>/password",
    tag="admin",
    response=PasswordResetOut,
    errors=(409,),
)
def admin_reset_password(actor: User, user_id: int) -> PasswordResetOut:
    """Give a user a new random password, answered this once.

    Every session and token of theirs ends (hand-made API tokens too). 409 own_account
    for your own: change that in your settings.
    """
    user, password = accounts.reset_password(actor, user_id)
    return PasswordResetOut(user=user_out(user), password=password)


@api.route(
    "GET",
    "/admin/rooms",
    tag="admin",
    query=AdminSearch,
    response=AdminRoomList,
    errors=NOT_AN_ADMIN,
)
def admin_rooms(actor: User, query: AdminSearch) -> AdminRoomList:
    """Public and private rooms, archived ones too, by name (q: part of the name)."""
    return AdminRoomList(rooms=[room_out(v) for v in admin.list_rooms(actor, query.q, query.limit)])


@api.route(
    "PATCH", "/admin/rooms/<id:room_id>", tag="admin", body=AdminRoomUpdateIn, response=RoomOut
)
def admin_update_room(actor: User, room_id: int, body: AdminRoomUpdateIn) -> RoomOut:
    """Archive or unarchive a public or private room, whether or not you are in it."""
    room = rooms.administer_room(actor, room_id, archived=body.archived)
    return room_out(rooms.room_view(room))


@api.route("GET", "/admin/live", tag="admin", response=AdminRoomList, errors=NOT_AN_ADMIN)
def admin_live(actor: User) -> AdminRoomList:
    """The public and private rooms live now, each with its broadcast."""
    return AdminRoomList(rooms=[room_out(v) for v in admin.live_rooms(actor)])


@api.route("DELETE", "/admin/rooms/<id:room_id>/live", tag="admin", status=204)
def admin_end_live(actor: User, room_id: int) -> None:
    """End a public or private room's broadcast (its viewers are told stopped_by_admin);
    404 not_live when it is not live."""
    video.end_broadcast_as_admin(actor, room_id)


@api.route("GET", "/admin/status", tag="admin", response=ServerStatusOut, errors=NOT_AN_ADMIN)
def admin_status(actor: User) -> ServerStatusOut:
    """This process's version, database, message queue, sockets and uptime."""
    status = admin.server_status(actor)
    return ServerStatusOut.model_validate(status, from_attributes=True)
