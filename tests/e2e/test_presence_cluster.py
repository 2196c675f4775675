"""Presence, typing and per-user budgets across real processes: `parley serve` processes
on one PostgreSQL schema and one Redis, as a cluster runs them (without Nginx: each
client picks its process, as two tabs behind a balancer would land)."""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio
from api_client import Api
from servers import LiveServer, serve_side_by_side

from databases import postgres_schema, unavailable

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/15"
GRACE = 1.0
# Small, for a short test, yet several seconds: a process starved that long on a busy
# machine would be taken for dead and flap its users.
PROCESS_TTL = 4.0
SENDS = 3
EVENTS = 8


@dataclass
class Cluster:
    a: LiveServer
    b: LiveServer
    # A third process, for the test that kills it.
    doomed: LiveServer


def cluster_env(tmp_path: Path, database_url: str, prefix: str) -> dict[str, str]:
    # Random windows keep these budgets' counters apart from any other test's on the
    # shared Redis (the counters' keys hold the limit's numbers and the user id).
    window = 1000 + secrets.randbelow(100_000)
    return {
        **os.environ,
        "PARLEY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "PARLEY_MESSAGE_QUEUE": REDIS_URL,
        "PARLEY_REDIS_PREFIX": prefix,
        "PARLEY_PRESENCE_GRACE_SECONDS": str(GRACE),
        "PARLEY_PRESENCE_PROCESS_TTL": str(PROCESS_TTL),
        "PARLEY_SEND_RATE_LIMIT": f"{SENDS}/{window} seconds",
        "PARLEY_EVENT_RATE_LIMIT": f"{EVENTS}/{window} seconds",
        "PARLEY_REGISTER_RATE_LIMIT": f"1000/{window} seconds",
        "PARLEY_SHUTDOWN_SECONDS": "2",
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    keys = redis.Redis.from_url(REDIS_URL)
    try:
        keys.ping()
    except redis.ConnectionError:
        unavailable(f"No Redis answers at {REDIS_URL}; a cluster needs one")
    prefix = f"parley-test-{uuid.uuid4().hex[:12]}"
    tmp_path = tmp_path_factory.mktemp("cluster")
    with postgres_schema() as url, ExitStack() as stack:
        env = cluster_env(tmp_path, url, prefix)
        yield Cluster(*serve_side_by_side(env, tmp_path, ["a", "b", "doomed"], stack, timeout=120))
    found = list(keys.scan_iter(match=f"{prefix}:*"))
    if found:
        keys.delete(*found)
    keys.close()


class Tab:
    """One socket of a user on one process, noting the events it hears."""

    def __init__(self, url: str, token: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.heard: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self.sio.on("*", self._note)
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def _note(self, name: str, data: Any = None) -> None:
        with self._lock:
            self.heard.append((name, data))

    def events(self, name: str) -> list[Any]:
        with self._lock:
            return [data for heard, data in self.heard if heard == name]

    def presence_of(self, user_id: int) -> list[str]:
        return [p["status"] for p in self.events("presence") if p["user_id"] == user_id]

    def call(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        ack: dict[str, Any] = self.sio.call(name, data, timeout=10)
        return ack

    def online(self) -> list[int]:
        ack = self.call("sync", {})
        assert ack["ok"], ack
        return list(ack["online"])

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def tabs() -> Iterator[Callable[[LiveServer, Api], Tab]]:
    opened: list[Tab] = []

    def open_tab(server: LiveServer, api: Api) -> Tab:
        tab = Tab(server.url, api.http.headers["Authorization"][7:])
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        if tab.sio.connected:
            tab.close()


def person(cluster: Cluster, name: str) -> tuple[Api, int]:
    api, body = Api.register(cluster.a.url, f"{name}-{uuid.uuid4().hex[:8]}")
    return api, int(body["user"]["id"])


def wait_until(predicate: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_two_tabs_on_two_processes_closing_one_keeps_the_user_online(
    cluster: Cluster, tabs: Callable[[LiveServer, Api], Tab]
) -> None:
    alice, alice_id = person(cluster, "alice")
    bob, _ = person(cluster, "bob")
    on_a, on_b = tabs(cluster.a, bob), tabs(cluster.b, bob)
    tab_a, tab_b = tabs(cluster.a, alice), tabs(cluster.b, alice)
    for watcher in (on_a, on_b):
        wait_until(lambda w=watcher: w.presence_of(alice_id), 5, "alice online")
    tab_a.close()
    time.sleep(GRACE + 1.5)
    assert alice_id in on_a.online()
    assert alice_id in on_b.online()
    tab_b.close()
    for watcher in (on_a, on_b):
        wait_until(lambda w=watcher: "offline" in w.presence_of(alice_id), 10, "alice offline")
    time.sleep(1)
    # Once for the whole cluster: each socket heard each change once.
    assert on_a.presence_of(alice_id) == ["online", "offline"]
    assert on_b.presence_of(alice_id) == ["online", "offline"]
    assert alice_id not in on_a.online()
    assert alice_id not in on_b.online()


def test_typing_on_one_process_reaches_the_other_and_is_throttled_across_them(
    cluster: Cluster, tabs: Callable[[LiveServer, Api], Tab]
) -> None:
    alice, alice_id = person(cluster, "alice")
    bob, _ = person(cluster, "bob")
    room = alice.call("POST", "/rooms", 201, json={"name": f"typing-{uuid.uuid4().hex[:6]}"})
    bob.call("POST", f"/rooms/{room['id']}/join", 201)
    listener = tabs(cluster.b, bob)
    typist_a, typist_b = tabs(cluster.a, alice), tabs(cluster.b, alice)
    assert typist_a.call("typing", {"room_id": room["id"]}) == {"ok": True, "sent": True}
    # The same user's other tab, on the other process, within the throttle's interval.
    assert typist_b.call("typing", {"room_id": room["id"]}) == {"ok": True, "sent": False}
    wait_until(lambda: listener.events("typing"), 5, "typing on the other process")
    time.sleep(0.5)
    assert [t["user_id"] for t in listener.events("typing")] == [alice_id]


def test_the_send_and_event_budgets_are_per_user_across_processes(
    cluster: Cluster, tabs: Callable[[LiveServer, Api], Tab]
) -> None:
    carol, _ = person(cluster, "carol")
    room = carol.call("POST", "/rooms", 201, json={"name": f"budget-{uuid.uuid4().hex[:6]}"})
    on_a, on_b = tabs(cluster.a, carol), tabs(cluster.b, carol)
    send = {"room_id": room["id"], "body": "hi"}
    assert on_a.call("message:send", send)["ok"]
    rest_b = Api(cluster.b.url, carol.http.headers["Authorization"][7:])
    rest_b.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "over REST on B"})
    assert on_b.call("message:send", send)["ok"]
    spent = on_b.call("message:send", send)
    assert spent["error"]["code"] == "rate_limited", spent
    assert on_a.call("message:send", send)["error"]["code"] == "rate_limited"
    rest_b.close()

    dave, _ = person(cluster, "dave")
    dave_a, dave_b = tabs(cluster.a, dave), tabs(cluster.b, dave)
    acks = [(dave_a if n % 2 else dave_b).call("sync", {}) for n in range(EVENTS + 1)]
    assert [ack["ok"] for ack in acks] == [True] * EVENTS + [False]
    assert acks[-1]["error"]["code"] == "rate_limited"


def test_the_users_of_a_killed_process_go_offline_once_within_the_bound(
    cluster: Cluster, tabs: Callable[[LiveServer, Api], Tab]
) -> None:
    erin, erin_id = person(cluster, "erin")
    frank, frank_id = person(cluster, "frank")
    bob, _ = person(cluster, "bob")
    on_a, on_b = tabs(cluster.a, bob), tabs(cluster.b, bob)
    doomed = cluster.doomed
    tabs(doomed, erin)
    # Frank has a tab on the doomed process and one on a survivor.
    tabs(doomed, frank)
    tabs(cluster.a, frank)
    for watcher in (on_a, on_b):
        wait_until(lambda w=watcher: w.presence_of(erin_id), 5, "erin online")
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(10)
    # Reaped once its heartbeat is PROCESS_TTL old, by the next survivor's beat.
    took = wait_until(
        lambda: "offline" in on_a.presence_of(erin_id), PROCESS_TTL * 4, "erin offline"
    )
    assert took <= PROCESS_TTL * 1.25 + 4
    wait_until(lambda: "offline" in on_b.presence_of(erin_id), 5, "erin offline on B")
    # Long enough for every survivor to beat again: none announces it a second time.
    time.sleep(PROCESS_TTL / 2)
    assert on_a.presence_of(erin_id) == ["online", "offline"]
    assert on_b.presence_of(erin_id) == ["online", "offline"]
    assert on_a.presence_of(frank_id) == ["online"]
    online = on_b.online()
    assert erin_id not in online
    assert frank_id in online
