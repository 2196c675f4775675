"""The bus subscriber that turns committed changes into Socket.IO events.

Membership changes move the user's sockets in this process before (join) or after
(leave) the event is sent, so a new member hears their own join and a removed one hears
their removal, and then nothing more.

Everything here acts on this process's sockets only: with a message queue, every process
hears every change (realtime/bus_relay.py) and makes its own moves and emits.
"""

from __future__ import annotations

from flask import Flask

from ..events import Event
from ..extensions import socketio
from .presence_batches import PRESENCE_EACH, PresenceBatches
from .sockets import SocketRegistry, room_channel, user_channel

NAMESPACE = "/"
# Events that only steer sockets and are not sent to clients.
INTERNAL_EVENTS = {"token:revoked"}


class Fanout:
    def __init__(self, app: Flask) -> None:
        self._app = app

    @property
    def _registry(self) -> SocketRegistry:
        registry: SocketRegistry = self._app.extensions["parley.sockets"]
        return registry

    def __call__(self, event: Event) -> None:
        if event.type == "presence":
            self._presence(event)
            return
        if event.type == "room:member_join" and event.room_id is not None:
            self._move(event.user_ids, event.room_id, enter=True)
        if event.type not in INTERNAL_EVENTS:
            self._emit(event)
        if event.type == "room:member_leave" and event.room_id is not None:
            self._move(event.user_ids, event.room_id, enter=False)
        elif event.type == "user:deactivated":
            for user_id in event.user_ids:
                for sid in self._sids_of(user_id):
                    socketio.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
        elif event.type == "token:revoked":
            for sid in self._registry.sids_with_token(int(event.payload["token_id"])):
                socketio.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)

    def _presence(self, event: Event) -> None:
        socketio.emit(
            event.type, event.payload, to=PRESENCE_EACH, namespace=NAMESPACE, ignore_queue=True
        )
        batches: PresenceBatches = self._app.extensions["parley.presence_batches"]
        batches.add(int(event.payload["user_id"]), str(event.payload["status"]))

    def _emit(self, event: Event) -> None:
        skip = [sid for user_id in event.exclude_user_ids for sid in self._sids_of(user_id)]
        if event.broadcast:
            socketio.emit(
                event.type, event.payload, namespace=NAMESPACE, skip_sid=skip, ignore_queue=True
            )
            return
        targets = [user_channel(user_id) for user_id in event.user_ids]
        if event.room_id is not None:
            targets.insert(0, room_channel(event.room_id))
        if targets:
            socketio.emit(
                event.type,
                event.payload,
                to=targets,
                namespace=NAMESPACE,
                skip_sid=skip,
                ignore_queue=True,
            )

    def _sids_of(self, user_id: int) -> list[str]:
        if socketio.server is None:
            return []
        return [
            sid
            for sid, _ in socketio.server.manager.get_participants(NAMESPACE, user_channel(user_id))
        ]

    def _move(self, user_ids: tuple[int, ...], room_id: int, *, enter: bool) -> None:
        channel = room_channel(room_id)
        for user_id in user_ids:
            for sid in self._sids_of(user_id):
                if enter:
                    socketio.server.enter_room(sid, channel, namespace=NAMESPACE)
                else:
                    socketio.server.leave_room(sid, channel, namespace=NAMESPACE)
