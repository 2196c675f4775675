"""Presence and typing: who is online, and who is writing in a room right now.

Neither is stored as a row: they live in this process, or in Redis across processes
(`presence_cluster`), and they are told through the same bus as every change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask

from ..events import Event, EventBus
from ..extensions import db
from ..models import User
from ..models.types import utcnow
from .access import readable_room, require_can_post

TYPING_EVERY_SECONDS = 2.0
TYPING_EXPIRES_SECONDS = 5


class Presence(Protocol):
    """Who is online: told of every socket that comes and goes, in this process."""

    def connected(self, user_id: int, sid: str) -> None: ...

    def disconnected(self, user_id: int, sid: str) -> None: ...

    def online_user_ids(self) -> list[int]: ...


class Throttle(Protocol):
    def throttled(self, user_id: int, room_id: int) -> bool: ...

    def allow(self, user_id: int, room_id: int) -> bool: ...


def announce(bus: EventBus, user_id: int, status: str) -> None:
    bus.publish([Event("presence", {"user_id": user_id, "status": status}, broadcast=True)])


def mark_last_seen(app: Flask, user_ids: list[int]) -> None:
    """Users who just went offline were last seen now."""
    if not user_ids:
        return
    with app.app_context():
        db.session.execute(
            sa.update(User).where(User.id.in_(user_ids)).values(last_seen_at=utcnow())
        )
        db.session.commit()


class PresenceTracker:
    """A user is online while any socket of theirs is connected, and goes offline only
    when all have been gone for PARLEY_PRESENCE_GRACE_SECONDS (so a reload does not flap).
    """

    def __init__(
        self,
        app: Flask,
        bus: EventBus,
        spawn: Callable[..., Any],
        sleep: Callable[[float], Any],
    ) -> None:
        self._app = app
        self._bus = bus
        self._spawn = spawn
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sockets: dict[int, set[str]] = {}
        self._online: set[int] = set()
        # Bumped on every connect and disconnect; a pending offline check that finds a
        # newer generation knows the user came back.
        self._generation: dict[int, int] = {}

    def connected(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._sockets.setdefault(user_id, set()).add(sid)
            self._generation[user_id] = self._generation.get(user_id, 0) + 1
            came_online = user_id not in self._online
            self._online.add(user_id)
        if came_online:
            self._publish(user_id, "online")

    def disconnected(self, user_id: int, sid: str) -> None:
        with self._lock:
            sids = self._sockets.get(user_id, set())
            sids.discard(sid)
            if sids:
                return
            self._sockets.pop(user_id, None)
            generation = self._generation.get(user_id, 0) + 1
            self._generation[user_id] = generation
        self._spawn(self._offline_after_grace, user_id, generation)

    def _offline_after_grace(self, user_id: int, generation: int) -> None:
        self._sleep(float(self._app.config["PARLEY_PRESENCE_GRACE_SECONDS"]))
        with self._lock:
            if self._generation.get(user_id) != generation or user_id in self._sockets:
                return
            self._online.discard(user_id)
            self._generation.pop(user_id, None)
        mark_last_seen(self._app, [user_id])
        self._publish(user_id, "offline")

    def online_user_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._online)

    def _publish(self, user_id: int, status: str) -> None:
        announce(self._bus, user_id, status)


class TypingThrottle:
    """At most one typing event per user and room every ``every`` seconds."""

    def __init__(self, every: float = TYPING_EVERY_SECONDS) -> None:
        self._every = every
        self._last: dict[tuple[int, int], float] = {}
        self._lock = threading.Lock()

    def throttled(self, user_id: int, room_id: int) -> bool:
        """Whether `allow` would say no now; counts nothing."""
        last = self._last.get((user_id, room_id))
        return last is not None and time.monotonic() - last < self._every

    def allow(self, user_id: int, room_id: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._last) > 10_000:
                self._last = {k: t for k, t in self._last.items() if now - t < self._every}
            last = self._last.get((user_id, room_id))
            if last is not None and now - last < self._every:
                return False
            self._last[(user_id, room_id)] = now
            return True


def typing(actor: User, room_id: int, throttle: Throttle, bus: EventBus) -> bool:
    """Tell a room's other members the actor is typing; False when throttled."""
    room, membership = readable_room(actor, room_id)
    require_can_post(actor, room, membership)
    if not throttle.allow(actor.id, room.id):
        return False
    bus.publish(
        [
            Event(
                "typing",
                {"room_id": room.id, "user_id": actor.id, "expires_in": TYPING_EXPIRES_SECONDS},
                room_id=room.id,
                exclude_user_ids=(actor.id,),
            )
        ]
    )
    return True
