"""Live video over REST and HTTP: going live, who may, the live state, live.jpg and the
MJPEG stream, on a test client (the real-server tests are in tests/e2e/)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from parley.actions import video
from parley.events import Event
from support import Member, assert_error, jpeg, make_room

API = "/api/v1"
LIVE = {"width": 640, "height": 480, "fps": 15}

pytestmark = pytest.mark.usefixtures("broadcasts")


def go_live(member: Member, room_id: int, **body: Any) -> TestResponse:
    return member.post(f"{API}/rooms/{room_id}/live", json={**LIVE, **body})


def push(app: Flask, member_id: int, room_id: int, frame: object) -> int:
    from parley.extensions import db
    from parley.models import User

    with app.test_request_context():
        return video.push_frame(db.session.get_one(User, member_id), room_id, frame)


def test_a_member_goes_live_and_the_room_shows_it(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    response = go_live(alice, room["id"])
    assert response.status_code == 201
    live = response.get_json()
    assert live["room_id"] == room["id"] and live["viewers"] == 0
    assert live["broadcaster"] == {
        "id": alice.id,
        "username": "alice",
        "display_name": "alice",
        "avatar_url": None,
    }
    assert (live["width"], live["height"], live["fps"]) == (640, 480, 15)
    assert bob.get(f"{API}/rooms/{room['id']}").get_json()["live"] == live
    assert bob.get(f"{API}/rooms/{room['id']}/live").get_json() == live
    mine = next(r for r in bob.get(f"{API}/rooms").get_json()["rooms"] if r["id"] == room["id"])
    assert mine["live"] == live
    started = [e for e in events if e.type == "video:start"]
    assert [(e.room_id, e.payload) for e in started] == [
        (
            room["id"],
            {
                "room_id": room["id"],
                "broadcaster": live["broadcaster"],
                "width": 640,
                "height": 480,
                "fps": 15,
            },
        )
    ]


def test_a_room_not_live_says_so(alice: Member, room: dict[str, Any]) -> None:
    assert alice.get(f"{API}/rooms/{room['id']}").get_json()["live"] is None
    assert_error(alice.get(f"{API}/rooms/{room['id']}/live"), 404, "not_live")
    assert_error(alice.get(f"/rooms/{room['id']}/live.jpg"), 404, "not_live")
    assert_error(alice.get(f"/rooms/{room['id']}/live.mjpg"), 404, "not_live")
    assert_error(alice.delete(f"{API}/rooms/{room['id']}/live"), 404, "not_live")


def test_a_second_broadcast_in_the_room_is_refused(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    assert go_live(alice, room["id"]).status_code == 201
    found = assert_error(go_live(bob, room["id"]), 409, "already_live")
    assert found["details"]["broadcaster"]["id"] == alice.id


@pytest.mark.parametrize(
    "body",
    [{"width": 0}, {"width": 4000}, {"height": 2000}, {"fps": 0}, {"fps": 61}, {"extra": 1}],
)
def test_bad_broadcast_settings_are_refused(
    alice: Member, room: dict[str, Any], body: dict[str, Any]
) -> None:
    assert_error(go_live(alice, room["id"], **body), 422, "validation_error")
    assert alice.get(f"{API}/rooms/{room['id']}").get_json()["live"] is None


def test_only_members_who_may_post_go_live(
    alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    assert_error(go_live(carol, room["id"]), 403, "not_a_member")
    assert alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 5})
    assert_error(go_live(bob, room["id"]), 403, "muted")
    secret = make_room(alice, "secret", kind="private")
    assert_error(go_live(carol, secret["id"]), 404, "not_found")


def test_the_broadcaster_or_a_moderator_stops_it_and_no_one_else(
    alice: Member,
    bob: Member,
    make_user: Callable[..., Member],
    room: dict[str, Any],
    events: list[Event],
) -> None:
    carol = make_user("carol")
    assert carol.post(f"{API}/rooms/{room['id']}/join").status_code == 201
    assert go_live(bob, room["id"]).status_code == 201
    assert_error(carol.delete(f"{API}/rooms/{room['id']}/live"), 403, "not_the_broadcaster")
    assert alice.delete(f"{API}/rooms/{room['id']}/live").status_code == 204
    stops = [e.payload for e in events if e.type == "video:stop"]
    assert stops == [{"room_id": room["id"], "reason": "stopped_by_moderator"}]
    assert go_live(carol, room["id"]).status_code == 201
    assert carol.delete(f"{API}/rooms/{room['id']}/live").status_code == 204
    assert [e.payload["reason"] for e in events if e.type == "video:stop"][-1] == "stopped"


def test_live_jpg_serves_the_latest_frame_to_readers_only(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    assert go_live(alice, room["id"]).status_code == 201
    assert_error(bob.get(f"/rooms/{room['id']}/live.jpg"), 404, "no_frame_yet")
    push(app, alice.id, room["id"], jpeg(640, 480, "red"))
    push(app, alice.id, room["id"], jpeg(640, 480, "blue"))
    response = bob.get(f"/rooms/{room['id']}/live.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Seq"] == "2"
    image = Image.open(io.BytesIO(response.data))
    pixel = image.getpixel((10, 10))
    assert isinstance(pixel, tuple)
    assert image.size == (640, 480) and pixel[2] > 200  # blue
    # Public rooms are readable by every account, so carol may watch; a ban shuts her out.
    assert carol.get(f"/rooms/{room['id']}/live.jpg").status_code == 200
    assert carol.post(f"{API}/rooms/{room['id']}/join").status_code == 201
    assert alice.post(f"{API}/rooms/{room['id']}/members/{carol.id}/ban").status_code == 200
    assert_error(carol.get(f"/rooms/{room['id']}/live.jpg"), 403, "banned")


def test_outsiders_of_a_private_room_get_no_frame(
    app: Flask, alice: Member, make_user: Callable[..., Member], client: FlaskClient
) -> None:
    carol = make_user("carol")
    secret = make_room(alice, "secret", kind="private")
    assert go_live(alice, secret["id"]).status_code == 201
    push(app, alice.id, secret["id"], jpeg())
    for path in ("live.jpg", "live.mjpg"):
        assert_error(carol.get(f"/rooms/{secret['id']}/{path}"), 404, "not_found")
        assert_error(client.get(f"/rooms/{secret['id']}/{path}"), 401, "unauthorized")
    assert_error(carol.get(f"{API}/rooms/{secret['id']}/live"), 404, "not_found")


def test_the_mjpeg_stream_sends_each_new_frame_and_ends_when_the_broadcast_stops(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    assert go_live(alice, room["id"]).status_code == 201
    push(app, alice.id, room["id"], jpeg(640, 480, "green"))
    response = bob.get(f"/rooms/{room['id']}/live.mjpg", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "multipart/x-mixed-replace"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"
    boundary = response.mimetype_params["boundary"]
    parts = (chunk for chunk in response.iter_encoded() if chunk)  # b"" sends the headers early
    first = next(parts)
    head, _, rest = first.partition(b"\r\n\r\n")
    assert head.startswith(f"--{boundary}\r\n".encode())
    fields = [line.split(": ") for line in head.decode().split("\r\n")[1:]]
    length = int({name: value for name, value in fields}["Content-Length"])
    assert Image.open(io.BytesIO(rest[:length])).size == (640, 480)
    assert rest[length:] == b"\r\n"
    assert bob.get(f"{API}/rooms/{room['id']}/live").get_json()["viewers"] == 1

    push(app, alice.id, room["id"], jpeg(640, 480, "yellow"))
    assert b"X-Frame-Seq: 2" in next(parts)
    assert alice.delete(f"{API}/rooms/{room['id']}/live").status_code == 204
    assert next(parts) == f"--{boundary}--\r\n".encode()
    with pytest.raises(StopIteration):
        next(parts)
    response.close()
    counts = [e.payload["count"] for e in events if e.type == "video:viewers"]
    assert counts == [1]


def test_a_viewer_who_leaves_is_counted_out_at_once(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    assert go_live(alice, room["id"]).status_code == 201
    push(app, alice.id, room["id"], jpeg())
    response = bob.get(f"/rooms/{room['id']}/live.mjpg", buffered=False)
    next(iter(response.response))
    assert alice.get(f"{API}/rooms/{room['id']}/live").get_json()["viewers"] == 1
    response.close()
    assert alice.get(f"{API}/rooms/{room['id']}/live").get_json()["viewers"] == 0
    assert [e.payload["count"] for e in events if e.type == "video:viewers"] == [1, 0]


def test_a_broadcast_without_frames_ends_by_itself(
    app: Flask,
    alice: Member,
    room: dict[str, Any],
    events: list[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "PARLEY_VIDEO_IDLE_SECONDS", 0.3)
    assert go_live(alice, room["id"]).status_code == 201
    deadline = time.monotonic() + 5
    while alice.get(f"{API}/rooms/{room['id']}").get_json()["live"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alice.get(f"{API}/rooms/{room['id']}").get_json()["live"] is None
    assert [e.payload for e in events if e.type == "video:stop"] == [
        {"room_id": room["id"], "reason": "idle"}
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/rooms/{id}/live.jpg"),
        ("GET", "/rooms/{id}/live.mjpg"),
        ("GET", f"{API}/rooms/{{id}}/live"),
        ("POST", f"{API}/rooms/{{id}}/live"),
        ("DELETE", f"{API}/rooms/{{id}}/live"),
    ],
)
def test_an_outsider_hears_of_a_live_private_room_what_a_missing_room_answers(
    app: Flask, alice: Member, make_user: Callable[..., Member], method: str, path: str
) -> None:
    carol = make_user("carol")
    secret = make_room(alice, "secret", kind="private")
    assert go_live(alice, secret["id"]).status_code == 201
    push(app, alice.id, secret["id"], jpeg())
    missing = secret["id"] + 1000
    body = LIVE if method == "POST" else None
    there = carol.request(method, path.format(id=secret["id"]), json=body)
    nowhere = carol.request(method, path.format(id=missing), json=body)
    assert there.status_code == nowhere.status_code == 404
    assert there.get_json()["error"]["details"] == {"room_id": secret["id"]}
    assert nowhere.get_json()["error"]["details"] == {"room_id": missing}
    same = {"details": None}
    assert {**there.get_json()["error"], **same} == {**nowhere.get_json()["error"], **same}
