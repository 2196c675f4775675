"""How far behind this process runs: the lateness of a ticker that asks to wake often.

On a starved process a send waits before it ever reaches the writer's queue: its
connection's greenlet (or thread) waits its turn to be read, handled and answered, and
the queue's own limit and deadline never see that wait. A ticker that sleeps a short
interval and notes how late it woke measures the wait every piece of work in the
process shares, so sends can be refused as overloaded before any work is spent on them.
Under gevent the ticker is a greenlet (threading is patched), so its lateness is the
event loop's; in threading mode it is how long a thread waits for the interpreter.
"""

from __future__ import annotations

import threading
import time

TICK_SECONDS = 0.05


class LoopLag:
    """Started on first use; `behind()` is the seconds the process is running late now."""

    def __init__(self, tick_seconds: float = TICK_SECONDS) -> None:
        self.tick_seconds = tick_seconds
        self._lock = threading.Lock()
        self._started = False
        self._last_tick = time.monotonic()
        self._late = 0.0

    def behind(self) -> float:
        """The larger of how late the last tick woke and how overdue the next one is:
        a ticker that has not run at all for a while is late by that much already."""
        self._start()
        overdue = time.monotonic() - self._last_tick - self.tick_seconds
        return max(self._late, overdue, 0.0)

    def _start(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            self._started = True
            self._last_tick = time.monotonic()
            threading.Thread(target=self._tick, name="parley-loop-lag", daemon=True).start()

    def _tick(self) -> None:
        while True:
            asked = time.monotonic()
            time.sleep(self.tick_seconds)
            woke = time.monotonic()
            self._late = max(0.0, woke - asked - self.tick_seconds)
            self._last_tick = woke


_PROCESS_LAG = LoopLag()


def process_lag() -> LoopLag:
    """The process's one ticker: lateness is the process's, whatever app asks."""
    return _PROCESS_LAG
