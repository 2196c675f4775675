"""The bus relay and the process registry on a real Redis: who counts as live, how long a
relaying process waits for the others, and what another process applies.

A second process is a second BusRelay with a python-socketio server of its own, its
listener running on a thread; the relaying one is a manager never initialized, as in
the command line. Both apply to the test app: its bus and its kept access checks.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import socketio as socketio_lib
from flask import Flask

from databases import unavailable
from parley.events import Event
from parley.realtime.bus_relay import BusRelay, start_listening
from parley.realtime.process_registry import ProcessRegistry
from parley.store.access_cache import ROOMS, PostingRights

REDIS_URL = "redis://127.0.0.1:6379/15"
RIGHTS = PostingRights("private", False, False, None)
BANNED = PostingRights("private", False, True, None)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    found = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        found.ping()
    except redis.RedisError as exc:
        found.close()
        unavailable(f"No Redis answers at {REDIS_URL} ({type(exc).__name__})")
    yield found
    found.close()


@pytest.fixture
def channel(redis_client: redis.Redis) -> Iterator[str]:
    name = f"parley-test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(f"{name}:*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def other_process(app: Flask, channel: str) -> Iterator[BusRelay]:
    relay = BusRelay(app, REDIS_URL, channel, 2.0)
    server = socketio_lib.Server(client_manager=relay, async_mode="threading")
    start_listening(server, timeout=10)
    assert relay.listening.is_set()
    yield relay
    relay.close()


@pytest.fixture
def publisher(app: Flask, channel: str) -> Iterator[BusRelay]:
    relay = BusRelay(app, REDIS_URL, channel, 5.0)
    relay.set_server(socketio_lib.Server(async_mode="threading"))
    yield relay
    for found in (relay.redis, relay.registry.client):
        if found is not None:
            found.close()


def test_a_process_counts_as_live_until_its_entry_expires(
    redis_client: redis.Redis, channel: str
) -> None:
    now = [1000.0]
    registry = ProcessRegistry(redis_client, channel, expiry=6, clock=lambda: now[0])
    registry.renew("a")
    registry.renew("b")
    assert registry.live() == {"a", "b"}
    now[0] += 5
    registry.renew("b")
    now[0] += 2
    assert registry.live() == {"b"}


def test_a_renewal_says_how_many_processes_are_live(
    redis_client: redis.Redis, channel: str
) -> None:
    now = [1000.0]
    registry = ProcessRegistry(redis_client, channel, expiry=6, clock=lambda: now[0])
    assert registry.renew("a") == 1
    assert registry.renew("b") == 2
    now[0] += 7
    assert registry.renew("b") == 1


def test_a_listening_process_shares_its_group_commit_with_every_live_process(
    app: Flask, other_process: BusRelay, redis_client: redis.Redis, channel: str
) -> None:
    counts: list[int] = []
    other_process.on_live_processes = counts.append
    ProcessRegistry(redis_client, channel, expiry=60).renew("another-process")
    deadline = time.monotonic() + 10
    while 2 not in counts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert 2 in counts, f"the live processes heard were {counts}"


def test_a_process_that_leaves_stops_counting_at_once(
    redis_client: redis.Redis, channel: str
) -> None:
    registry = ProcessRegistry(redis_client, channel, expiry=60)
    registry.renew("a")
    registry.renew("b")
    registry.leave("a")
    assert registry.live() == {"b"}


def test_waiting_ends_when_every_process_has_acknowledged(
    redis_client: redis.Redis, channel: str
) -> None:
    registry = ProcessRegistry(redis_client, channel, expiry=60)
    key = registry.new_ack_key()
    registry.ack(key, "a")
    later = threading.Timer(0.2, registry.ack, (key, "b"))
    later.start()
    started = time.monotonic()
    assert registry.wait_for(key, {"a", "b"}, timeout=10) == set()
    later.join()
    assert time.monotonic() - started < 5
    assert redis_client.exists(key) == 0


def test_waiting_names_the_processes_that_did_not_acknowledge_in_time(
    redis_client: redis.Redis, channel: str
) -> None:
    registry = ProcessRegistry(redis_client, channel, expiry=60)
    key = registry.new_ack_key()
    registry.ack(key, "a")
    started = time.monotonic()
    assert registry.wait_for(key, {"a", "silent"}, timeout=0.5) == {"silent"}
    assert time.monotonic() - started >= 0.5


def test_an_acknowledgement_is_never_written_outside_the_channels_keys(
    redis_client: redis.Redis, channel: str
) -> None:
    registry = ProcessRegistry(redis_client, channel, expiry=60)
    elsewhere = f"elsewhere-{uuid.uuid4().hex}"
    registry.ack(elsewhere, "a")
    assert redis_client.exists(elsewhere) == 0


def test_the_other_process_applies_a_change_before_its_relay_returns(
    app: Flask, other_process: BusRelay, publisher: BusRelay
) -> None:
    seen: list[Event] = []
    unsubscribe = app.extensions["parley.bus"].subscribe(
        lambda event: seen.append(event) if event.type == "test:relayed" else None
    )
    cache = app.extensions["parley.access_cache"]
    assert cache.posting_rights(7, 8, lambda: RIGHTS) == RIGHTS  # kept from now on
    assert cache.posting_rights(7, 8, lambda: BANNED) == RIGHTS
    event = Event("test:relayed", {"n": 1}, room_id=8, user_ids=(7,), exclude_user_ids=(9,))
    try:
        started = time.monotonic()
        publisher.relay([event], frozenset({ROOMS}))
        elapsed = time.monotonic() - started
    finally:
        unsubscribe()
    assert seen == [event]
    assert cache.posting_rights(7, 8, lambda: BANNED) == BANNED
    assert elapsed < 4  # acknowledged, not waited out (the bound is 5 s)


def test_a_change_that_takes_nothing_away_does_not_wait(
    redis_client: redis.Redis, channel: str, publisher: BusRelay
) -> None:
    ProcessRegistry(redis_client, channel, expiry=60).renew("never-answers")
    publisher.ack_seconds = 10
    started = time.monotonic()
    publisher.relay([Event("test:relayed", {"n": 2}, room_id=8)], frozenset())
    assert time.monotonic() - started < 5


def test_a_relay_waits_no_longer_than_its_bound_for_a_silent_process(
    redis_client: redis.Redis, channel: str, publisher: BusRelay, caplog: pytest.LogCaptureFixture
) -> None:
    ProcessRegistry(redis_client, channel, expiry=60).renew("never-answers")
    publisher.ack_seconds = 1
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="parley.realtime.bus_relay"):
        publisher.relay([], frozenset({ROOMS}))
    elapsed = time.monotonic() - started
    assert 1 <= elapsed < 6
    assert "never-answers" in caplog.text


def test_a_process_does_not_apply_its_own_relayed_change_twice(
    app: Flask, other_process: BusRelay, publisher: BusRelay
) -> None:
    seen: list[str] = []
    unsubscribe = app.extensions["parley.bus"].subscribe(
        lambda event: seen.append(event.payload["name"]) if event.type == "test:own" else None
    )
    try:
        # Published by the listening process itself: its bus delivered it already.
        other_process.relay([Event("test:own", {"name": "own"}, room_id=8)], frozenset())
        # Then one from elsewhere, acknowledged once applied: everything before it was.
        publisher.relay([Event("test:own", {"name": "fence"}, room_id=8)], frozenset({ROOMS}))
    finally:
        unsubscribe()
    assert seen == ["fence"]


def test_a_process_that_has_left_is_not_waited_for(
    other_process: BusRelay, publisher: BusRelay, redis_client: redis.Redis, channel: str
) -> None:
    other_process.leave()
    assert ProcessRegistry(redis_client, channel, expiry=60).live() == set()
    publisher.ack_seconds = 10
    started = time.monotonic()
    publisher.relay([], frozenset({ROOMS}))
    assert time.monotonic() - started < 5


def test_a_relayed_payload_with_an_integer_past_64_bits_still_reaches_the_other_process(
    app: Flask, other_process: BusRelay, publisher: BusRelay
) -> None:
    seen: list[object] = []
    unsubscribe = app.extensions["parley.bus"].subscribe(
        lambda event: seen.append(event.payload["n"]) if event.type == "test:big" else None
    )
    try:
        publisher.relay([Event("test:big", {"n": 2**70}, room_id=8)], frozenset())
        # A change that waits for the listener: applied after the first, in order.
        publisher.relay([Event("test:big", {"n": 1}, room_id=8)], frozenset({ROOMS}))
    finally:
        unsubscribe()
    assert seen == [2**70, 1]
