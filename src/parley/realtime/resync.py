"""This process's sockets put right against the database, after the event bus lost
changes: while Redis was unreachable, another process's ban, removal, deactivation or
revocation reached no one here, and its relay is gone for good.

Each socket whose token was revoked or whose user was deactivated is disconnected; every
other one leaves the rooms its user no longer hears (banned, removed, the room deleted)
and enters those it was added to. The kept access checks are dropped. Live video views
need nothing from here: their own periodic check reads the database.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..extensions import db, socketio
from ..models import ApiToken, Membership, User
from ..store.access_cache import AccessCache
from .sockets import SocketRegistry, room_channel

log = logging.getLogger(__name__)

NAMESPACE = "/"
ROOM_PREFIX = room_channel(0).removesuffix("0")
# Ids per IN list: far below any database's limit on bound parameters.
CHUNK = 500


def resync_sockets(app: Flask) -> None:
    with app.app_context():
        cache: AccessCache = app.extensions["parley.access_cache"]
        cache.invalidate()
        registry: SocketRegistry = app.extensions["parley.sockets"]
        sockets = registry.items()
        server = socketio.server
        if not sockets or server is None:
            return
        with Session(db.engine) as session:
            live_tokens = _live_tokens(session, {user.token_id for _, user in sockets})
            hearing = _rooms_heard(
                session, {u.user_id for _, u in sockets if u.token_id in live_tokens}
            )
        disconnected = moved = 0
        for sid, user in sockets:
            if user.token_id not in live_tokens:
                server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
                disconnected += 1
                continue
            should = {room_channel(room_id) for room_id in hearing[user.user_id]}
            now = {
                name
                for name in server.manager.get_rooms(sid, NAMESPACE)
                if isinstance(name, str) and name.startswith(ROOM_PREFIX)
            }
            for channel in now - should:
                server.leave_room(sid, channel, namespace=NAMESPACE)
            for channel in should - now:
                server.enter_room(sid, channel, namespace=NAMESPACE)
            moved += bool(now ^ should)
        if disconnected or moved:
            log.warning(
                "changes relayed while the message queue was unreachable were lost: "
                "%d sockets disconnected, %d moved between rooms",
                disconnected,
                moved,
            )


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _live_tokens(session: Session, token_ids: set[int]) -> set[int]:
    """Those of the tokens that are not revoked and whose user is active."""
    live: set[int] = set()
    for chunk in _chunks(token_ids):
        live.update(
            session.scalars(
                select(ApiToken.id)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.id.in_(chunk), User.active.is_(True))
            )
        )
    return live


def _rooms_heard(session: Session, user_ids: set[int]) -> defaultdict[int, set[int]]:
    """Each user's rooms, as a socket joins them on connect (realtime/handlers.py)."""
    rooms: defaultdict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(user_ids):
        found = session.execute(
            select(Membership.user_id, Membership.room_id).where(
                Membership.user_id.in_(chunk), Membership.banned.is_(False)
            )
        )
        for user_id, room_id in found:
            rooms[user_id].add(room_id)
    return rooms
