"""The presence tracker of a process among many (parley.actions.presence_cluster): each
tracker here stands for one process, over one real Redis under a key prefix of its own;
what it announces is heard on the bus it publishes to."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from databases import unavailable
from parley.actions.presence_cluster import ClusterPresenceTracker, redis_client
from parley.events import Event, EventBus
from parley.store.presence_redis import RedisPresence
from support import Member, stored_user

REDIS_PORT = 6379
REDIS_DB = 15
GRACE = 0.3


def spawn(target: Callable[..., Any], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


class RedisGate:
    """A TCP forwarder to the real Redis on a port of its own that can be shut like a
    Redis going down (connections reset, new ones refused) and opened again."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def up(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        spawn(self._accept, self._listener)

    def down(self) -> None:
        listening = [self._listener] if self._listener is not None else []
        self._listener = None
        # shutdown first: it wakes the accept blocked on the socket, which close does not.
        for sock in [*listening, *self._open]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", REDIS_PORT))
            self._open += [client, upstream]
            spawn(self._pump, client, upstream)
            spawn(self._pump, upstream, client)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)


@pytest.fixture
def prefix() -> Iterator[str]:
    keys = redis.Redis(port=REDIS_PORT, db=REDIS_DB)
    try:
        keys.ping()
    except redis.ConnectionError:
        unavailable(f"No Redis answers on port {REDIS_PORT}; start one to test presence")
    name = f"parley-test-{uuid.uuid4().hex[:12]}"
    yield name
    found = list(keys.scan_iter(match=f"{name}:*"))
    if found:
        keys.delete(*found)
    keys.close()


@pytest.fixture
def heard() -> tuple[EventBus, list[dict[str, Any]]]:
    bus = EventBus()
    changes: list[dict[str, Any]] = []

    def hear(event: Event) -> None:
        if event.type == "presence":
            changes.append(event.payload)

    bus.subscribe(hear)
    return bus, changes


@pytest.fixture
def process(
    app: Flask,
    prefix: str,
    heard: tuple[EventBus, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., ClusterPresenceTracker]]:
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_GRACE_SECONDS", GRACE)
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_PROCESS_TTL", 60.0)
    made: list[ClusterPresenceTracker] = []

    def make(name: str, port: int = REDIS_PORT) -> ClusterPresenceTracker:
        store = RedisPresence(redis_client(f"redis://127.0.0.1:{port}/{REDIS_DB}"), prefix, name)
        tracker = ClusterPresenceTracker(app, heard[0], store, spawn=spawn, sleep=time.sleep)
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_user_on_two_processes_is_announced_once_each_way(
    app: Flask,
    process: Callable[..., ClusterPresenceTracker],
    heard: tuple[EventBus, list[dict[str, Any]]],
    alice: Member,
) -> None:
    _, changes = heard
    a, b = process("a"), process("b")
    seen_before = stored_user(app, alice.id).last_seen_at
    a.connected(alice.id, "tab-a")
    b.connected(alice.id, "tab-b")
    assert changes == [{"user_id": alice.id, "status": "online"}]
    a.disconnected(alice.id, "tab-a")
    time.sleep(GRACE * 2)
    assert len(changes) == 1
    assert a.online_user_ids() == [alice.id]
    b.disconnected(alice.id, "tab-b")
    wait_for(lambda: len(changes) == 2)
    assert changes[1] == {"user_id": alice.id, "status": "offline"}
    assert b.online_user_ids() == []
    last_seen = stored_user(app, alice.id).last_seen_at
    assert last_seen is not None
    assert seen_before is None or last_seen >= seen_before
    time.sleep(GRACE)
    assert len(changes) == 2


def test_sockets_that_came_and_went_while_redis_was_down_are_put_right_on_its_return(
    process: Callable[..., ClusterPresenceTracker],
    heard: tuple[EventBus, list[dict[str, Any]]],
    alice: Member,
    bob: Member,
) -> None:
    _, changes = heard
    gate = RedisGate()
    gate.up()
    try:
        cut_off, other = process("cut-off", gate.port), process("other")
        cut_off.connected(bob.id, "bob-tab")
        changes.clear()
        gate.down()
        # Neither fails the socket's connect or disconnect; the process still knows its own.
        cut_off.connected(alice.id, "alice-tab")
        cut_off.disconnected(bob.id, "bob-tab")
        assert cut_off.online_user_ids() == [alice.id]
        assert changes == []
        assert other.online_user_ids() == [bob.id]
        gate.up()
        cut_off.beat()
        assert changes[0] == {"user_id": alice.id, "status": "online"}
        wait_for(lambda: {"user_id": bob.id, "status": "offline"} in changes)
        assert other.online_user_ids() == [alice.id]
        assert len(changes) == 2
    finally:
        gate.down()
