"""The reconnect catch-up: what a client missed in each room since the last id it saw."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..errors import ApiError
from ..extensions import db
from ..models import Message, Permission, User
from .access import require_permission
from .messages import history
from .rooms import MyRoom, list_my_rooms

# Past this many edited or deleted messages in one room, a client is told to reload the
# room instead: cheaper than replaying a long absence change by change.
MAX_CHANGES_PER_ROOM = 500


@dataclass
class SyncResult:
    rooms: list[MyRoom]
    messages: dict[int, list[Message]] = field(default_factory=dict)
    more: dict[int, bool] = field(default_factory=dict)
    changes: list[Message] = field(default_factory=list)
    # Rooms the client asked about that it may no longer read (left, removed, banned).
    removed: list[int] = field(default_factory=list)
    # Rooms with too many changes to replay: reload their history from scratch.
    reset: list[int] = field(default_factory=list)


def seen_seq(room_id: int, last_message_id: int) -> int:
    """The room sequence number a client had reached when it saw that message."""
    if last_message_id <= 0:
        return 0
    seq = db.session.scalar(
        select(func.max(Message.seq)).where(
            Message.room_id == room_id, Message.id <= last_message_id
        )
    )
    return int(seq or 0)


def changes_since(room_id: int, last_message_id: int) -> list[Message] | None:
    """Messages up to that id edited or deleted after it was posted; None if too many."""
    seq = seen_seq(room_id, last_message_id)
    rows = list(
        db.session.scalars(
            select(Message)
            .where(
                Message.room_id == room_id,
                Message.id <= last_message_id,
                Message.changed_seq > seq,
            )
            .order_by(Message.changed_seq)
            .limit(MAX_CHANGES_PER_ROOM + 1)
        )
    )
    return None if len(rows) > MAX_CHANGES_PER_ROOM else rows


def sync(actor: User, last_ids: dict[int, int], limit: int) -> SyncResult:
    """The actor's rooms, and for each room asked about: the messages after the id given
    (oldest first, at most ``limit``) and the edits and deletes of the ones before it.

    Replaying the result over what the client had gives what a fresh fetch would.
    """
    require_permission(actor, Permission.READ)
    result = SyncResult(rooms=list_my_rooms(actor))
    for room_id, last_id in last_ids.items():
        try:
            page = history(actor, room_id, after=last_id, limit=limit)
        except ApiError:
            result.removed.append(room_id)
            continue
        result.messages[room_id] = page.messages
        result.more[room_id] = page.has_more
        changes = changes_since(room_id, last_id)
        if changes is None:
            result.reset.append(room_id)
        else:
            result.changes.extend(changes)
    return result
