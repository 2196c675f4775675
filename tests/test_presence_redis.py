"""Presence across processes, kept in Redis: each `RedisPresence` here stands for one
process (its own name, one shared Redis), each test under a key prefix of its own."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from databases import unavailable
from parley.store.presence_redis import RedisPresence
from parley.store.typing_redis import RedisTypingThrottle

REDIS_URL = "redis://127.0.0.1:6379/15"
LONG = 60.0
# Long enough that "not yet" holds on a busy machine.
GRACE = 2.0

Process = Callable[[str], RedisPresence]


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    found = redis.Redis.from_url(REDIS_URL)
    try:
        found.ping()
    except redis.ConnectionError:
        unavailable(f"No Redis answers at {REDIS_URL}; start one to test presence across processes")
    yield found
    found.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    name = f"parley-test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def process(client: redis.Redis, prefix: str) -> Process:
    return lambda name: RedisPresence(client, prefix, name)


def test_a_user_comes_online_once_whatever_the_number_of_their_sockets(process: Process) -> None:
    a, b = process("a"), process("b")
    assert a.connect(1, "s1") == (True, False)
    assert a.connect(1, "s2")[0] is False
    assert b.connect(1, "s3")[0] is False
    assert a.online() == [1]


def test_a_process_is_registered_by_its_first_beat(process: Process) -> None:
    a = process("a")
    assert a.beat(LONG) == (False, [])
    assert a.beat(LONG) == (True, [])
    assert a.connect(7, "s1") == (True, True)


def test_closing_one_of_two_sockets_on_two_processes_keeps_the_user_online(
    process: Process,
) -> None:
    a, b = process("a"), process("b")
    a.connect(1, "tab-1")
    b.connect(1, "tab-2")
    assert a.disconnect(1, "tab-1", grace=0) is False
    assert a.settle() == []
    assert b.online() == [1]


def settled_within(presence: RedisPresence, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while not (gone := presence.settle()):
        assert time.monotonic() < deadline, "no one went offline"
        time.sleep(0.05)
    return gone


def test_the_last_socket_closing_takes_the_user_offline_after_the_grace_only(
    process: Process,
) -> None:
    a, b = process("a"), process("b")
    a.connect(1, "tab-1")
    b.connect(1, "tab-2")
    a.disconnect(1, "tab-1", grace=GRACE)
    closed = time.monotonic()
    assert b.disconnect(1, "tab-2", grace=GRACE) is True
    assert a.settle() == []
    assert a.online() == [1]
    assert settled_within(b, GRACE + 5) == [1]
    assert time.monotonic() - closed >= GRACE * 0.9
    assert a.settle() == []
    assert a.online() == []


def test_coming_back_within_the_grace_announces_nothing(process: Process) -> None:
    a, b = process("a"), process("b")
    a.connect(1, "tab")
    a.disconnect(1, "tab", grace=0.2)
    assert b.connect(1, "reloaded")[0] is False
    time.sleep(0.3)
    assert a.settle() == []
    assert a.online() == [1]


def test_a_later_disconnect_restarts_the_grace(process: Process) -> None:
    a = process("a")
    a.connect(1, "tab")
    a.disconnect(1, "tab", grace=0.2)
    a.connect(1, "again")
    a.disconnect(1, "again", grace=GRACE)
    time.sleep(0.4)
    # The first grace has ended, the second has not.
    assert a.settle() == []
    assert settled_within(a, GRACE + 5) == [1]


def test_a_process_that_stops_beating_is_reaped_and_its_users_go_offline(process: Process) -> None:
    dying, survivor = process("dying"), process("survivor")
    dying.beat(0.3)
    dying.connect(1, "s1")
    dying.connect(2, "s2")
    survivor.connect(2, "s3")
    survivor.beat(LONG)
    assert survivor.beat(LONG) == (True, [])
    time.sleep(0.4)
    # User 2 still has a socket on the survivor.
    assert survivor.beat(LONG) == (True, [1])
    assert survivor.online() == [2]


def test_two_survivors_reaping_one_dead_process_announce_each_user_once(process: Process) -> None:
    dead = process("dead")
    dead.beat(0.3)
    for user_id in range(1, 21):
        dead.connect(user_id, f"s{user_id}")
    survivors = [process(f"survivor-{n}") for n in range(4)]
    time.sleep(0.4)
    found: list[list[int]] = []
    start = threading.Barrier(len(survivors))

    def reap(survivor: RedisPresence) -> None:
        start.wait()
        found.append(survivor.beat(LONG)[1])

    threads = [threading.Thread(target=reap, args=(s,)) for s in survivors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(user for gone in found for user in gone) == list(range(1, 21))


def test_a_leaver_whose_process_died_during_the_grace_is_settled_by_another(
    process: Process,
) -> None:
    gone_with_it, survivor = process("gone"), process("survivor")
    gone_with_it.connect(1, "tab")
    gone_with_it.disconnect(1, "tab", grace=0.2)
    # Its grace timer died with it; the survivor's next beat settles the user.
    time.sleep(0.3)
    assert survivor.beat(LONG) == (False, [1])


def test_a_process_reaped_while_stalled_puts_its_sockets_back(process: Process) -> None:
    stalled, other = process("stalled"), process("other")
    stalled.sync({"s1": 1, "s2": 2}, ttl=0.3, grace=0)
    time.sleep(0.4)
    assert sorted(other.beat(LONG)[1]) == [1, 2]
    assert stalled.beat(LONG) == (False, [])
    assert sorted(stalled.sync({"s1": 1, "s2": 2}, ttl=LONG, grace=0)) == [1, 2]
    assert other.online() == [1, 2]


def test_a_sync_drops_the_sockets_the_process_no_longer_holds(process: Process) -> None:
    a = process("a")
    a.connect(1, "s1")
    a.connect(2, "s2")
    # The disconnect of s1 never reached Redis (it was down then).
    assert a.sync({"s2": 2}, ttl=LONG, grace=0) == []
    assert a.settle() == [1]
    assert a.online() == [2]


def test_a_process_that_leaves_takes_its_sockets_along(process: Process) -> None:
    leaving, staying = process("leaving"), process("staying")
    leaving.connect(1, "s1")
    leaving.connect(2, "s2")
    staying.connect(2, "s3")
    assert leaving.forget() == [1]
    assert staying.online() == [2]


def test_the_typing_throttle_is_shared_by_processes_on_one_redis(
    client: redis.Redis, prefix: str
) -> None:
    first = RedisTypingThrottle(client, prefix, every=GRACE)
    second = RedisTypingThrottle(client, prefix, every=GRACE)
    assert first.throttled(1, 10) is False
    assert first.allow(1, 10) is True
    assert second.throttled(1, 10) is True
    assert second.allow(1, 10) is False
    assert second.allow(1, 11) is True
    assert second.allow(2, 10) is True
    deadline = time.monotonic() + GRACE + 5
    while not second.allow(1, 10):
        assert time.monotonic() < deadline, "the interval never ended"
        time.sleep(0.05)
