"""One broadcast's frames: the latest JPEG, its number, and the viewers waiting for it.

A publisher replaces the frame and wakes the waiters; each viewer asks for a frame newer
than the last it took and gets the latest, so a slow viewer skips frames and never holds
up a fast one or the broadcaster. The condition variable is threading's, which gevent's
monkey-patching makes cooperative, so the hub is safe in both server modes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator


class HubClosed(Exception):
    """The broadcast ended: there will be no newer frame."""


class FrameHub:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._frame: bytes | None = None
        self._seq = 0
        self._closed = False
        self.last_frame_at = time.monotonic()

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, frame: bytes, seq: int | None = None) -> int:
        """Make this the latest frame; answers its number. A mirror of a broadcast on
        another process gives the origin's number (an older one than the latest is
        ignored)."""
        with self._changed:
            if self._closed:
                raise HubClosed()
            if seq is not None and seq <= self._seq:
                return self._seq
            self._frame = frame
            self._seq = self._seq + 1 if seq is None else seq
            self.last_frame_at = time.monotonic()
            self._changed.notify_all()
            return self._seq

    def latest(self) -> tuple[int, bytes] | None:
        with self._changed:
            return None if self._frame is None else (self._seq, self._frame)

    def wait_newer(
        self, after: int, timeout: float, stopped: Callable[[], bool] = lambda: False
    ) -> tuple[int, bytes] | None:
        """The latest frame if its number is above `after`, waiting up to `timeout`
        seconds for one; None when none came or `stopped()` says so (checked whenever
        the hub wakes). Raises HubClosed once the broadcast ended."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._seq > after or stopped(), timeout)
            if self._closed:
                raise HubClosed()
            if self._seq > after and self._frame is not None and not stopped():
                return self._seq, self._frame
            return None

    def follow(self, stopped: Callable[[], bool], wake: float = 1.0) -> Iterator[tuple[int, bytes]]:
        """Each newest frame as the viewer is ready for it, until the broadcast ends or
        `stopped()` says so (checked at least every `wake` seconds, at once after
        `wake()`, and before each frame is handed over)."""
        seq = 0
        while not stopped():
            try:
                got = self.wait_newer(seq, wake, stopped)
            except HubClosed:
                return
            if got is not None:
                seq = got[0]
                yield got

    def wake(self) -> None:
        """Wakes every waiting viewer to look at its `stopped()` again."""
        with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._frame = None
            self._changed.notify_all()
