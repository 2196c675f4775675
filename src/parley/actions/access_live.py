"""Who may still watch: the rights behind every live view of a process, checked at once.

A live view (an MJPEG stream, a socket's watch, a broadcast) was allowed when it began;
it stays allowed only while its token is live, its user active with the READ permission,
and the room readable to them (a member not banned, or a public room). The check reads
those for all the views together, in four small queries however many views there are.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, Membership, Permission, Role, Room, RoomKind, User


@dataclass(frozen=True)
class Viewer:
    """Who watches (or broadcasts in) which room, with which token (None: checked by the
    user's right alone)."""

    user_id: int
    room_id: int
    token_id: int | None = None


def allowed_viewers(session: Session, viewers: Collection[Viewer]) -> set[Viewer]:
    """Those of the viewers who may still read their room, as the database says now."""
    if not viewers:
        return set()
    user_ids = {v.user_id for v in viewers}
    room_ids = {v.room_id for v in viewers}
    token_ids = {v.token_id for v in viewers if v.token_id is not None}
    readers = set(
        session.scalars(
            select(User.id)
            .join(Role, Role.id == User.role_id)
            .where(
                User.id.in_(user_ids),
                User.active.is_(True),
                Role.permissions.op("&")(int(Permission.READ)) != 0,
            )
        )
    )
    tokens: set[tuple[int, int]] = set()
    if token_ids:
        found = session.execute(
            select(ApiToken.id, ApiToken.user_id).where(ApiToken.id.in_(token_ids))
        )
        tokens = {(token_id, user_id) for token_id, user_id in found}
    kinds = {
        room_id: kind
        for room_id, kind in session.execute(
            select(Room.id, Room.kind).where(Room.id.in_(room_ids))
        )
    }
    banned = {
        (user_id, room_id): is_banned
        for room_id, user_id, is_banned in session.execute(
            select(Membership.room_id, Membership.user_id, Membership.banned).where(
                Membership.room_id.in_(room_ids), Membership.user_id.in_(user_ids)
            )
        )
    }

    def allowed(viewer: Viewer) -> bool:
        if viewer.user_id not in readers or viewer.room_id not in kinds:
            return False
        if viewer.token_id is not None and (viewer.token_id, viewer.user_id) not in tokens:
            return False
        is_banned = banned.get((viewer.user_id, viewer.room_id))
        if is_banned is None:
            return kinds[viewer.room_id] == RoomKind.PUBLIC
        return not is_banned

    return {viewer for viewer in viewers if allowed(viewer)}
