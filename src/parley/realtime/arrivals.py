"""When the packet being handled reached this process, so that a send's deadline counts
the time it waited before its handler ran.

Under a burst the wait is not in the writer's queue: each socket's events are handled
one after another, in order, while its reader has already taken the next ones off the
connection into simple-websocket's input buffer. A send could wait there for seconds
and still be accepted as if it had just arrived, and after the burst the server was
busy with that backlog long after the load fell (the overload step in
docs/performance.md). Timing the buffer lets the writer refuse, as overloaded, a send
that has already waited past its deadline.

The time is kept per greenlet (or thread): the one that takes a packet off the buffer
handles it, and a long-polling POST handles its packets in the request's own greenlet.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_current = threading.local()


def arrived_at() -> float | None:
    """When the packet being handled in this greenlet reached the process (monotonic
    seconds), or None outside a socket's packet."""
    found: float | None = getattr(_current, "arrived", None)
    return found


@contextmanager
def arriving(at: float | None) -> Iterator[None]:
    """Handles what runs inside as the packet that arrived `at`."""
    before = arrived_at()
    _current.arrived = at
    try:
        yield
    finally:
        _current.arrived = before


class TimedInput(list[Any]):
    """simple-websocket's input buffer, remembering when each message came in.

    simple-websocket appends each message as its reader parses it and its `receive`
    pops the oldest with `pop(0)`; this records the time of each append and, at each
    pop, makes it the popping greenlet's arrival time.
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        now = time.monotonic()
        self._times: deque[float] = deque(now for _ in self)

    def append(self, item: Any) -> None:
        super().append(item)
        self._times.append(time.monotonic())

    def pop(self, index: Any = -1) -> Any:
        item = super().pop(index)
        if index == 0 and self._times:
            _current.arrived = self._times.popleft()
        return item


def timed_websocket(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An Engine.IO session's WebSocket handler, given a timed input buffer first.

    Only on gevent: the buffer is swapped while its reader greenlet cannot run (no
    switch happens in between), so no message can go to the old one. A reader thread
    (threading mode) could, and there the buffer is left as it is.
    """

    def handle(ws: Any) -> Any:
        inner = getattr(ws, "ws", None)
        if inner is not None and _on_gevent(inner):
            inner.input_buffer = TimedInput(inner.input_buffer)
        try:
            return handler(ws)
        finally:
            _current.arrived = None

    return handle


def _on_gevent(ws: Any) -> bool:
    event_class = type(getattr(ws, "event", None))
    return event_class.__module__.startswith("gevent")
