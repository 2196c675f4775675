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

from flask import Flask
from sqlalchemy.orm import Session

from ..actions.rooms import rooms_heard_by
from ..actions.tokens import live_token_ids
from ..extensions import db, socketio
from ..store.access_cache import AccessCache
from .sockets import SocketRegistry, room_channel

log = logging.getLogger(__name__)

NAMESPACE = "/"
ROOM_PREFIX = room_channel(0).removesuffix("0")


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
            live = live_token_ids(session, {user.token_id for _, user in sockets})
            hearing = rooms_heard_by(
                session, {user.user_id for _, user in sockets if user.token_id in live}
            )
        disconnected = moved = 0
        for sid, user in sockets:
            if user.token_id not in live:
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
