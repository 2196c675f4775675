"""Live video ends with the right to watch it, on a test client: an MJPEG stream ends at
the change that takes the right away, and a change this process never heard of (made in
the database by another process) ends it at the next periodic check."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, update

from parley.extensions import db
from parley.models import ApiToken, Membership
from parley.video import views
from support import PASSWORD, Member, bearer, jpeg, login_token, make_room, set_role
from test_video import go_live, push

API = "/api/v1"
LIVE = {"width": 640, "height": 480, "fps": 15}

pytestmark = pytest.mark.usefixtures("broadcasts")


def stream(member: Member, room_id: int, token: str | None = None) -> tuple[Any, Iterator[bytes]]:
    headers = bearer(token) if token else member.headers
    response = member.client.get(f"/rooms/{room_id}/live.mjpg", headers=headers, buffered=False)
    assert response.status_code == 200, response.get_json()
    return response, (chunk for chunk in response.iter_encoded() if chunk)


def frame_part(chunk: bytes) -> bool:
    return b"Content-Type: image/jpeg" in chunk


def closing(chunk: bytes) -> bool:
    return chunk.endswith(b"--\r\n") and not frame_part(chunk)


def change(path: str, app: Flask, alice: Member, bob: Member, room_id: int, token: str) -> None:
    if path == "removed":
        assert alice.delete(f"{API}/rooms/{room_id}/members/{bob.id}").status_code == 204
    elif path == "banned":
        assert alice.post(f"{API}/rooms/{room_id}/members/{bob.id}/ban").status_code == 200
    elif path == "left":
        assert bob.post(f"{API}/rooms/{room_id}/leave").status_code == 204
    elif path == "deactivated":
        set_role(app, alice.id, "Administrator")
        body: dict[str, object] = {"active": False}
        assert alice.patch(f"{API}/users/{bob.id}", json=body).status_code == 200
    elif path == "token_revoked":
        assert bob.client.post(f"{API}/auth/logout", headers=bearer(token)).status_code == 204
    elif path == "password_changed":
        body = {"password": "another long passphrase 93", "old_password": PASSWORD}
        assert bob.patch(f"{API}/users/me", json=body).status_code == 200
    else:
        raise AssertionError(path)


@pytest.mark.parametrize(
    "path", ["removed", "banned", "left", "deactivated", "token_revoked", "password_changed"]
)
def test_the_stream_ends_at_the_change_and_sends_no_later_frame(
    app: Flask, alice: Member, bob: Member, path: str
) -> None:
    private = make_room(alice, "backroom", kind="private")
    assert (
        alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": bob.id}).status_code
        == 201
    )
    assert go_live(alice, private["id"]).status_code == 201
    push(app, alice.id, private["id"], jpeg(640, 480))
    watching = login_token(bob.client, bob.username)
    response, parts = stream(bob, private["id"], watching)
    try:
        assert frame_part(next(parts))
        change(path, app, alice, bob, private["id"], watching)
        push(app, alice.id, private["id"], jpeg(640, 480))
        assert closing(next(parts))
        with pytest.raises(StopIteration):
            next(parts)
    finally:
        response.close()
    assert alice.get(f"{API}/rooms/{private['id']}/live").get_json()["viewers"] == 0


def test_leaving_a_public_room_keeps_the_stream(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    assert go_live(alice, room["id"]).status_code == 201
    push(app, alice.id, room["id"], jpeg(640, 480))
    response, parts = stream(bob, room["id"])
    try:
        assert frame_part(next(parts))
        assert bob.post(f"{API}/rooms/{room['id']}/leave").status_code == 204
        push(app, alice.id, room["id"], jpeg(640, 480))
        assert frame_part(next(parts))  # a public room is still readable
    finally:
        response.close()


def unheard(app: Flask, statement: Any) -> None:
    """A change written straight to the database, as another process would: this one
    publishes no event for it."""
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def ends_within(parts: Iterator[bytes], seconds: float) -> float:
    started = time.monotonic()
    for chunk in parts:
        if closing(chunk):
            break
    return time.monotonic() - started


@pytest.mark.parametrize("what", ["banned", "token_revoked"])
def test_a_change_this_process_never_heard_of_ends_the_stream_within_seconds(
    app: Flask, alice: Member, bob: Member, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "RECHECK_SECONDS", 0.2)
    private = make_room(alice, "backroom", kind="private")
    assert (
        alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": bob.id}).status_code
        == 201
    )
    assert go_live(alice, private["id"]).status_code == 201
    push(app, alice.id, private["id"], jpeg(640, 480))
    response, parts = stream(bob, private["id"])
    try:
        assert frame_part(next(parts))
        if what == "banned":
            unheard(
                app,
                update(Membership)
                .where(Membership.room_id == private["id"], Membership.user_id == bob.id)
                .values(banned=True),
            )
        else:
            unheard(app, delete(ApiToken).where(ApiToken.user_id == bob.id))
        assert ends_within(parts, 5.0) < 3.0
    finally:
        response.close()


def test_a_broadcaster_banned_by_another_process_stops_broadcasting(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "RECHECK_SECONDS", 0.2)
    assert go_live(bob, room["id"]).status_code == 201
    unheard(
        app,
        update(Membership)
        .where(Membership.room_id == room["id"], Membership.user_id == bob.id)
        .values(banned=True),
    )
    deadline = time.monotonic() + 3.0
    while alice.get(f"{API}/rooms/{room['id']}/live").status_code == 200:
        assert time.monotonic() < deadline, "the broadcast went on"
        time.sleep(0.05)
    assert alice.get(f"{API}/rooms/{room['id']}/live").get_json()["error"]["code"] == "not_live"


def test_revoking_the_token_a_broadcast_was_started_with_ends_it_at_once(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    caster = login_token(bob.client, bob.username)
    live = bob.client.post(f"{API}/rooms/{room['id']}/live", json=LIVE, headers=bearer(caster))
    assert live.status_code == 201
    assert bob.client.post(f"{API}/auth/logout", headers=bearer(caster)).status_code == 204
    assert alice.get(f"{API}/rooms/{room['id']}/live").get_json()["error"]["code"] == "not_live"


def test_ending_the_web_session_ends_its_stream_at_once(
    app: Flask, alice: Member, bob: Member
) -> None:
    private = make_room(alice, "backroom", kind="private")
    invited = alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": bob.id})
    assert invited.status_code == 201
    assert go_live(alice, private["id"]).status_code == 201
    push(app, alice.id, private["id"], jpeg(640, 480))
    web = app.test_client()
    login = web.post(f"{API}/auth/session", json={"username": bob.username, "password": PASSWORD})
    assert login.status_code == 200, login.get_json()
    response = web.get(f"/rooms/{private['id']}/live.mjpg", buffered=False)
    assert response.status_code == 200
    parts = (chunk for chunk in response.iter_encoded() if chunk)
    try:
        assert frame_part(next(parts))
        csrf = {"X-CSRF-Token": login.get_json()["csrf_token"]}
        assert web.delete(f"{API}/auth/session", headers=csrf).status_code == 204
        push(app, alice.id, private["id"], jpeg(640, 480))
        assert closing(next(parts))
    finally:
        response.close()
