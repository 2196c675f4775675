"""The live broadcasts of this server process, one per room at most, and the mirrors
of broadcasts live on other processes that someone here watches (see relay.py)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from .hub import FrameHub
from .relay import FrameRelay, LiveRecord, new_broadcast_id


@dataclass
class Broadcast:
    room_id: int
    broadcaster_id: int
    broadcaster: dict[str, object]
    width: int
    height: int
    fps: int
    started_at: datetime
    # The socket that went live, when one did: the broadcast ends when it disconnects.
    origin_sid: str | None = None
    hub: FrameHub = field(default_factory=FrameHub)
    # Across processes, the cluster's total (as last read), with each process's own count
    # kept in Redis; in one process, the viewers.
    viewers: int = 0
    broadcast_id: str = field(default_factory=new_broadcast_id)
    # What other processes know of it (with a relay), or what this process knows of a
    # broadcast live elsewhere (a mirror).
    record: LiveRecord | None = None
    # A broadcast live on another process: its frames come through the relay.
    mirror: bool = False
    # A mirror's viewers on this process: it is dropped when the last one leaves.
    holders: int = 0
    # When the broadcaster's right to post was last checked (monotonic seconds).
    checked_at: float = field(default_factory=time.monotonic)
    _recent: deque[float] = field(default_factory=deque)

    @classmethod
    def from_record(cls, record: LiveRecord) -> Broadcast:
        """A broadcast live on another process, as this one sees it."""
        return cls(
            record.room_id,
            record.broadcaster_id,
            record.broadcaster,
            record.width,
            record.height,
            record.fps,
            record.started,
            broadcast_id=record.broadcast_id,
            record=record,
            mirror=True,
        )

    def frame_wait(self, max_fps: int, now: float) -> float | None:
        """Seconds until one more frame fits in the last second's budget, or None (and
        the frame is counted) when it fits now."""
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= max_fps:
            return 1.0 - (now - self._recent[0])
        self._recent.append(now)
        return None


class Broadcasts:
    """Live broadcasts by room. Thread-safe; ending one closes its hub."""

    def __init__(self, relay: FrameRelay | None = None) -> None:
        self.relay = relay
        self._lock = threading.Lock()
        self._by_room: dict[int, Broadcast] = {}
        self._mirrors: dict[int, Broadcast] = {}
        self._reaper_running = False
        self.closing = False  # the server is stopping: streams end

    def add(self, broadcast: Broadcast) -> Broadcast:
        """Registers the broadcast, or answers the one already live in its room."""
        with self._lock:
            return self._by_room.setdefault(broadcast.room_id, broadcast)

    def get(self, room_id: int) -> Broadcast | None:
        return self._by_room.get(room_id)

    def remove(self, room_id: int, only: Broadcast | None = None) -> Broadcast | None:
        """Ends the room's broadcast (only that one, when `only` is given)."""
        with self._lock:
            found = self._by_room.get(room_id)
            if found is None or (only is not None and found is not only):
                return None
            del self._by_room[room_id]
        found.hub.close()
        return found

    def change_viewers(self, broadcast: Broadcast, delta: int) -> int:
        with self._lock:
            broadcast.viewers = max(0, broadcast.viewers + delta)
            return broadcast.viewers

    def claim_reaper(self) -> bool:
        """True for the one caller that should start the idle reaper now."""
        with self._lock:
            if self._reaper_running:
                return False
            self._reaper_running = True
            return True

    def release_reaper_if_empty(self) -> bool:
        """True when the reaper may stop: no broadcast is left (checked under the lock
        that `add` takes, so a broadcast starting now gets a new reaper)."""
        with self._lock:
            if self._by_room:
                return False
            self._reaper_running = False
            return True

    def idle(self, seconds: float) -> list[Broadcast]:
        now = time.monotonic()
        with self._lock:
            return [b for b in self._by_room.values() if now - b.hub.last_frame_at > seconds]

    def started_by(self, sid: str) -> list[Broadcast]:
        with self._lock:
            return [b for b in self._by_room.values() if b.origin_sid == sid]

    def hold_mirror(self, record: LiveRecord) -> tuple[Broadcast, bool]:
        """The mirror of a broadcast live elsewhere, with one more viewer holding it; True
        when it was made now (and needs its feed started)."""
        with self._lock:
            held = self._mirrors.get(record.room_id)
            same = held is not None and held.broadcast_id == record.broadcast_id
            if held is not None and same and not held.hub.closed:
                held.holders += 1
                return held, False
            mirror = Broadcast.from_record(record)
            mirror.holders = 1
            self._mirrors[record.room_id] = mirror
        if held is not None:
            held.hub.close()
        return mirror, True

    def release_mirror(self, mirror: Broadcast) -> None:
        """One viewer fewer; the last one out drops the mirror and ends its feed."""
        with self._lock:
            mirror.holders -= 1
            if mirror.holders > 0:
                return
            if self._mirrors.get(mirror.room_id) is mirror:
                del self._mirrors[mirror.room_id]
        mirror.hub.close()

    def drop_mirror(self, mirror: Broadcast) -> None:
        """The broadcast ended elsewhere: its streams here end."""
        with self._lock:
            if self._mirrors.get(mirror.room_id) is mirror:
                del self._mirrors[mirror.room_id]
        mirror.hub.close()

    def mirrors(self) -> list[Broadcast]:
        with self._lock:
            return list(self._mirrors.values())

    def local(self) -> list[Broadcast]:
        with self._lock:
            return list(self._by_room.values())

    def live_room_ids(self) -> list[int]:
        with self._lock:
            return list(self._by_room)

    def __len__(self) -> int:
        return len(self._by_room)
