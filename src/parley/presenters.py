"""Models into the API's shapes, used alike by responses and event payloads.

Presenters only reshape what they are handed: the actions load everything a shape needs
(counts, the live broadcast), so presenting runs no query and reads no app state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .actions.access import moderation_rank
from .models import Membership, Message, ReactionGroup, Room, User
from .schemas.messages import MessageOut, ReactionOut, ReactionsOut, ThreadSummary
from .schemas.rooms import MemberOut, MyRoomOut, RoomOut
from .schemas.users import UserOut, UserPublic
from .schemas.video import LiveOut
from .video.broadcasts import Broadcast

if TYPE_CHECKING:
    from .actions.rooms import MyRoom, RoomView


# Where a user's picture is served (api/avatars.py); `v` changes with the picture, so a
# cached copy of the old one is never shown for the new URL.
AVATAR_URL = "/api/v1/users/{id}/avatar?v={key}"


def avatar_url(user: User) -> str | None:
    if user.avatar_key is None:
        return None
    return AVATAR_URL.format(id=user.id, key=user.avatar_key)


def user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        avatar_url=avatar_url(user),
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        avatar_url=avatar_url(user),
        role=user.role.name,
        permissions=user.role.permission_names(),
        active=user.active,
        created_at=user.created_at,
        last_seen_at=user.last_seen_at,
    )


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        room_id=message.room_id,
        author=user_public(message.author),
        body=message.body,
        html=message.html,
        client_id=message.client_id,
        created_at=message.created_at,
        edited_at=message.edited_at,
        deleted=message.deleted,
        deleted_by=message.deleted_by,
        seq=message.seq,
        changed_seq=message.changed_seq,
        reactions=[ReactionOut.model_validate(group) for group in message.reactions],
        pinned=message.pinned,
        mentions=list(message.mentions),
        mentions_room=message.mentions_room,
        thread_id=message.thread_id,
        thread=thread_summary(message),
        also_to_room=message.also_to_room,
    )


def thread_summary(root: Message) -> ThreadSummary | None:
    if root.reply_count == 0 or root.last_reply_at is None:
        return None
    return ThreadSummary(
        reply_count=root.reply_count,
        last_reply_at=root.last_reply_at,
        participant_ids=list(root.participant_ids),
    )


def reactions_out(message_id: int, groups: list[ReactionGroup]) -> ReactionsOut:
    return ReactionsOut(
        message_id=message_id,
        reactions=[ReactionOut.model_validate(group) for group in groups],
    )


def member_out(membership: Membership) -> MemberOut:
    return MemberOut(
        user=user_public(membership.user),
        role=membership.role,
        joined_at=membership.joined_at,
        muted_until=membership.muted_until,
        banned=membership.banned,
        rank=moderation_rank(membership.user, membership),
        seen=membership.last_read_message_id > 0,
        notification_level=membership.effective_notification_level,
    )


def room_out(view: RoomView) -> RoomOut:
    return RoomOut(
        **room_fields(view.room, view.live),
        member_count=view.member_count,
        last_message_id=view.last_message_id,
    )


def room_fields(room: Room, live: Broadcast | None) -> dict[str, Any]:
    return {
        "id": room.id,
        "name": room.name,
        "topic": room.topic,
        "kind": room.kind,
        "created_by": room.created_by_id,
        "created_at": room.created_at,
        "archived": room.archived,
        "last_seq": room.last_seq,
        "live": live_out(live) if live else None,
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


def dump(model: Any) -> dict[str, Any]:
    """A response model as JSON-ready data, the form event payloads travel in."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data


def my_room_out(item: MyRoom) -> MyRoomOut:
    m = item.membership
    return MyRoomOut(
        **room_fields(m.room, item.live),
        member_count=item.member_count,
        last_message_id=item.last_message_id,
        role=m.role,
        unread_count=item.unread_count,
        mention_count=item.mention_count,
        last_read_message_id=m.last_read_message_id,
        muted_until=m.muted_until,
        notification_level=m.effective_notification_level,
        peer=user_public(item.peer) if item.peer else None,
    )
