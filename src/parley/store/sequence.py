"""The room change sequence: one number per new, edited or deleted message, in order.

Taking the number is the transaction's first write (``UPDATE ... RETURNING``), which
locks the room's row on PostgreSQL (and the database on SQLite) until commit, so ids
and sequence numbers in a room are in commit order. A per-room lock in this process is
held from that write until the commit's events are published, so the events leave in
the same order too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import update

from ..extensions import db
from ..models import Room
from .access_cache import TOUCH_ONLY_OPTION

_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def room_lock(room_id: int) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(room_id)
        if lock is None:
            lock = _locks[room_id] = threading.Lock()
        return lock


@contextmanager
def room_order(room_id: int) -> Iterator[None]:
    """Hold the room's order from taking a sequence number until commit and publish."""
    with room_lock(room_id):
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise


def next_room_seq(room_id: int) -> int:
    seq = db.session.execute(
        update(Room)
        .where(Room.id == room_id)
        .values(last_seq=Room.last_seq + 1)
        .returning(Room.last_seq)
        .execution_options(synchronize_session=False, **{TOUCH_ONLY_OPTION: True})
    ).scalar_one()
    return int(seq)
