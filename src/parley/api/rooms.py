"""/rooms and /dm: rooms, membership and moderation."""

from __future__ import annotations

from ..actions import moderation, rooms
from ..models import User
from ..presenters import member_out, my_room_out, room_out
from ..schemas.rooms import (
    DirectIn,
    DirectoryList,
    InviteIn,
    MemberList,
    MemberOut,
    MemberRoleIn,
    MuteIn,
    RoomCreateIn,
    RoomList,
    RoomOut,
    RoomUpdateIn,
)
from .blueprint import api


@api.route("GET", "/rooms", tag="rooms", response=RoomList)
def list_rooms(actor: User) -> RoomList:
    """Your rooms and direct rooms, most recently active first, with unread counts."""
    return RoomList(rooms=[my_room_out(item) for item in rooms.list_my_rooms(actor)])


@api.route("GET", "/rooms/directory", tag="rooms", response=DirectoryList)
def room_directory(actor: User) -> DirectoryList:
    """Every public room that is not archived, by name."""
    return DirectoryList(
        rooms=[room_out(view) for view in rooms.room_views(rooms.directory(actor))]
    )


@api.route(
    "POST", "/rooms", tag="rooms", body=RoomCreateIn, response=RoomOut, status=201, errors=(409,)
)
def create_room(actor: User, body: RoomCreateIn) -> RoomOut:
    """Create a public or private room; you become its owner."""
    return room_out(rooms.room_view(rooms.create_room(actor, body.name, body.topic, body.kind)))


@api.route("GET", "/rooms/<id:room_id>", tag="rooms", response=RoomOut)
def get_room(actor: User, room_id: int) -> RoomOut:
    """One room you may read."""
    return room_out(rooms.room_view(rooms.view_room(actor, room_id)))


@api.route(
    "PATCH",
    "/rooms/<id:room_id>",
    tag="rooms",
    body=RoomUpdateIn,
    response=RoomOut,
    errors=(409,),
)
def update_room(actor: User, room_id: int, body: RoomUpdateIn) -> RoomOut:
    """Rename a room, change its topic or archive it (room moderators and owners); make it
    private or public (owners and administrators)."""
    room = rooms.update_room(
        actor,
        room_id,
        name=body.name,
        topic=body.topic,
        archived=body.archived,
        kind=body.kind,
    )
    return room_out(rooms.room_view(room))


@api.route("POST", "/rooms/<id:room_id>/join", tag="rooms", response=MemberOut, also=(201,))
def join_room(actor: User, room_id: int) -> tuple[MemberOut, int]:
    """Join a public room (201 when you joined now, 200 when you were in it)."""
    membership, created = rooms.join_room(actor, room_id)
    return member_out(membership), 201 if created else 200


@api.route("POST", "/rooms/<id:room_id>/leave", tag="rooms", status=204)
def leave_room(actor: User, room_id: int) -> None:
    """Leave a room. When its last owner leaves, the longest-standing member takes over."""
    rooms.leave_room(actor, room_id)


@api.route("GET", "/rooms/<id:room_id>/members", tag="rooms", response=MemberList)
def list_members(actor: User, room_id: int) -> MemberList:
    """A room's members (moderators also see who is banned)."""
    return MemberList(members=[member_out(m) for m in rooms.list_members(actor, room_id)])


@api.route(
    "POST",
    "/rooms/<id:room_id>/members",
    tag="rooms",
    body=InviteIn,
    response=MemberOut,
    status=201,
    also=(200,),
)
def invite(actor: User, room_id: int, body: InviteIn) -> tuple[MemberOut, int]:
    """Add a user to a room you are in (201 when added now, 200 when already in)."""
    membership, created = rooms.invite(actor, room_id, body.user_id)
    return member_out(membership), 201 if created else 200


@api.route(
    "PATCH",
    "/rooms/<id:room_id>/members/<id:user_id>",
    tag="moderation",
    body=MemberRoleIn,
    response=MemberOut,
)
def set_member_role(actor: User, room_id: int, user_id: int, body: MemberRoleIn) -> MemberOut:
    """Make a member a moderator or owner, or step them down (owners)."""
    return member_out(moderation.set_member_role(actor, room_id, user_id, body.role))


@api.route("DELETE", "/rooms/<id:room_id>/members/<id:user_id>", tag="moderation", status=204)
def remove_member(actor: User, room_id: int, user_id: int) -> None:
    """Remove a member from a room (moderators)."""
    moderation.remove_member(actor, room_id, user_id)


@api.route(
    "POST",
    "/rooms/<id:room_id>/members/<id:user_id>/mute",
    tag="moderation",
    body=MuteIn,
    response=MemberOut,
)
def mute_member(actor: User, room_id: int, user_id: int, body: MuteIn) -> MemberOut:
    """Stop a member posting for some minutes (moderators)."""
    return member_out(moderation.mute_member(actor, room_id, user_id, body.minutes))


@api.route(
    "DELETE", "/rooms/<id:room_id>/members/<id:user_id>/mute", tag="moderation", response=MemberOut
)
def unmute_member(actor: User, room_id: int, user_id: int) -> MemberOut:
    """Let a muted member post again (moderators)."""
    return member_out(moderation.unmute_member(actor, room_id, user_id))


@api.route(
    "POST", "/rooms/<id:room_id>/members/<id:user_id>/ban", tag="moderation", response=MemberOut
)
def ban_member(actor: User, room_id: int, user_id: int) -> MemberOut:
    """Ban a user from a room: they can no longer read, post or join (moderators)."""
    return member_out(moderation.ban_member(actor, room_id, user_id))


@api.route("DELETE", "/rooms/<id:room_id>/members/<id:user_id>/ban", tag="moderation", status=204)
def unban_member(actor: User, room_id: int, user_id: int) -> None:
    """Lift a ban (moderators)."""
    moderation.unban_member(actor, room_id, user_id)


@api.route(
    "POST",
    "/dm",
    tag="rooms",
    body=DirectIn,
    response=RoomOut,
    status=201,
    also=(200,),
    errors=(404,),
)
def open_direct_room(actor: User, body: DirectIn) -> tuple[RoomOut, int]:
    """The direct room between you and another user (201 when made now, else 200)."""
    room, created = rooms.open_direct_room(actor, body.user_id)
    return room_out(rooms.room_view(room)), 201 if created else 200
