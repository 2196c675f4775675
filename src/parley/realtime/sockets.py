"""Which user and token each connected socket speaks for, and the Socket.IO room names."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import current_app

from ..models import User
from ..store.access_cache import Kept


def room_channel(room_id: int) -> str:
    return f"room:{room_id}"


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True)
class SocketUser:
    user_id: int
    token_id: int


class SocketRegistry:
    """sid -> the user and token it authenticated with, for the sockets of this process."""

    def __init__(self) -> None:
        self._by_sid: dict[str, SocketUser] = {}
        self._snapshots: dict[str, Kept[User]] = {}
        self._lock = threading.Lock()

    def add(self, sid: str, user: SocketUser) -> None:
        with self._lock:
            self._by_sid[sid] = user

    def remove(self, sid: str) -> SocketUser | None:
        with self._lock:
            self._snapshots.pop(sid, None)
            return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> SocketUser | None:
        with self._lock:
            return self._by_sid.get(sid)

    def with_snapshot(self, sid: str) -> tuple[SocketUser | None, Kept[User] | None]:
        """The socket's user and token, and the copy of its user it loaded last, if it
        keeps one: what every event of the socket looks up, under one lock."""
        with self._lock:
            return self._by_sid.get(sid), self._snapshots.get(sid)

    def keep_snapshot(self, sid: str, snapshot: Kept[User] | None) -> None:
        with self._lock:
            if snapshot is None:
                self._snapshots.pop(sid, None)
            elif sid in self._by_sid:
                self._snapshots[sid] = snapshot

    def items(self) -> list[tuple[str, SocketUser]]:
        with self._lock:
            return list(self._by_sid.items())

    def __len__(self) -> int:
        return len(self._by_sid)

    def sids_with_token(self, token_id: int) -> list[str]:
        with self._lock:
            return [sid for sid, user in self._by_sid.items() if user.token_id == token_id]


def registry() -> SocketRegistry:
    found: SocketRegistry = current_app.extensions["parley.sockets"]
    return found
