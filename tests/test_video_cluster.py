"""Live video as two processes on one Redis see it, on a test client: each "process" is
a registry of broadcasts with a relay of its own, put in the app for its requests (the
real two-process tests are in tests/e2e/test_video_across_processes.py)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from databases import unavailable
from parley.actions import video
from parley.errors import ApiError
from parley.video.broadcasts import Broadcasts
from parley.video.relay import FrameRelay
from support import Member, assert_error, jpeg

API = "/api/v1"
LIVE = {"width": 640, "height": 480, "fps": 15}
REDIS_URL = "redis://127.0.0.1:6379/15"


class Process:
    """One server process's live broadcasts, linked to the others through Redis."""

    def __init__(self, app: Flask, prefix: str) -> None:
        self.app = app
        self.registry = Broadcasts(FrameRelay(REDIS_URL, prefix, ttl_seconds=2.0))

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        kept = self.app.extensions["parley.video"]
        self.app.extensions["parley.video"] = self.registry
        try:
            yield
        finally:
            self.app.extensions["parley.video"] = kept

    def end(self) -> None:
        with self.serving(), self.app.app_context():
            video.end_all_broadcasts()
        assert self.registry.relay is not None
        self.registry.relay.close()


@pytest.fixture
def two(app: Flask, broadcasts: Broadcasts) -> Iterator[tuple[Process, Process]]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(f"No Redis answers at {REDIS_URL}; start one to test video across processes")
    prefix = f"parley-test:{uuid.uuid4().hex[:12]}"
    a, b = Process(app, prefix), Process(app, prefix)
    yield a, b
    a.end()
    b.end()
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def push(app: Flask, member_id: int, room_id: int, frame: bytes) -> int:
    from parley.extensions import db
    from parley.models import User

    with app.test_request_context():
        actor = db.session.get(User, member_id)
        assert actor is not None
        return video.push_frame(actor, room_id, frame)


def test_a_broadcast_on_one_process_shows_live_and_holds_its_room_on_another(
    two: tuple[Process, Process], alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    a, b = two
    with a.serving():
        live = alice.post(f"{API}/rooms/{room['id']}/live", json=LIVE).get_json()
    with b.serving():
        assert bob.get(f"{API}/rooms/{room['id']}").get_json()["live"] == live
        assert bob.get(f"{API}/rooms/{room['id']}/live").get_json() == live
        mine = bob.get(f"{API}/rooms").get_json()["rooms"]
        assert next(r for r in mine if r["id"] == room["id"])["live"] == live
        refused = bob.post(f"{API}/rooms/{room['id']}/live", json=LIVE)
        body = assert_error(refused, 409, "already_live")
        assert body["details"]["broadcaster"] == live["broadcaster"]
    with a.serving():
        assert alice.delete(f"{API}/rooms/{room['id']}/live").status_code == 204
    with b.serving():
        assert bob.get(f"{API}/rooms/{room['id']}").get_json()["live"] is None
        assert bob.post(f"{API}/rooms/{room['id']}/live", json=LIVE).status_code == 201


def test_live_jpg_on_another_process_is_the_origins_latest_frame(
    app: Flask, two: tuple[Process, Process], alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    a, b = two
    frames = [jpeg(color=color) for color in ("red", "green", "blue")]
    with a.serving():
        assert alice.post(f"{API}/rooms/{room['id']}/live", json=LIVE).status_code == 201
        for frame in frames:
            seq = push(app, alice.id, room["id"], frame)
    with b.serving():
        deadline = time.monotonic() + 5
        while True:
            response = bob.get(f"/rooms/{room['id']}/live.jpg")
            if response.status_code == 200 and response.data == frames[-1]:
                break
            assert time.monotonic() < deadline, (response.status_code, response.headers)
            time.sleep(0.02)
        assert response.headers["X-Frame-Seq"] == str(seq)


def test_a_broadcast_stopped_through_another_process_ends_on_its_origin(
    app: Flask, two: tuple[Process, Process], alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    a, b = two
    with a.serving():
        assert alice.post(f"{API}/rooms/{room['id']}/live", json=LIVE).status_code == 201
    with b.serving():
        # alice owns the room: she may stop it from anywhere.
        assert alice.delete(f"{API}/rooms/{room['id']}/live").status_code == 204
        assert_error(bob.get(f"{API}/rooms/{room['id']}/live"), 404, "not_live")
    with a.serving():
        # Its next renewal finds the record gone: the broadcaster's frames are refused.
        deadline = time.monotonic() + 5
        while a.registry.get(room["id"]) is not None:
            assert time.monotonic() < deadline, "the origin kept the broadcast"
            time.sleep(0.05)
        with pytest.raises(ApiError) as refused:
            push(app, alice.id, room["id"], jpeg())
        assert refused.value.code == "not_live"
