"""Connection limits: the bookkeeping, and the Socket.IO connect handler refusing a socket
past its user's or its address's limit. tests/e2e/test_connection_limits.py runs them
against real servers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from realtime_support import Connect, refusal

from parley.config import ConfigError, load_config
from parley.errors import ApiError
from parley.realtime.connection_limits import ConnectionLimits, client_address
from support import Member


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limits(**kwargs: Any) -> ConnectionLimits:
    settings = {"max_connections": 0, "per_address": 0, "per_user": 0, "handshake_seconds": 5}
    return ConnectionLimits(**{**settings, **kwargs})


@pytest.fixture
def fresh_limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ConnectionLimits]:
    """This test's own limits on the shared app: connect_limits(per_user=2, ...)."""

    def install(**kwargs: Any) -> ConnectionLimits:
        made = limits(**kwargs)
        monkeypatch.setitem(app.extensions, "parley.connection_limits", made)
        return made

    return install


def refusal_of(connect: Any, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    """Open a socket that the server must refuse; the CONNECT_ERROR packet's data."""
    client = connect(auth={"token": "prly_not-a-token"})  # refused: a client to try with
    return refusal(client, monkeypatch, **kwargs)


# --- through the connect handler ----------------------------------------------------------


def test_a_users_socket_past_the_limit_is_refused_with_a_clear_error(
    connect: Connect,
    fresh_limits: Callable[..., ConnectionLimits],
    monkeypatch: pytest.MonkeyPatch,
    alice: Member,
    bob: Member,
) -> None:
    fresh_limits(per_user=2)
    first, _second = connect(alice), connect(alice)
    data = refusal_of(connect, monkeypatch, auth={"token": alice.token})
    assert data["data"] == {
        "code": "too_many_connections",
        "message": data["message"],
        "details": {"scope": "user", "limit": 2},
    }
    assert "2 sockets" in data["message"]
    assert connect(bob).is_connected()
    first.disconnect()
    assert connect(alice).is_connected()


def test_an_event_named_disconnect_frees_no_place(
    connect: Connect,
    fresh_limits: Callable[..., ConnectionLimits],
    monkeypatch: pytest.MonkeyPatch,
    alice: Member,
) -> None:
    made = fresh_limits(per_user=2)
    first, _second = connect(alice), connect(alice)
    first.emit("disconnect")
    assert first.is_connected()
    assert made.sockets_of(alice.id) == 2
    refusal_of(connect, monkeypatch, auth={"token": alice.token})


def test_an_address_past_the_limit_is_refused(
    connect: Connect,
    fresh_limits: Callable[..., ConnectionLimits],
    monkeypatch: pytest.MonkeyPatch,
    alice: Member,
    bob: Member,
) -> None:
    fresh_limits(per_address=2)
    assert connect(alice).is_connected() and connect(bob).is_connected()
    data = refusal_of(connect, monkeypatch, auth={"token": alice.token})
    assert data["data"]["details"] == {"scope": "address", "limit": 2}


def test_behind_trusted_proxies_the_forwarded_address_is_the_one_counted(
    app: Flask,
    connect: Connect,
    fresh_limits: Callable[..., ConnectionLimits],
    monkeypatch: pytest.MonkeyPatch,
    alice: Member,
) -> None:
    fresh_limits(per_address=1)
    monkeypatch.setitem(app.config, "PARLEY_TRUSTED_PROXIES", 1)
    one = {"X-Forwarded-For": "203.0.113.5"}
    assert connect(alice, headers=one).is_connected()
    refusal_of(connect, monkeypatch, auth={"token": alice.token}, headers=one)
    assert connect(alice, headers={"X-Forwarded-For": "203.0.113.6"}).is_connected()


# --- the bookkeeping ----------------------------------------------------------------------


def test_an_address_may_have_as_many_sessions_waiting_as_its_limit() -> None:
    counts = limits(per_address=2)
    counts.reserve("10.0.0.1")
    counts.reserve("10.0.0.1")
    with pytest.raises(ApiError) as refused:
        counts.reserve("10.0.0.1")
    assert (refused.value.status, refused.value.details) == (
        429,
        {"scope": "address", "limit": 2},
    )
    counts.reserve("10.0.0.2")


def test_a_full_server_refuses_with_503() -> None:
    counts = limits(max_connections=2)
    counts.reserve("10.0.0.1")
    counts.reserve("10.0.0.2")
    with pytest.raises(ApiError) as refused:
        counts.reserve("10.0.0.3")
    assert (refused.value.status, refused.value.code) == (503, "too_many_connections")


def test_a_session_that_connects_stops_waiting_and_waits_again_after_its_socket_leaves() -> None:
    clock = Clock()
    counts = limits(per_address=1, handshake_seconds=5, clock=clock)
    slot = counts.reserve("10.0.0.1")
    counts.bind(slot, "eio-1")
    counts.admit("sid-1", 7, "10.0.0.1", slot)
    counts.reserve("10.0.0.1")  # the first no longer waits
    clock.now += 60
    assert counts.overdue()[0] == []  # connected: never late
    counts.leave("sid-1")
    clock.now += 4
    assert counts.overdue()[0] == []
    clock.now += 1
    assert counts.overdue()[0] == ["eio-1"]


def test_only_sessions_past_their_deadline_are_late() -> None:
    clock = Clock()
    counts = limits(handshake_seconds=5, clock=clock)
    early = counts.reserve("10.0.0.1")
    counts.bind(early, "early")
    clock.now += 3
    late_later = counts.reserve("10.0.0.1")
    counts.bind(late_later, "later")
    clock.now += 2
    assert counts.overdue() == (["early"], True)
    counts.release_session("early")
    counts.release_session("early")  # twice: no harm
    clock.now += 3
    assert counts.overdue() == (["later"], True)
    counts.release(late_later)
    assert counts.overdue() == ([], False)
    assert counts.held() == 0


def test_a_release_gives_the_place_back() -> None:
    counts = limits(max_connections=1, per_address=1)
    slot = counts.reserve("10.0.0.1")
    counts.release(slot)
    counts.reserve("10.0.0.1")


def test_zero_is_no_limit() -> None:
    counts = limits()
    for n in range(500):
        counts.admit(f"sid-{n}", 1, "10.0.0.1", counts.reserve("10.0.0.1"))
    assert counts.sockets_of(1) == 500


# --- the client's address -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "127.0.0.1"),
        (1, None, "127.0.0.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "198.51.100.1, 203.0.113.5", "203.0.113.5"),
        (2, "198.51.100.1, 203.0.113.5", "198.51.100.1"),
        (2, "203.0.113.5", "127.0.0.1"),
    ],
)
def test_the_client_address_is_read_as_proxy_fix_reads_it(
    hops: int, forwarded: str | None, expected: str
) -> None:
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(environ, hops) == expected


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARLEY_MAX_SOCKETS_PER_USER", "-1"),
        ("PARLEY_MAX_SOCKETS_PER_ADDRESS", "-1"),
        ("PARLEY_MAX_CONNECTIONS", "-5"),
        ("PARLEY_SOCKET_HANDSHAKE_SECONDS", "0"),
        ("PARLEY_HTTP_HEADER_SECONDS", "0"),
        ("PARLEY_HTTP_IDLE_SECONDS", "-1"),
    ],
)
def test_a_limit_below_zero_or_a_timeout_of_zero_is_refused(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config("development", str(tmp_path), {name: value})


def test_gevent_holds_more_connections_than_the_threading_server(tmp_path: Path) -> None:
    production = load_config("production", str(tmp_path), {"SECRET_KEY": "x" * 40})
    development = load_config("development", str(tmp_path), {})
    threading = load_config("development", str(tmp_path), {"PARLEY_ASYNC_MODE": "threading"})
    assert production["PARLEY_MAX_CONNECTIONS"] == 1000
    assert development["PARLEY_MAX_CONNECTIONS"] == 1000
    assert threading["PARLEY_MAX_CONNECTIONS"] == 250
    chosen = {"PARLEY_ASYNC_MODE": "threading", "PARLEY_MAX_CONNECTIONS": "600"}
    assert load_config("development", str(tmp_path), chosen)["PARLEY_MAX_CONNECTIONS"] == 600
    assert development["PARLEY_MAX_SOCKETS_PER_USER"] == 20
    assert development["PARLEY_MAX_SOCKETS_PER_ADDRESS"] == 50
