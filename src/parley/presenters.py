"""Models into the API's shapes, used alike by responses and event payloads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import func, select

from .extensions import db
from .models import Membership, Message, Room, User
from .schemas.messages import MessageOut
from .schemas.rooms import MemberOut, MyRoomOut, RoomOut
from .schemas.users import UserOut, UserPublic
from .schemas.video import LiveOut
from .video.broadcasts import Broadcast

if TYPE_CHECKING:
    from .actions.rooms import MyRoom


def user_public(user: User) -> UserPublic:
    return UserPublic.model_validate(user)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role.name,
        permissions=user.role.permission_names(),
        active=user.active,
        created_at=user.created_at,
        last_seen_at=user.last_seen_at,
    )


def message_out(message: Message) -> MessageOut:
    return MessageOut.model_validate(message)


def member_out(membership: Membership) -> MemberOut:
    return MemberOut(
        user=user_public(membership.user),
        role=membership.role,
        joined_at=membership.joined_at,
        muted_until=membership.muted_until,
        banned=membership.banned,
    )


def room_stats(room_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """room id -> (members, last message id), in two queries whatever the number of rooms."""
    ids = list(room_ids)
    stats = {room_id: (0, 0) for room_id in ids}
    if not ids:
        return stats
    members = db.session.execute(
        select(Membership.room_id, func.count())
        .where(Membership.room_id.in_(ids), Membership.banned.is_(False))
        .group_by(Membership.room_id)
    ).all()
    last_ids = dict(
        db.session.execute(
            select(Message.room_id, func.max(Message.id))
            .where(Message.room_id.in_(ids))
            .group_by(Message.room_id)
        ).all()
    )
    for room_id, count in members:
        stats[room_id] = (count, 0)
    for room_id in ids:
        stats[room_id] = (stats[room_id][0], last_ids.get(room_id) or 0)
    return stats


def room_out(room: Room, stats: tuple[int, int] | None = None) -> RoomOut:
    member_count, last_message_id = stats or room_stats([room.id])[room.id]
    return RoomOut(**room_fields(room), member_count=member_count, last_message_id=last_message_id)


def room_fields(room: Room) -> dict[str, Any]:
    return {
        "id": room.id,
        "name": room.name,
        "topic": room.topic,
        "kind": room.kind,
        "created_by": room.created_by_id,
        "created_at": room.created_at,
        "archived": room.archived,
        "last_seq": room.last_seq,
        "live": live_in(room.id),
    }


def live_out(broadcast: Broadcast) -> LiveOut:
    return LiveOut.model_validate(
        {
            "room_id": broadcast.room_id,
            "broadcaster": broadcast.broadcaster,
            "width": broadcast.width,
            "height": broadcast.height,
            "fps": broadcast.fps,
            "started_at": broadcast.started_at,
            "viewers": broadcast.viewers,
        }
    )


def live_in(room_id: int) -> LiveOut | None:
    """The room's broadcast in this server process, if it is live."""
    found = current_app.extensions["parley.video"].get(room_id)
    return live_out(found) if found else None


def dump(model: Any) -> dict[str, Any]:
    """A response model as JSON-ready data, the form event payloads travel in."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data


def my_room_out(item: MyRoom) -> MyRoomOut:
    m = item.membership
    return MyRoomOut(
        **room_fields(m.room),
        member_count=item.member_count,
        last_message_id=item.last_message_id,
        role=m.role,
        unread_count=item.unread_count,
        last_read_message_id=m.last_read_message_id,
        muted_until=m.muted_until,
        peer=user_public(item.peer) if item.peer else None,
    )
