"""Presence: a user is online while any socket of theirs is open, and is announced
offline only once all have been closed for the grace period (a reload does not flap)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from realtime_support import Connect, emit, ok, payloads, wait_for

from support import Member, stored_user

GRACE = 0.2


@pytest.fixture(autouse=True)
def grace(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_GRACE_SECONDS", GRACE)


def statuses_of(received: list[dict[str, Any]], user_id: int) -> list[str]:
    return [p["status"] for p in payloads(received, "presence") if p["user_id"] == user_id]


def test_closing_one_of_two_tabs_keeps_the_user_online(
    connect: Connect, alice: Member, bob: Member
) -> None:
    watcher = connect(bob)
    tab, other_tab = connect(alice), connect(alice)
    assert statuses_of(watcher.get_received(), alice.id) == ["online"]
    tab.disconnect()
    time.sleep(GRACE * 2.5)
    assert statuses_of(watcher.get_received(), alice.id) == []
    assert alice.id in ok(emit(watcher, "sync", {}))["online"]
    assert other_tab.is_connected()


def test_closing_every_tab_announces_offline_after_the_grace_period(
    app: Flask, connect: Connect, alice: Member, bob: Member
) -> None:
    watcher = connect(bob)
    tab, other_tab = connect(alice), connect(alice)
    seen_before = stored_user(app, alice.id).last_seen_at
    watcher.get_received()
    tab.disconnect()
    other_tab.disconnect()
    closed = time.monotonic()
    assert statuses_of(watcher.get_received(), alice.id) == []
    wait_for(watcher, "presence", lambda p: p == {"user_id": alice.id, "status": "offline"})
    assert time.monotonic() - closed >= GRACE * 0.9
    assert statuses_of(watcher.get_received(), alice.id) == ["offline"]
    assert alice.id not in ok(emit(watcher, "sync", {}))["online"]
    assert stored_user(app, alice.id).last_seen_at >= seen_before


def test_reconnecting_within_the_grace_period_announces_nothing(
    app: Flask, connect: Connect, alice: Member, bob: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Longer here, so a slow reconnect on a busy machine still falls within it.
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_GRACE_SECONDS", 0.6)
    watcher = connect(bob)
    tab = connect(alice)
    watcher.get_received()
    tab.disconnect()
    reloaded = connect(alice)
    time.sleep(0.9)
    assert statuses_of(watcher.get_received(), alice.id) == []
    assert reloaded.is_connected()
    assert alice.id in ok(emit(watcher, "sync", {}))["online"]


def test_coming_back_after_going_offline_is_announced_online_again(
    connect: Connect, alice: Member, bob: Member
) -> None:
    watcher = connect(bob)
    connect(alice).disconnect()
    wait_for(watcher, "presence", lambda p: p == {"user_id": alice.id, "status": "offline"})
    watcher.get_received()
    connect(alice)
    assert statuses_of(watcher.get_received(), alice.id) == ["online"]


def test_sync_lists_who_is_online(
    connect: Connect, alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    make_user("carol")
    watcher = connect(bob)
    connect(alice)
    online = ok(emit(watcher, "sync", {}))["online"]
    assert online == sorted(online)
    assert {alice.id, bob.id} <= set(online)


def test_a_deactivated_user_is_announced_offline(
    connect: Connect, make_user: Callable[..., Member], alice: Member, bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    watcher = connect(alice)
    connect(bob)
    assert root.patch(f"/api/v1/users/{bob.id}", json={"active": False}).status_code == 200
    wait_for(watcher, "presence", lambda p: p == {"user_id": bob.id, "status": "offline"})


def batched_changes(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [change for p in payloads(received, "presence:batch") for change in p["changes"]]


def wait_for_change(watcher: SocketIOTestClient, user_id: int, status: str) -> None:
    change = {"user_id": user_id, "status": status}
    wait_for(watcher, "presence:batch", lambda p: change in p["changes"])


def test_a_socket_that_asks_for_batches_gets_changes_gathered_in_one_event(
    app: Flask,
    connect: Connect,
    make_user: Callable[..., Member],
    alice: Member,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long enough that the arrivals below fall within one interval on a busy machine.
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_BATCH_SECONDS", 1.0)
    watcher = connect(auth={"token": alice.token, "presence": "batched"})
    arrivals = [make_user(name) for name in ("bob", "carol", "dave")]
    each = connect(arrivals[0])
    for member in arrivals[1:]:
        connect(member)
    wait_for(
        watcher,
        "presence:batch",
        lambda p: {"user_id": arrivals[-1].id, "status": "online"} in p["changes"],
    )
    received = watcher.get_received()
    assert payloads(received, "presence") == []
    online = [c["user_id"] for c in batched_changes(received) if c["status"] == "online"]
    # Its own arrival too, as a socket that takes one event per change hears it.
    assert sorted(online) == sorted([alice.id, *(m.id for m in arrivals)])
    assert len(payloads(received, "presence:batch")) < len(online)
    assert sorted(p["user_id"] for p in payloads(each.get_received(), "presence")) == sorted(
        m.id for m in arrivals
    )


def test_a_batched_socket_hears_offline_after_the_grace_period(
    connect: Connect, alice: Member, bob: Member
) -> None:
    watcher = connect(auth={"token": alice.token, "presence": "batched"})
    tab = connect(bob)
    wait_for(
        watcher, "presence:batch", lambda p: {"user_id": bob.id, "status": "online"} in p["changes"]
    )
    tab.disconnect()
    wait_for(
        watcher,
        "presence:batch",
        lambda p: {"user_id": bob.id, "status": "offline"} in p["changes"],
    )


def test_a_batch_carries_each_users_latest_status_in_the_order_of_their_last_change() -> None:
    from parley.realtime.presence_batches import PresenceBatches

    sent: list[list[dict[str, Any]]] = []
    spawned: list[Callable[[], None]] = []
    batches = PresenceBatches(sent.append, spawned.append, lambda _s: None, lambda: 0.25)
    batches.add(1, "online")
    batches.add(2, "online")
    batches.add(1, "offline")
    assert len(spawned) == 1
    spawned.pop()()
    assert sent == [[{"user_id": 2, "status": "online"}, {"user_id": 1, "status": "offline"}]]
    batches.add(3, "online")
    assert len(spawned) == 1
    spawned.pop()()
    assert sent[-1] == [{"user_id": 3, "status": "online"}]


def test_a_negative_batch_interval_is_refused(tmp_path: Path) -> None:
    from parley.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="PARLEY_PRESENCE_BATCH_SECONDS"):
        load_config("testing", str(tmp_path), {"PARLEY_PRESENCE_BATCH_SECONDS": "-0.1"})
