"""A clean stop on SIGTERM or SIGINT, the same for `parley run` (gevent or threading) and
gunicorn's gevent worker (`parley serve`).

In order: stop taking connections; stop handling new socket events (their senders get
no ack and send again, with the same client_id, after reconnecting); end live broadcasts
(watchers hear video:stop and their streams finish); let the events being handled, sends
being written among them, commit and acknowledge; once every ack has left, close each
Engine.IO session without a Socket.IO disconnect, so that clients take it for a lost
connection and reconnect (a server-side ``disconnect`` would tell them not to); then exit
within PARLEY_SHUTDOWN_SECONDS.

The signal handlers only start that sequence, on a greenlet or thread of its own: a
handler may run inside gevent's event loop, where anything that waits raises
BlockingSwitchOutError.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from flask import Flask

from .actions.video import end_all_broadcasts
from .connections import OpenConnections
from .extensions import socketio
from .realtime.bus_relay import leave as leave_bus

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)
# gunicorn's master stops its workers with SIGTERM (graceful) or SIGQUIT (after SIGINT).
GUNICORN_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
POLL_SECONDS = 0.02
POLL_COLLECT_SECONDS = 3.0
LISTENER_CLOSE_SECONDS = 3.0


class EventIntake:
    """In front of the Engine.IO message handler: counts the packets being handled and,
    once closed, handles no more."""

    def __init__(self, handle: Callable[[str, Any], Any]) -> None:
        self.handle = handle
        self.open = True
        self.busy = 0
        self._changed = threading.Condition()

    def __call__(self, eio_sid: str, data: Any) -> Any:
        with self._changed:
            if not self.open:
                return None
            self.busy += 1
        try:
            return self.handle(eio_sid, data)
        finally:
            with self._changed:
                self.busy -= 1
                if not self.busy:
                    self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.open = False

    def wait_idle(self, timeout: float) -> bool:
        """Whether every packet being handled was done within `timeout`."""
        with self._changed:
            return self._changed.wait_for(lambda: not self.busy, timeout=timeout)


def event_intake(app: Flask) -> EventIntake:
    """This app's intake, put in front of its Engine.IO server the first time."""
    found = app.extensions.get("parley.event_intake")
    if found is None:
        assert socketio.server is not None
        eio = socketio.server.eio
        found = EventIntake(eio.handlers["message"])
        eio.on("message", found)
        app.extensions["parley.event_intake"] = found
    return found


class Shutdown:
    """The stop sequence for one server; `begin` runs it once, on any thread or greenlet
    but a signal handler's."""

    def __init__(self, app: Flask, stop_accepting: Callable[[], None]) -> None:
        self.app = app
        self.stop_accepting = stop_accepting
        self.seconds = float(app.config["PARLEY_SHUTDOWN_SECONDS"])
        self.intake = event_intake(app)
        self.deadline: float | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def seconds_left(self) -> float:
        if self.deadline is None:
            return self.seconds
        return max(0.0, self.deadline - time.monotonic())

    def begin(self) -> None:
        with self._lock:
            if self.deadline is not None:
                return  # a second signal: the first one's sequence is under way
            self.deadline = time.monotonic() + self.seconds
        log.info("Shutting down: closing connections within %g s", self.seconds)
        try:
            self.stop_accepting()
            self.intake.close()
            with self.app.app_context():
                end_all_broadcasts("shutdown")
            if not self.intake.wait_idle(self.seconds_left()):
                log.warning("Shutdown: socket events still being handled at the deadline")
            close_sessions(self.seconds_left)
            connections: OpenConnections | None = self.app.extensions.get("parley.connections")
            if connections is not None:
                connections.end_idle()
            # No socket left here: changes need not wait for this process any more.
            leave_bus(socketio.server)
        finally:
            self.done.set()

    def wait(self) -> None:
        """Until a sequence begun is over (or its time is up)."""
        if self.deadline is not None:
            self.done.wait(self.seconds_left() + 1)

    def on_signals_gevent(self) -> None:
        import gevent

        for signum in SIGNALS:
            # gevent runs the handler on a new greenlet, outside the event loop.
            gevent.signal_handler(signum, self.begin)

    def on_signals_threading(self) -> None:
        def handler(_signum: int, _frame: FrameType | None) -> None:
            threading.Thread(target=self.begin, name="shutdown", daemon=True).start()

        for signum in SIGNALS:
            signal.signal(signum, handler)


def on_gunicorn_signals(app: Flask) -> Shutdown | None:
    """In gunicorn's gevent worker, whose handlers are installed before the app is loaded:
    each stop signal starts gunicorn's graceful stop (which closes the listener and waits
    for the connections, up to --graceful-timeout) and this sequence. gunicorn's own
    SIGINT and SIGQUIT handlers exit after 0.1 s, cutting every connection: the graceful
    stop is taken for them too. None outside a gunicorn worker."""
    import gevent

    worker = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    graceful = getattr(worker, "handle_exit", None)
    if worker is None or not callable(graceful):
        return None
    listeners = list(getattr(worker, "sockets", []))

    def stop_accepting() -> None:
        # The worker closes its listeners when its loop next wakes (each second); until
        # then a client reconnecting at once would get a session that nothing closes.
        closing_by = time.monotonic() + LISTENER_CLOSE_SECONDS
        while time.monotonic() < closing_by and any(_is_open(s) for s in listeners):
            gevent.sleep(POLL_SECONDS)

    shutdown = Shutdown(app, stop_accepting)

    def handler(sig: int, frame: FrameType | None) -> None:
        # Only a flag and a spawn: this may run inside the event loop.
        graceful(sig, frame)
        gevent.spawn(shutdown.begin)

    for signum in GUNICORN_SIGNALS:
        signal.signal(signum, handler)
    return shutdown


def _is_open(sock: Any) -> bool:
    try:
        return int(sock.fileno()) != -1
    except OSError:
        return False


def close_sessions(seconds_left: Callable[[], float]) -> None:
    """Close every Engine.IO session once the packets queued for it (acks among them)
    have been taken by its transport, without a close packet: to the client the
    connection was lost, and it reconnects."""
    server = socketio.server
    if server is None:
        return
    eio = server.eio
    sessions = list(eio.sockets.values())
    # A long-poll client takes its packets with its next poll, at once if it is alive;
    # once closed, the session answers no more polls. A client gone quiet is not waited
    # for long.
    collect_by = time.monotonic() + min(POLL_COLLECT_SECONDS, seconds_left())
    while time.monotonic() < collect_by and any(
        not s.closed and not s.upgraded and _has_packets(s) for s in sessions
    ):
        eio.sleep(POLL_SECONDS)
    for session in sessions:
        try:
            session.close(wait=False, abort=True, reason=eio.reason.SERVER_DISCONNECT)
        except Exception:
            # One session's disconnect handler failing must not keep the others open.
            log.exception("Shutdown: closing session %s failed", session.sid)
        # Gone from the table at once: python-engineio answers a long-poll POST for a
        # closed session still in it with a KeyError (a 500 and a traceback), for one no
        # longer in it with a 400 the client takes for a lost connection.
        eio.sockets.pop(session.sid, None)
    # A WebSocket's writer sends what is queued, then closes the connection.
    while seconds_left() > 0 and any(s.upgraded and _has_packets(s) for s in sessions):
        eio.sleep(POLL_SECONDS)


def _has_packets(session: Any) -> bool:
    """Whether packets wait in a session's queue. A None there only tells its writer to
    end, and a WebSocket whose client hung up first leaves one behind that no writer will
    take."""
    return any(item is not None for item in list(session.queue.queue))
