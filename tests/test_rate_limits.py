"""Rate limits: REST login and registration per address; per user, message sends (REST
and Socket.IO together) and other socket events.

The session app runs with limits off (the testing config), so the REST tests build a
second app with them on, over the same database (`support.another_app`).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from limits.storage import storage_from_string

from databases import unavailable
from parley.config import ConfigError, load_config
from parley.events import Event
from parley.extensions import socketio
from parley.ratelimits import EventRateLimiter
from support import PASSWORD, Member, another_app, assert_error, login

REGISTER = "/api/v1/auth/register"
REDIS_URL = "redis://127.0.0.1:6379/15"
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def limited_app(app: Flask) -> Iterator[Flask]:
    with another_app(
        app,
        PARLEY_RATE_LIMITS=True,
        PARLEY_LOGIN_RATE_LIMIT="3/minute",
        PARLEY_REGISTER_RATE_LIMIT="3/hour",
        PARLEY_EVENT_RATE_LIMIT="2/10 seconds",
        PARLEY_PRESENCE_GRACE_SECONDS=0,
    ) as limited:
        yield limited


def assert_rate_limited(response: Any) -> float:
    """A 429 in the one error shape whose Retry-After never sends a client back early."""
    error = assert_error(response, 429, "rate_limited")
    wait = error["details"]["retry_after"]
    assert wait > 0, error
    header = response.headers["Retry-After"]
    assert header.isdigit(), header
    assert int(header) >= max(1, math.ceil(wait)), (header, wait)
    return float(wait)


@contextmanager
def going_offline(app: Flask, user_id: int) -> Iterator[None]:
    """Wait, after the block, for the presence tracker to tell the user went offline: it
    writes last_seen_at first, and must be done before the database is cleaned."""
    offline = threading.Event()

    def hear(event: Event) -> None:
        if event.type == "presence" and event.payload == {"user_id": user_id, "status": "offline"}:
            offline.set()

    unsubscribe = app.extensions["parley.bus"].subscribe(hear)
    try:
        yield
        assert offline.wait(5), "the user never went offline"
    finally:
        unsubscribe()


def register_body(username: str) -> dict[str, str]:
    return {"username": username, "password": PASSWORD}


# --- REST: login and registration -------------------------------------------------------


def test_the_fourth_login_from_one_address_in_a_minute_is_refused_with_429(
    limited_app: Flask, alice: Member
) -> None:
    client = limited_app.test_client()
    for _ in range(3):
        assert_error(login(client, "alice", "not the password"), 401, "invalid_credentials")
    # Even the right password: the budget is spent, so guessing cannot go on.
    wait = assert_rate_limited(login(client, "alice"))
    # Flask-Limiter rounds the window's end up to the next whole second.
    assert wait <= 61


def test_the_login_limit_counts_each_address_apart(limited_app: Flask, alice: Member) -> None:
    client = limited_app.test_client()
    for _ in range(3):
        assert login(client, "alice").status_code == 200
    assert_rate_limited(login(client, "alice"))

    elsewhere = limited_app.test_client()
    elsewhere.environ_base.update(ELSEWHERE)
    response = login(elsewhere, "alice")
    assert response.status_code == 200, response.get_json()


def test_behind_a_trusted_proxy_the_limit_keys_on_the_forwarded_address(
    app: Flask, alice: Member
) -> None:
    with another_app(
        app, PARLEY_RATE_LIMITS=True, PARLEY_LOGIN_RATE_LIMIT="2/minute", PARLEY_TRUSTED_PROXIES=1
    ) as proxied:
        client = proxied.test_client()

        def via(address: str) -> Any:
            return client.post(
                "/api/v1/auth/login",
                json={"username": "alice", "password": PASSWORD},
                headers={"X-Forwarded-For": address},
            )

        assert via("203.0.113.7").status_code == 200
        assert via("203.0.113.7").status_code == 200
        assert_rate_limited(via("203.0.113.7"))
        assert via("198.51.100.9").status_code == 200


def test_the_fourth_registration_from_one_address_in_an_hour_is_refused_with_429(
    app: Flask, limited_app: Flask
) -> None:
    client = limited_app.test_client()
    for name in ("erin", "frank", "grace"):
        assert client.post(REGISTER, json=register_body(name)).status_code == 201
    wait = assert_rate_limited(client.post(REGISTER, json=register_body("heidi")))
    assert wait <= 3601
    # The refused registration made no account.
    assert_error(login(app.test_client(), "heidi"), 401, "invalid_credentials")


def test_the_registration_limit_counts_each_address_apart(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for name in ("erin", "frank", "grace"):
        assert client.post(REGISTER, json=register_body(name)).status_code == 201
    assert_rate_limited(client.post(REGISTER, json=register_body("heidi")))

    elsewhere = limited_app.test_client()
    elsewhere.environ_base.update(ELSEWHERE)
    response = elsewhere.post(REGISTER, json=register_body("heidi"))
    assert response.status_code == 201, response.get_json()


def test_rate_limits_off_let_fifty_logins_through(app: Flask, alice: Member) -> None:
    with another_app(app, PARLEY_RATE_LIMITS=False, PARLEY_LOGIN_RATE_LIMIT="3/minute") as off:
        client = off.test_client()
        statuses = [login(client, "alice").status_code for _ in range(50)]
    assert statuses == [200] * 50


def test_an_app_with_limits_on_leaves_the_session_app_as_it_was(
    app: Flask, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = socketio.server
    with another_app(app, PARLEY_RATE_LIMITS=True, PARLEY_LOGIN_RATE_LIMIT="1/minute") as other:
        client = other.test_client()
        login(client, "alice")
        assert_rate_limited(login(client, "alice"))
    assert socketio.server is server

    # The session app's REST limits are still off, on the same address.
    statuses = [login(app.test_client(), "alice").status_code for _ in range(5)]
    assert statuses == [200] * 5

    # And its sockets still connect, hear their events and get their acks.
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_GRACE_SECONDS", 0)
    with going_offline(app, alice.id):
        socket = socketio.test_client(app, auth={"token": alice.token})
        assert socket.is_connected()
        received = [event["name"] for event in socket.get_received()]
        assert "presence" in received
        ack = socket.emit("sync", {}, callback=True)
        socket.disconnect()
    assert ack["ok"] is True, ack


# --- Socket.IO: the event budget ------------------------------------------------------


def test_socket_events_past_the_budget_get_a_rate_limited_ack(
    limited_app: Flask, alice: Member
) -> None:
    with going_offline(limited_app, alice.id):
        socket = socketio.test_client(limited_app, auth={"token": alice.token})
        assert socket.is_connected()
        acks = [socket.emit("sync", {}, callback=True) for _ in range(3)]
        socket.disconnect()
    assert [ack["ok"] for ack in acks] == [True, True, False]
    error = acks[2]["error"]
    assert error["code"] == "rate_limited"
    assert 0 < error["details"]["retry_after"] <= 10


# --- Budgets that fit people ----------------------------------------------------------


@pytest.fixture
def default_limits(app: Flask) -> Iterator[Flask]:
    """An app with every limit on at its shipped default."""
    with another_app(app, PARLEY_RATE_LIMITS=True, PARLEY_PRESENCE_GRACE_SECONDS=0) as limited:
        yield limited


def messages_path(room: dict[str, Any]) -> str:
    return f"/api/v1/rooms/{room['id']}/messages"


def test_a_person_typing_sending_and_reading_at_human_speed_is_never_rate_limited(
    default_limits: Flask, alice: Member, room: dict[str, Any]
) -> None:
    # A dozen short replies in seven seconds, as the page sends them: a typing event per
    # keystroke burst, the send, then the read mark up to the new message.
    acks: list[dict[str, Any]] = []
    with going_offline(default_limits, alice.id):
        socket = socketio.test_client(default_limits, auth={"token": alice.token})
        assert socket.is_connected()
        acks.append(socket.emit("sync", {}, callback=True))
        for n in range(12):
            for _ in range(4):
                acks.append(socket.emit("typing", {"room_id": room["id"]}, callback=True))
                time.sleep(0.1)
            sent = socket.emit(
                "message:send",
                {"room_id": room["id"], "body": f"reply {n}", "client_id": f"human-{n}"},
                callback=True,
            )
            acks.append(sent)
            if sent.get("ok"):
                mark = {"room_id": room["id"], "message_id": sent["message"]["id"]}
                acks.append(socket.emit("room:read", mark, callback=True))
            time.sleep(0.15)
        socket.disconnect()
    refused = [ack for ack in acks if not ack.get("ok")]
    assert refused == []
    history = alice.client.get(messages_path(room), headers=alice.headers).get_json()["messages"]
    assert [m["body"] for m in history] == [f"reply {n}" for n in range(12)]


def test_the_201st_send_in_a_minute_over_rest_and_socket_together_is_rate_limited(
    default_limits: Flask, alice: Member, room: dict[str, Any]
) -> None:
    rest = default_limits.test_client()
    statuses = []
    with going_offline(default_limits, alice.id):
        socket = socketio.test_client(default_limits, auth={"token": alice.token})
        for n in range(200):
            body = {"body": f"m{n}", "client_id": f"mixed-{n}"}
            if n % 2:
                ack = socket.emit("message:send", {"room_id": room["id"], **body}, callback=True)
                statuses.append(201 if ack["ok"] else ack["error"]["code"])
            else:
                response = rest.post(messages_path(room), json=body, headers=alice.headers)
                statuses.append(response.status_code)
        assert statuses == [201] * 200

        last = {"body": "one too many", "client_id": "mixed-200"}
        ack = socket.emit("message:send", {"room_id": room["id"], **last}, callback=True)
        response = rest.post(messages_path(room), json=last, headers=alice.headers)
        # Other events still have their own budget.
        sync = socket.emit("sync", {}, callback=True)
        socket.disconnect()
    assert ack["ok"] is False
    assert ack["error"]["code"] == "rate_limited"
    assert 0 < ack["error"]["details"]["retry_after"] <= 60
    assert_rate_limited(response)
    assert sync["ok"] is True, sync
    # Refused sends store nothing.
    history = alice.client.get(messages_path(room) + "?limit=100", headers=alice.headers).get_json()
    assert "one too many" not in [m["body"] for m in history["messages"]]


def test_a_refused_send_spends_nothing_so_its_resend_goes_through_once_the_window_moves(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    with another_app(app, PARLEY_RATE_LIMITS=True, PARLEY_SEND_RATE_LIMIT="1/second") as limited:
        client = limited.test_client()
        first = {"body": "first", "client_id": "window-1"}
        second = {"body": "second", "client_id": "window-2"}
        assert (
            client.post(messages_path(room), json=first, headers=alice.headers).status_code == 201
        )
        wait = assert_rate_limited(
            client.post(messages_path(room), json=second, headers=alice.headers)
        )
        time.sleep(wait + 0.05)
        again = client.post(messages_path(room), json=second, headers=alice.headers)
    assert again.status_code == 201, again.get_json()


def test_a_typing_flood_spends_neither_the_send_budget_nor_the_event_budget(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    with (
        another_app(
            app,
            PARLEY_RATE_LIMITS=True,
            PARLEY_SEND_RATE_LIMIT="3/minute",
            PARLEY_EVENT_RATE_LIMIT="3/minute",
            PARLEY_PRESENCE_GRACE_SECONDS=0,
        ) as limited,
        going_offline(limited, alice.id),
    ):
        socket = socketio.test_client(limited, auth={"token": alice.token})
        typing = [socket.emit("typing", {"room_id": room["id"]}, callback=True) for _ in range(100)]
        sends = [
            socket.emit(
                "message:send",
                {"room_id": room["id"], "body": f"after typing {n}", "client_id": f"t-{n}"},
                callback=True,
            )
            for n in range(3)
        ]
        syncs = [socket.emit("sync", {}, callback=True) for _ in range(3)]
        socket.disconnect()
    assert all(ack["ok"] for ack in typing), [a for a in typing if not a["ok"]][:1]
    # The throttle let one out; the rest were dropped, free.
    assert [ack["sent"] for ack in typing].count(True) == 1
    assert [ack["ok"] for ack in sends] == [True, True, True], sends
    # One typing event that went out spent one of the three general events.
    assert [ack["ok"] for ack in syncs] == [True, True, False], syncs
    assert syncs[2]["error"]["code"] == "rate_limited"


def test_sends_spend_their_own_budget_not_the_event_budget(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    with (
        another_app(
            app,
            PARLEY_RATE_LIMITS=True,
            PARLEY_SEND_RATE_LIMIT="5/minute",
            PARLEY_EVENT_RATE_LIMIT="2/minute",
            PARLEY_PRESENCE_GRACE_SECONDS=0,
        ) as limited,
        going_offline(limited, alice.id),
    ):
        socket = socketio.test_client(limited, auth={"token": alice.token})
        sends = [
            socket.emit(
                "message:send",
                {"room_id": room["id"], "body": f"s{n}", "client_id": f"own-{n}"},
                callback=True,
            )
            for n in range(5)
        ]
        syncs = [socket.emit("sync", {}, callback=True) for _ in range(2)]
        socket.disconnect()
    assert [ack["ok"] for ack in sends] == [True] * 5
    assert [ack["ok"] for ack in syncs] == [True, True]


def test_the_send_budget_is_set_by_its_environment_variable() -> None:
    settings = load_config("production", "/tmp", {"SECRET_KEY": "x" * 40})
    assert settings["PARLEY_SEND_RATE_LIMIT"] == "200/minute"
    env = {"SECRET_KEY": "x" * 40, "PARLEY_SEND_RATE_LIMIT": "30/10 seconds"}
    assert load_config("production", "/tmp", env)["PARLEY_SEND_RATE_LIMIT"] == "30/10 seconds"


@pytest.mark.parametrize("name", ["PARLEY_SEND_RATE_LIMIT", "PARLEY_EVENT_RATE_LIMIT"])
def test_a_budget_that_is_not_a_rate_is_refused_at_startup(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config("development", "/tmp", {name: "lots"})


# --- EventRateLimiter -----------------------------------------------------------------


def test_event_limiter_allows_the_limit_then_says_how_long_to_wait() -> None:
    events = EventRateLimiter("3/10 seconds", "memory://", True)
    assert [events.retry_after("user:1") for _ in range(3)] == [None, None, None]
    wait = events.retry_after("user:1")
    assert wait is not None
    assert 0 < wait <= 10


def test_event_limiter_allows_again_once_the_window_has_moved_on() -> None:
    events = EventRateLimiter("1/second", "memory://", True)
    assert events.retry_after("user:1") is None
    wait = events.retry_after("user:1")
    assert wait is not None
    time.sleep(wait + 0.05)
    assert events.retry_after("user:1") is None


def test_event_limiter_turned_off_never_limits() -> None:
    events = EventRateLimiter("1/hour", "memory://", False)
    assert {events.retry_after("user:1") for _ in range(100)} == {None}


def test_event_limiter_keys_have_budgets_of_their_own() -> None:
    events = EventRateLimiter("1/minute", "memory://", True)
    assert events.retry_after("user:1") is None
    assert events.retry_after("user:1") is not None
    assert events.retry_after("user:2") is None


@pytest.fixture
def redis_url() -> str:
    if not storage_from_string(REDIS_URL).check():
        unavailable(f"No Redis answers at {REDIS_URL}; start one to test shared counters")
    return REDIS_URL


def test_event_limiter_on_redis_allows_the_limit_then_says_how_long_to_wait(redis_url: str) -> None:
    events = EventRateLimiter("2/10 seconds", redis_url, True)
    key = f"user:{uuid.uuid4().hex}"
    assert [events.retry_after(key) for _ in range(2)] == [None, None]
    wait = events.retry_after(key)
    assert wait is not None
    assert 0 < wait <= 10


def test_event_limiters_on_one_redis_share_the_budget_like_processes_do(redis_url: str) -> None:
    first = EventRateLimiter("2/10 seconds", redis_url, True)
    second = EventRateLimiter("2/10 seconds", redis_url, True)
    key = f"user:{uuid.uuid4().hex}"
    assert first.retry_after(key) is None
    assert second.retry_after(key) is None
    assert first.retry_after(key) is not None
    assert second.retry_after(key) is not None
    assert second.retry_after(f"user:{uuid.uuid4().hex}") is None


def test_send_budgets_on_one_redis_share_the_count_across_processes_and_transports(
    app: Flask, alice: Member, room: dict[str, Any], redis_url: str
) -> None:
    # Two apps on one Redis stand for two processes: a REST send on one and a socket send
    # on the other draw on the same budget.
    settings = {
        "PARLEY_RATE_LIMITS": True,
        "PARLEY_RATE_LIMIT_STORAGE": redis_url,
        "PARLEY_SEND_RATE_LIMIT": f"2/{1000 + uuid.uuid4().int % 1000} seconds",
        "PARLEY_PRESENCE_GRACE_SECONDS": 0,
    }
    with another_app(app, **settings) as first:
        response = first.test_client().post(
            messages_path(room), json={"body": "one"}, headers=alice.headers
        )
        assert response.status_code == 201, response.get_json()
    with another_app(app, **settings) as second, going_offline(second, alice.id):
        socket = socketio.test_client(second, auth={"token": alice.token})
        acks = [
            socket.emit("message:send", {"room_id": room["id"], "body": body}, callback=True)
            for body in ("two", "three")
        ]
        socket.disconnect()
    assert [ack["ok"] for ack in acks] == [True, False]
    assert acks[1]["error"]["code"] == "rate_limited"


def test_a_budget_whose_storage_is_unreachable_lets_the_event_through() -> None:
    """A Redis restart must not refuse sends that the database alone stores."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    budget = EventRateLimiter("1/minute", f"redis://127.0.0.1:{port}/0", True)
    assert budget.retry_after("user:1") is None
    assert budget.retry_after("user:1") is None
