"""The server processes listening on one message-queue channel, and the acknowledgements
that tell a process the others have applied a change it relayed.

Each listening process renews its entry (a sorted set member whose score is when it
expires) every few seconds; an entry not renewed, a process killed or cut off from
Redis, stops counting once it expires, so nobody waits for it past that. Scores are
wall-clock times: the processes' clocks must agree to well within the expiry.

A relayed change that must be in force everywhere before its caller hears back names an
acknowledgement list; each other process pushes its id there once it has applied the
change, and the relaying process waits, up to a bound, for every live process's id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

# How long an acknowledgement list is kept: past any wait, so a late ack finds nothing
# to disturb and the list goes away by itself.
ACK_KEEP_SECONDS = 60
# The whole registry key goes away this long after the last renewal of any entry: a
# channel that no process uses any more leaves nothing behind.
REGISTRY_KEEP_SECONDS = 3600


class ProcessRegistry:
    def __init__(
        self,
        client: Any,
        channel: str,
        expiry: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._key = f"{channel}:processes"
        self._ack_prefix = f"{channel}:ack:"
        self.expiry = expiry
        self._clock = clock

    def renew(self, process_id: str) -> int:
        """The process is listening now; it counts as live until the expiry from now.
        Returns how many processes are live, this one included."""
        now = self._clock()
        with self.client.pipeline() as pipe:
            pipe.zadd(self._key, {process_id: now + self.expiry})
            pipe.zremrangebyscore(self._key, "-inf", now)
            pipe.expire(self._key, REGISTRY_KEEP_SECONDS)
            pipe.zcard(self._key)
            answers = pipe.execute()
        return int(answers[-1])

    def leave(self, process_id: str) -> None:
        self.client.zrem(self._key, process_id)

    def live(self) -> set[str]:
        found = self.client.zrangebyscore(self._key, self._clock(), "+inf")
        return {_text(member) for member in found}

    def new_ack_key(self) -> str:
        return self._ack_prefix + uuid.uuid4().hex

    def ack(self, key: str, process_id: str) -> None:
        if not key.startswith(self._ack_prefix):
            return  # not a list of this channel's: never write where a message points
        with self.client.pipeline() as pipe:
            pipe.rpush(key, process_id)
            pipe.expire(key, ACK_KEEP_SECONDS)
            pipe.execute()

    def wait_for(self, key: str, process_ids: Iterable[str], timeout: float) -> set[str]:
        """Waits until each of the processes has acknowledged on `key`, or `timeout`
        seconds have passed; returns those that have not."""
        missing = set(process_ids)
        deadline = time.monotonic() + timeout
        try:
            while missing:
                left = deadline - time.monotonic()
                # BLPOP's 0 means no limit: never pass it.
                if left < 0.001:
                    break
                popped = self.client.blpop([key], timeout=left)
                if popped is None:
                    break
                missing.discard(_text(popped[1]))
        finally:
            self.client.delete(key)
        return missing


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
