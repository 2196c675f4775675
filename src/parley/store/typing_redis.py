"""The typing throttle kept in Redis, so a user typing through two processes (two tabs
behind Nginx) still sends at most one typing event per room every interval."""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)


class RedisTypingThrottle:
    """At most one typing event per user and room every ``every`` seconds, across every
    process on one Redis: the first to set the key, which expires after the interval,
    is let through."""

    def __init__(self, client: redis.Redis, prefix: str, every: float) -> None:
        self._client = client
        self._prefix = prefix
        self._every_ms = max(1, round(every * 1000))

    def _key(self, user_id: int, room_id: int) -> str:
        return f"{self._prefix}:typing:{user_id}:{room_id}"

    def throttled(self, user_id: int, room_id: int) -> bool:
        """Whether `allow` would say no now; counts nothing."""
        try:
            return bool(self._client.exists(self._key(user_id, room_id)))
        except redis.RedisError:
            return False

    def allow(self, user_id: int, room_id: int) -> bool:
        try:
            return bool(
                self._client.set(self._key(user_id, room_id), 1, nx=True, px=self._every_ms)
            )
        except redis.RedisError as exc:
            # Typing is a hint: without Redis it goes out unthrottled (the event budget
            # still bounds it) rather than failing the event.
            log.warning("typing throttle: Redis unavailable (%s)", exc)
            return True
