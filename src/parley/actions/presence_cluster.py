"""Presence and the typing throttle across processes, in the Redis of PARLEY_MESSAGE_QUEUE.

A user is online while a socket of theirs is connected to any process. Each change is
announced once for the whole cluster, by the process whose Redis step made it, through
the bus like every event (its emits reach every process through the message queue).
A process that dies without a word is reaped by the others once its heartbeat is
PARLEY_PRESENCE_PROCESS_TTL seconds old: its users with no socket elsewhere go offline.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..events import EventBus
from ..store.presence_redis import RedisPresence
from ..store.typing_redis import RedisTypingThrottle
from .presence import TYPING_EVERY_SECONDS, announce, mark_last_seen

log = logging.getLogger(__name__)

# How many heartbeats fit in a process's TTL: a late beat or two does not get a live
# process reaped, and a dead one is noticed within TTL + TTL / BEATS_PER_TTL.
BEATS_PER_TTL = 4
# Attempts to make Redis agree with this process while its sockets keep changing.
SYNC_ATTEMPTS = 3
# A grace timer starts once Redis has answered, so it ends after the grace Redis set;
# this much later again, so that it never wakes a hair early and leaves the user to
# the next heartbeat.
SETTLE_MARGIN = 0.05

REDIS_SCHEMES = ("redis://", "rediss://")


def is_redis_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(REDIS_SCHEMES)


def redis_client(url: str) -> redis.Redis:
    # Bounded waits: a Redis that stopped answering degrades presence, it must not hang
    # connects and disconnects. One retry at once (a pooled connection that a Redis
    # restart closed), not redis-py's default backoff of seconds on every call.
    return redis.Redis.from_url(
        url, socket_timeout=5, socket_connect_timeout=5, retry=Retry(NoBackoff(), 1)
    )


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ClusterPresenceTracker:
    """The PresenceTracker of a process among many: its own sockets kept here, the
    cluster's view kept in Redis, a heartbeat (started by the first socket) renewing this
    process and reaping dead ones."""

    def __init__(
        self,
        app: Flask,
        bus: EventBus,
        store: RedisPresence,
        spawn: Callable[..., Any],
        sleep: Callable[[float], Any],
    ) -> None:
        self._app = app
        self._bus = bus
        self._store = store
        self._spawn = spawn
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sockets: dict[str, int] = {}
        # Bumped on each local change: a sync that saw the count move repeats.
        self._changes = 0
        # Set when a Redis step failed: the next beat makes Redis agree with this process.
        self._dirty = False
        self._beating = False
        self._stopped = False

    @property
    def _grace(self) -> float:
        return float(self._app.config["PARLEY_PRESENCE_GRACE_SECONDS"])

    @property
    def _ttl(self) -> float:
        return float(self._app.config["PARLEY_PRESENCE_PROCESS_TTL"])

    def connected(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._sockets[sid] = user_id
            self._changes += 1
            start, self._beating = not self._beating, True
        if start:
            self._spawn(self._beat_forever)
        try:
            came_online, known = self._store.connect(user_id, sid)
        except redis.RedisError as exc:
            self._failed("connect", exc)
            return
        if came_online:
            announce(self._bus, user_id, "online")
        if not known:
            # This process's first socket, or its heartbeat was late enough to be reaped.
            self._sync()

    def disconnected(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._sockets.pop(sid, None)
            self._changes += 1
        grace = self._grace
        try:
            last = self._store.disconnect(user_id, sid, grace)
        except redis.RedisError as exc:
            self._failed("disconnect", exc)
            return
        if last:
            self._spawn(self._settle_after, grace)

    def online_user_ids(self) -> list[int]:
        try:
            return self._store.online()
        except redis.RedisError as exc:
            self._failed("read", exc)
            with self._lock:
                return sorted(set(self._sockets.values()))

    def beat(self) -> None:
        """Renew this process, reap dead ones, announce who went offline."""
        known, gone = self._store.beat(self._ttl)
        self._went_offline(gone)
        if not known or self._dirty:
            self._sync()

    def stop(self) -> None:
        """Stop beating and take this process's sockets out of the cluster now."""
        self._stopped = True
        with self._lock:
            self._sockets.clear()
        try:
            self._went_offline(self._store.forget())
        except redis.RedisError as exc:
            log.warning("presence: could not leave the cluster (%s)", exc)

    def _beat_forever(self) -> None:
        while not self._stopped:
            self._sleep(self._ttl / BEATS_PER_TTL)
            if self._stopped:
                return
            try:
                self.beat()
            except redis.RedisError as exc:
                self._failed("heartbeat", exc)
            except Exception:
                log.exception("presence heartbeat failed")

    def _settle_after(self, grace: float) -> None:
        self._sleep(grace + SETTLE_MARGIN)
        try:
            self._went_offline(self._store.settle())
        except redis.RedisError as exc:
            # The next beat, here or in another process, settles it.
            self._failed("settle", exc)

    def _sync(self) -> None:
        """Make Redis hold exactly this process's sockets. Users whose sockets Redis held
        but the process no longer does leave after the grace, settled here then."""
        grace = self._grace
        for _ in range(SYNC_ATTEMPTS):
            with self._lock:
                held, changes = dict(self._sockets), self._changes
            try:
                came = self._store.sync(held, self._ttl, grace)
            except redis.RedisError as exc:
                self._failed("sync", exc)
                return
            for user_id in came:
                announce(self._bus, user_id, "online")
            with self._lock:
                done = self._changes == changes
                self._dirty = not done
            if done:
                break
        # Timed from Redis's answer, whose clock set the end of the leavers' grace.
        self._spawn(self._settle_after, grace)

    def _went_offline(self, user_ids: list[int]) -> None:
        if not user_ids:
            return
        try:
            mark_last_seen(self._app, user_ids)
        except Exception:
            # Redis has already taken them offline: they are announced whatever the
            # database says, or no process ever would.
            log.exception("presence: could not write last_seen_at")
        for user_id in user_ids:
            announce(self._bus, user_id, "offline")

    def _failed(self, step: str, exc: Exception) -> None:
        self._dirty = True
        log.warning("presence %s: Redis unavailable (%s); catching up on the next beat", step, exc)


def cluster_presence(
    app: Flask,
    bus: EventBus,
    url: str,
    spawn: Callable[..., Any],
    sleep: Callable[[float], Any],
) -> tuple[ClusterPresenceTracker, RedisTypingThrottle]:
    """Presence and the typing throttle of this process, over the Redis at `url`."""
    client = redis_client(url)
    prefix = str(app.config["PARLEY_REDIS_PREFIX"])
    tracker = ClusterPresenceTracker(
        app, bus, RedisPresence(client, prefix, process_name()), spawn=spawn, sleep=sleep
    )
    return tracker, RedisTypingThrottle(client, prefix, TYPING_EVERY_SECONDS)
