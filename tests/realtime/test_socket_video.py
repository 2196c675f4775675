"""Live video over Socket.IO: going live, frames as binary events, stopping, watching."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from realtime_support import Connect, emit, error, ok, payloads

from parley.ratelimits import EventRateLimiter
from support import Member, jpeg

API = "/api/v1"
LIVE = {"width": 640, "height": 480, "fps": 15}

pytestmark = pytest.mark.usefixtures("broadcasts")


def frame(client: SocketIOTestClient, room_id: int, data: object) -> dict[str, Any]:
    ack: dict[str, Any] = client.emit("video:frame", {"room_id": room_id}, data, callback=True)
    return ack


def test_going_live_acks_the_broadcast_and_tells_the_room(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    theirs.get_received()
    ack = ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    assert ack["live"]["broadcaster"]["id"] == alice.id and ack["live"]["viewers"] == 0
    started = payloads(theirs.get_received(), "video:start")
    assert started == [{"room_id": room["id"], "broadcaster": ack["live"]["broadcaster"], **LIVE}]
    synced = ok(emit(theirs, "sync", {}))
    assert next(r for r in synced["rooms"] if r["id"] == room["id"])["live"] == ack["live"]


def test_frames_are_acked_with_their_number_and_not_sent_to_the_room(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    theirs.get_received()
    assert ok(frame(mine, room["id"], jpeg(640, 480)))["seq"] == 1
    assert ok(frame(mine, room["id"], jpeg(640, 480)))["seq"] == 2
    assert payloads(theirs.get_received(), "video:frame") == []
    latest = bob.get(f"/rooms/{room['id']}/live.jpg")
    assert latest.status_code == 200 and latest.headers["X-Frame-Seq"] == "2"


def test_bad_frames_are_refused_and_change_nothing(
    connect: Connect,
    alice: Member,
    bob: Member,
    room: dict[str, Any],
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine, theirs = connect(alice), connect(bob)
    error(frame(mine, room["id"], jpeg()), "not_live")
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    error(frame(theirs, room["id"], jpeg()), "not_the_broadcaster")
    error(frame(mine, room["id"], b"not a jpeg at all"), "invalid_frame")
    error(mine.emit("video:frame", {"room_id": room["id"]}, callback=True), "invalid_frame")
    error(frame(mine, room["id"], jpeg(1920, 1200)), "invalid_frame")
    monkeypatch.setitem(app.config, "PARLEY_VIDEO_MAX_FRAME_BYTES", 1000)
    error(frame(mine, room["id"], jpeg(640, 480, quality=95) + b""), "frame_too_large")
    error(frame(mine, room["id"], "text"), "invalid_frame")
    error(mine.emit("video:frame", "x", jpeg(), callback=True), "invalid_payload")
    assert bob.get(f"/rooms/{room['id']}/live.jpg").get_json()["error"]["code"] == "no_frame_yet"


def test_frames_have_their_own_cap_and_do_not_use_the_event_budget(
    connect: Connect,
    alice: Member,
    room: dict[str, Any],
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        app.extensions, "parley.event_limiter", EventRateLimiter("2/minute", "memory://", True)
    )
    monkeypatch.setitem(app.config, "PARLEY_VIDEO_MAX_FPS", 5)
    mine = connect(alice)
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    picture = jpeg()
    for _ in range(5):
        ok(frame(mine, room["id"], picture))
    found = error(frame(mine, room["id"], picture), "rate_limited")
    assert 0 < found["details"]["retry_after"] <= 1
    ok(emit(mine, "typing", {"room_id": room["id"]}))


def test_only_one_broadcast_per_room(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    found = error(emit(theirs, "video:start", {"room_id": room["id"], **LIVE}), "already_live")
    assert found["details"]["broadcaster"]["id"] == alice.id
    error(emit(theirs, "video:start", {"room_id": room["id"], "width": 5}), "validation_error")


def test_stopping_ends_the_broadcast_for_everyone(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    error(emit(theirs, "video:stop", {"room_id": room["id"]}), "not_the_broadcaster")
    theirs.get_received()
    assert ok(emit(mine, "video:stop", {"room_id": room["id"]})) == {"ok": True}
    assert payloads(theirs.get_received(), "video:stop") == [
        {"room_id": room["id"], "reason": "stopped"}
    ]
    error(emit(mine, "video:stop", {"room_id": room["id"]}), "not_live")
    error(frame(mine, room["id"], jpeg()), "not_live")


def test_a_banned_broadcaster_is_cut_off_at_once(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    ok(emit(theirs, "video:start", {"room_id": room["id"], **LIVE}))
    ok(frame(theirs, room["id"], jpeg()))
    mine.get_received()
    assert alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban").status_code == 200
    assert payloads(mine.get_received(), "video:stop") == [
        {"room_id": room["id"], "reason": "not_allowed"}
    ]
    error(frame(theirs, room["id"], jpeg()), "banned")


def test_a_muted_broadcaster_is_cut_off_at_the_next_recheck(
    connect: Connect,
    alice: Member,
    bob: Member,
    room: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("parley.actions.video.RECHECK_SECONDS", 0)
    mine, theirs = connect(alice), connect(bob)
    ok(emit(theirs, "video:start", {"room_id": room["id"], **LIVE}))
    ok(frame(theirs, room["id"], jpeg()))
    mute = {"minutes": 5}
    assert (
        alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json=mute).status_code == 200
    )
    mine.get_received()
    error(frame(theirs, room["id"], jpeg()), "muted")
    assert payloads(mine.get_received(), "video:stop") == [
        {"room_id": room["id"], "reason": "not_allowed"}
    ]


def test_watchers_are_counted_in_and_out(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    mine.get_received()
    assert ok(emit(theirs, "video:watch", {"room_id": room["id"]}))["live"]["viewers"] == 1
    ok(emit(theirs, "video:watch", {"room_id": room["id"]}))  # watching twice counts once
    assert bob.get(f"{API}/rooms/{room['id']}/live").get_json()["viewers"] == 1
    ok(emit(theirs, "video:unwatch", {"room_id": room["id"]}))
    ok(emit(theirs, "video:watch", {"room_id": room["id"]}))
    theirs.disconnect()
    assert bob.get(f"{API}/rooms/{room['id']}/live").get_json()["viewers"] == 0
    counts = [p["count"] for p in payloads(mine.get_received(), "video:viewers")]
    assert counts == [1, 0, 1, 0]


def test_watching_needs_a_live_room_you_may_read(
    connect: Connect,
    alice: Member,
    bob: Member,
    make_user: Callable[..., Member],
    room: dict[str, Any],
) -> None:
    carol = make_user("carol")
    secret = alice.post(f"{API}/rooms", json={"name": "secret", "kind": "private"}).get_json()
    mine, hers = connect(alice), connect(carol)
    error(emit(hers, "video:watch", {"room_id": room["id"]}), "not_live")
    ok(emit(mine, "video:start", {"room_id": secret["id"], **LIVE}))
    error(emit(hers, "video:watch", {"room_id": secret["id"]}), "not_found")


def test_a_broadcast_ends_when_the_socket_that_went_live_disconnects(
    connect: Connect, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    mine, theirs = connect(alice), connect(bob)
    ok(emit(mine, "video:start", {"room_id": room["id"], **LIVE}))
    theirs.get_received()
    mine.disconnect()
    assert payloads(theirs.get_received(), "video:stop") == [
        {"room_id": room["id"], "reason": "disconnected"}
    ]
    assert bob.get(f"{API}/rooms/{room['id']}").get_json()["live"] is None
