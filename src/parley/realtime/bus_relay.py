"""The event bus across processes: python-socketio's Redis client manager, carrying each
bus publication on the same channel as the Socket.IO emits.

A process publishes a committed change by applying it itself (its subscribers: socket
moves, emits to its own sockets, disconnects, ended views) and then relaying it: one
JSON message with the change's events and the kinds of kept access checks it made
stale. Every other process applies the message the same way, in its listener, in the
order Redis delivered it among the emits: so a member's sockets on any process enter a
room before its join is emitted there, and leave it right after their removal is. Emits
made by the bus's subscribers stay in their process (each process makes its own); other
emits (acks, frames) still cross processes as python-socketio sends them.

A change that takes access away (any commit that changed users, tokens, roles, rooms or
memberships) is in force everywhere before its caller hears back: the relaying process
waits, up to `PARLEY_BUS_ACK_SECONDS`, until every live process (process_registry.py)
has applied it. Sends change none of these and never wait.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import redis
import socketio
from flask import Flask

from ..events import Event, EventBus
from .process_registry import ProcessRegistry
from .resync import resync_sockets

log = logging.getLogger(__name__)

# The methods of the messages this manager adds to python-socketio's.
RELAY = "parley:bus"
HELLO = "parley:hello"
# A listening process says hello on the channel this often; hearing its own hello back
# proves it is subscribed, and renews its entry in the registry.
HELLO_SECONDS = 2.0
HELLO_SECONDS_STARTING = 0.2
# Said that often only this many times, so a Redis down at start is not asked in a loop.
HELLOS_STARTING = 25
# An entry not renewed for this long stops counting: three hellos missed.
PROCESS_EXPIRY_SECONDS = 3 * HELLO_SECONDS
# Between tries to subscribe again after Redis was lost: doubling from the first, up
# to the most (python-socketio's own loop waits up to 60 s, so a Redis back after a
# minute's outage went unheard for another). While it is lost, this process puts its
# sockets right against the database at each try (resync.py): a ban made meanwhile on
# another process ends a banned member's hearing here within the most.
RETRY_FIRST_SECONDS = 1.0
RETRY_MOST_SECONDS = 5.0


class BusRelay(socketio.RedisManager):  # type: ignore[misc]  # python-socketio is untyped
    name = "parley-redis"

    def __init__(self, app: Flask, url: str, channel: str, ack_seconds: float) -> None:
        # One connection for every publish: redis-py otherwise checks a connection out of
        # its pool and back for each command, a quarter of what a PUBLISH costs here
        # (docs/performance.md). Its lock keeps concurrent publishes whole.
        super().__init__(url, channel=channel, redis_options={"single_connection_client": True})
        # Named so that the registry and the logs say which process is which.
        self.host_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # How this process's own relays begin on the wire (`relay` puts these two keys
        # first): every process hears its own, which it applied when it published, and
        # skips them without decoding.
        self._own_relay = orjson.dumps({"method": RELAY, "host_id": self.host_id})[:-1]
        self._app = app
        self.ack_seconds = ack_seconds
        self.registry = ProcessRegistry(
            redis.Redis.from_url(
                url,
                socket_connect_timeout=2,
                # Past the longest wait for acknowledgements (a BLPOP), so only a dead
                # connection times out.
                socket_timeout=ack_seconds + 5,
                health_check_interval=30,
            ),
            channel,
            PROCESS_EXPIRY_SECONDS,
        )
        # Set once this process has heard its own hello: it is subscribed and registered.
        self.listening = threading.Event()
        # Told how many processes are live at each renewal (the message writer shares
        # its group commit with them).
        self.on_live_processes: Callable[[int], None] | None = None
        self._leaving = False
        self._closed = False
        # Set while this thread applies a relayed change: what it publishes then must not
        # wait for the other processes, whose listeners may be waiting on this one.
        self._applying = threading.local()

    def initialize(self) -> None:
        super().initialize()
        self.server.start_background_task(self._say_hello)

    def relay(self, events: list[Event], stale: frozenset[str]) -> None:
        """The bus's relay: tells every other process, and waits for them if the change
        took access away."""
        message: dict[str, Any] = {
            "method": RELAY,
            "host_id": self.host_id,
            "events": [event.to_wire() for event in events],
            "stale": sorted(stale),
        }
        others: set[str] = set()
        if stale and self.ack_seconds > 0 and not getattr(self._applying, "on", False):
            try:
                others = self.registry.live() - {self.host_id}
            except redis.RedisError as exc:
                log.error("cannot read the live processes from Redis: %s", exc)
            if others:
                message["ack"] = self.registry.new_ack_key()
        if self._publish(message) is None:
            return  # not published (python-socketio logged why): no one will answer
        if others:
            try:
                missing = self.registry.wait_for(message["ack"], others, self.ack_seconds)
            except redis.RedisError as exc:
                log.error("cannot read the acknowledgements from Redis: %s", exc)
                return
            if missing:
                log.warning(
                    "%d of %d processes did not confirm a change within %g s: %s",
                    len(missing),
                    len(others),
                    self.ack_seconds,
                    ", ".join(sorted(missing)),
                )

    def leave(self) -> None:
        """This process stops serving: nobody waits for it any more."""
        self._leaving = True
        try:
            self.registry.leave(self.host_id)
        except redis.RedisError as exc:
            log.error("cannot leave the process registry: %s", exc)

    def close(self) -> None:
        """Leaves and stops listening; python-socketio's listener logs that it ended.
        For a manager that is not its process's (tests): a process that exits needs
        only `leave`."""
        self.leave()
        self._closed = True
        self._publish({"method": HELLO, "host_id": self.host_id})  # wakes the listener
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.join(5)
        for client in (self.pubsub, self.redis, self.registry.client):
            if client is not None:
                client.close()

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        """python-socketio's listening loop, with a shorter wait between tries and the
        sockets put right after every loss (what was relayed meanwhile is gone)."""
        retry = RETRY_FIRST_SECONDS
        subscribed = lost = False
        while not self._closed:
            try:
                if not subscribed:
                    self._redis_connect()
                    # Held here: a publish on another greenlet that finds the manager
                    # not yet connected connects it again, replacing self.pubsub with
                    # one that never subscribed.
                    pubsub = self.pubsub
                    pubsub.subscribe(self.channel)
                    subscribed = True
                    retry = RETRY_FIRST_SECONDS
                    if lost:
                        # Before any message heard from now on is applied.
                        self._resync()
                        lost = False
                yield from pubsub.listen()
                # listen() ends only when nothing is subscribed any more.
                subscribed = False
            except Exception as exc:
                if self._closed:
                    return
                log.error("cannot receive from Redis (%s); trying again in %g s", exc, retry)
                subscribed, lost = False, True
                self._resync()
                time.sleep(retry)
                retry = min(retry * 2, RETRY_MOST_SECONDS)

    def _resync(self) -> None:
        try:
            resync_sockets(self._app)
        except Exception:
            log.exception("putting the sockets right after a lost message queue failed")

    def _listen(self) -> Iterator[Any]:
        # Decoded here, once, to take this manager's messages out; python-socketio's
        # listener takes the others as decoded dicts.
        for raw in super()._listen():
            if self._closed:
                return
            if isinstance(raw, bytes) and raw.startswith(self._own_relay):
                continue
            try:
                data = _decode(raw)
            except ValueError:
                continue
            method = data.get("method") if isinstance(data, dict) else None
            if method == RELAY:
                self._apply(data)
            elif method == HELLO:
                self._heard_hello(data)
            else:
                yield data

    def _apply(self, data: dict[str, Any]) -> None:
        if data.get("host_id") == self.host_id:
            return  # applied when it was published
        self._applying.on = True
        try:
            with self._app.app_context():
                stale = data.get("stale") or ()
                if stale:
                    self._app.extensions["parley.access_cache"].changed(stale)
                events = [Event.from_wire(item) for item in data.get("events") or ()]
                if events:
                    bus: EventBus = self._app.extensions["parley.bus"]
                    bus.deliver(events)
        except Exception:
            log.exception("applying a change relayed from another process failed")
        finally:
            self._applying.on = False
            # Acknowledged even after a failure: the publisher waiting longer would not
            # mend it, and the failure is logged here.
            ack = data.get("ack")
            if isinstance(ack, str):
                try:
                    self.registry.ack(ack, self.host_id)
                except redis.RedisError as exc:
                    log.error("cannot acknowledge a relayed change: %s", exc)

    def _heard_hello(self, data: dict[str, Any]) -> None:
        if data.get("host_id") != self.host_id or self._leaving:
            return
        try:
            live = self.registry.renew(self.host_id)
        except redis.RedisError as exc:
            log.error("cannot renew this process in the registry: %s", exc)
            return
        self.listening.set()
        if self.on_live_processes is not None:
            self.on_live_processes(live)

    def _say_hello(self) -> None:
        said = 0
        while not self._leaving:
            self._publish({"method": HELLO, "host_id": self.host_id})
            said += 1
            starting = not self.listening.is_set() and said < HELLOS_STARTING
            self.server.sleep(HELLO_SECONDS_STARTING if starting else HELLO_SECONDS)


def _decode(raw: bytes | str) -> Any:
    """A message from the channel. orjson reads what the processes publish a few times
    faster than the standard library, which still reads what orjson refuses (integers
    past 64 bits, which an echoed payload can hold)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def start_listening(server: Any, timeout: float = 5.0) -> None:
    """Starts a serving process's listener now, not at its first socket (as
    python-socketio would): a process without sockets still keeps access checks and
    video views that relayed changes must reach. Waits, up to `timeout`, until the
    process is subscribed and registered, so no change goes past it unheard."""
    manager = server.manager
    if not isinstance(manager, BusRelay):
        return
    if not server.manager_initialized:
        server.manager_initialized = True
        manager.initialize()
    if not manager.listening.wait(timeout):
        log.warning("not subscribed to the message queue after %g s; still trying", timeout)


def leave(server: Any) -> None:
    if server is not None and isinstance(server.manager, BusRelay):
        server.manager.leave()
