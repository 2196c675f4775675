"""Presence changes gathered into one `presence:batch` event per interval, for the
sockets that ask for it at connect.

Every presence change goes to every connected socket, so when N users arrive together
(a class starting, every client reconnecting after a restart) the server sends about
N²/2 events: two million for 2,000 users, more than one process can write before
heartbeats time out. A socket that connects with `auth={"presence": "batched", ...}`
instead gets at most one event per interval, carrying every change since the last one
(each user's latest), so an arrival of N users costs N events per interval at most.
Other sockets get one `presence` event per change, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

# The Socket.IO rooms of the two kinds of socket.
PRESENCE_EACH = "presence:each"
PRESENCE_BATCHED = "presence:batched"
BATCH_EVENT = "presence:batch"


def wants_batches(auth: Any) -> bool:
    return isinstance(auth, dict) and auth.get("presence") == "batched"


class PresenceBatches:
    def __init__(
        self,
        send: Callable[[list[dict[str, Any]]], None],
        spawn: Callable[..., Any],
        sleep: Callable[[float], Any],
        interval: Callable[[], float],
    ) -> None:
        self._send = send
        self._spawn = spawn
        self._sleep = sleep
        self._interval = interval
        self._lock = threading.Lock()
        # user id -> latest status, in the order of each user's latest change
        self._pending: dict[int, str] = {}
        self._scheduled = False

    def add(self, user_id: int, status: str) -> None:
        with self._lock:
            self._pending.pop(user_id, None)
            self._pending[user_id] = status
            start = not self._scheduled
            self._scheduled = True
        if start:
            self._spawn(self._send_later)

    def _send_later(self) -> None:
        self._sleep(self._interval())
        with self._lock:
            pending, self._pending = self._pending, {}
            self._scheduled = False
        if pending:
            self._send([{"user_id": user, "status": status} for user, status in pending.items()])
