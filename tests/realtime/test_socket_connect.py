"""Connecting: who may, which Socket.IO rooms a socket hears, and how it is cut off
(logout, token revocation, deactivation, a token gone between events)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from PIL import Image
from realtime_support import Connect, emit, error, ok, payloads, refusal, without_presence

from parley.extensions import db
from parley.identity import SESSION_KEY
from parley.models import ApiToken, Message
from support import PASSWORD, Member, bearer, login_token, make_room, send, web_session_id

API = "/api/v1"


# --- who may connect ---------------------------------------------------------------------


def test_a_socket_with_a_valid_token_connects(connect: Connect, alice: Member) -> None:
    assert connect(alice).is_connected()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"auth": {}},
        {"auth": {"token": None}},
        {"auth": {"token": "prly_not-a-real-token"}},
        {"auth": {"token": 12345}},
        {"auth": {"token": "x" * 10_000}},
        {"headers": {"Authorization": "Bearer prly_not-a-real-token"}},
        {"headers": {"Authorization": "Basic YWxpY2U6cHc="}},
    ],
    ids=[
        "nothing",
        "empty-auth",
        "null-token",
        "unknown-token",
        "number-token",
        "huge-token",
        "bad-bearer",
        "basic-auth",
    ],
)
def test_a_socket_without_a_valid_token_is_refused(
    connect: Connect, kwargs: dict[str, Any]
) -> None:
    assert not connect(**kwargs).is_connected()


def test_the_refusal_carries_a_code_and_a_readable_message(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = connect(auth={"token": "prly_wrong"})
    data = refusal(client, monkeypatch, auth={"token": "prly_wrong"})
    # What socket.io clients show as connect_error's err.message and err.data.
    assert set(data) == {"message", "data"}
    assert "token" in data["message"] and not data["message"].startswith("{")
    assert data["data"] == {"code": "unauthorized", "message": data["message"]}


def test_a_refused_socket_sends_no_presence(connect: Connect, alice: Member) -> None:
    watcher = connect(alice)
    watcher.get_received()
    connect(auth={"token": "prly_wrong"})
    assert watcher.get_received() == []


def test_a_socket_connects_with_a_bearer_header(connect: Connect, alice: Member) -> None:
    assert connect(headers=bearer(alice.token)).is_connected()


def test_a_socket_connects_with_the_web_session_cookie(
    app: Flask, connect: Connect, alice: Member
) -> None:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    sock = connect(flask_test_client=browser)
    assert sock.is_connected()
    room = make_room(alice, "general")
    assert ok(emit(sock, "message:send", {"room_id": room["id"], "body": "from the page"}))


def test_a_sockets_session_cookie_is_opened_once_for_all_its_events(
    app: Flask, connect: Connect, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[dict[str, Any]] = []
    original = SecureCookieSessionInterface.open_session

    def counting(
        self: SecureCookieSessionInterface, app: Flask, request: Request
    ) -> SecureCookieSession | None:
        opened.append(request.environ)
        return original(self, app, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    browser = app.test_client()
    with browser.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    opened.clear()
    sock = connect(flask_test_client=browser)
    room = make_room(alice, "general")
    for body in ("one", "two", "three"):
        ok(emit(sock, "message:send", {"room_id": room["id"], "body": body}))
    socket_environs = [environ for environ in opened if "socket.io" in environ["PATH_INFO"]]
    assert len(socket_environs) == 1


def test_a_socket_connects_with_the_cookie_the_session_login_set(
    app: Flask, connect: Connect, alice: Member
) -> None:
    browser = app.test_client()
    response = browser.post(f"{API}/auth/session", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    sock = connect(flask_test_client=browser)
    assert sock.is_connected()
    room = make_room(alice, "general")
    assert ok(emit(sock, "message:send", {"room_id": room["id"], "body": "from the page"}))


def test_a_token_in_auth_is_the_only_one_tried(app: Flask, connect: Connect, alice: Member) -> None:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    wrong = {"token": "prly_wrong"}
    assert not connect(auth=wrong, headers=bearer(alice.token)).is_connected()
    assert not connect(auth=wrong, flask_test_client=browser).is_connected()
    assert not connect(headers=bearer("prly_wrong"), flask_test_client=browser).is_connected()


def test_a_header_of_another_scheme_falls_back_to_the_session_cookie(
    app: Flask, connect: Connect, alice: Member
) -> None:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    basic = {"Authorization": "Basic YWxpY2U6cHc="}
    assert connect(headers=basic, flask_test_client=browser).is_connected()


def test_a_session_cookie_without_a_live_token_is_refused(app: Flask, connect: Connect) -> None:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session[SESSION_KEY] = "expired-session-id"
    assert not connect(flask_test_client=browser).is_connected()


def test_a_deactivated_users_token_is_refused(
    connect: Connect, make_user: Callable[..., Member], bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    token = login_token(bob.client, "bob")
    assert root.patch(f"{API}/users/{bob.id}", json={"active": False}).status_code == 200
    assert not connect(auth={"token": token}).is_connected()
    assert not connect(bob).is_connected()


# --- the rooms a socket hears ------------------------------------------------------------


def test_on_connect_a_socket_hears_its_rooms_and_its_user_channel(
    connect: Connect, alice: Member, bob: Member
) -> None:
    public = make_room(alice, "general")
    private = make_room(alice, "secret", kind="private")
    make_room(bob, "bobs-own")
    sock = connect(alice)
    sock.get_received()
    send(alice, public["id"], "one")
    send(alice, private["id"], "two")
    alice.patch(f"{API}/users/me", json={"display_name": "Alice A."})
    received = without_presence(sock.get_received())
    assert [m["message"]["body"] for m in payloads(received, "message:new")] == ["one", "two"]
    (update,) = payloads(received, "user:update")
    assert update["user"]["display_name"] == "Alice A."


def test_a_socket_does_not_hear_a_room_its_user_is_banned_from(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room = make_room(alice, "general")
    assert bob.post(f"{API}/rooms/{room['id']}/join").status_code == 201
    assert alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban").status_code == 200
    sock = connect(bob)
    sock.get_received()
    send(alice, room["id"], "bob is gone")
    assert without_presence(sock.get_received()) == []


def test_connecting_announces_the_user_online_to_everyone_and_sends_nothing_else(
    connect: Connect, alice: Member, bob: Member
) -> None:
    make_room(bob, "general")
    watcher = connect(alice)
    watcher.get_received()
    sock = connect(bob)
    online = {
        "name": "presence",
        "args": [{"user_id": bob.id, "status": "online"}],
        "namespace": "/",
    }
    assert watcher.get_received() == [online]
    assert sock.get_received() == [online]
    connect(bob)
    assert watcher.get_received() == []


# --- being cut off -----------------------------------------------------------------------


def test_logout_disconnects_only_the_sockets_of_that_token(
    connect: Connect, alice: Member, bob: Member
) -> None:
    second = login_token(bob.client, "bob", PASSWORD)
    first_a, first_b = connect(bob), connect(bob)
    other = connect(auth={"token": second})
    bystander = connect(alice)
    assert bob.post(f"{API}/auth/logout").status_code == 204
    assert not first_a.is_connected() and not first_b.is_connected()
    assert other.is_connected() and bystander.is_connected()
    assert ok(emit(other, "sync", {}))


def test_ending_the_web_session_disconnects_its_sockets(
    app: Flask, connect: Connect, alice: Member
) -> None:
    browser = app.test_client()
    response = browser.post(f"{API}/auth/session", json={"username": "alice", "password": PASSWORD})
    csrf = response.get_json()["csrf_token"]
    page, other = connect(flask_test_client=browser), connect(alice)
    assert page.is_connected()
    assert browser.delete(f"{API}/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert not page.is_connected()
    assert other.is_connected()


def test_revoking_a_token_disconnects_its_sockets(connect: Connect, alice: Member) -> None:
    made = alice.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()
    bot = connect(auth={"token": made["token"]})
    web = connect(alice)
    tokens = alice.get(f"{API}/auth/tokens").get_json()
    bot_id = next(t["id"] for t in tokens["tokens"] if t["name"] == "bot")
    assert alice.delete(f"{API}/auth/tokens/{bot_id}").status_code == 204
    assert not bot.is_connected()
    assert web.is_connected()
    assert not connect(auth={"token": made["token"]}).is_connected()


def test_deactivation_disconnects_every_socket_of_the_user(
    connect: Connect, make_user: Callable[..., Member], alice: Member, bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    second = login_token(bob.client, "bob")
    tabs = [connect(bob), connect(bob), connect(auth={"token": second})]
    bystander = connect(alice)
    assert root.patch(f"{API}/users/{bob.id}", json={"active": False}).status_code == 200
    assert [tab.is_connected() for tab in tabs] == [False, False, False]
    assert bystander.is_connected()


def test_an_event_on_a_socket_whose_token_is_gone_is_refused(
    app: Flask, connect: Connect, alice: Member
) -> None:
    room = make_room(alice, "general")
    sock = connect(alice)
    # Revoked where this process did not hear of it (another server process).
    with app.app_context():
        db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == alice.id))
        db.session.commit()
    for name, data in [
        ("message:send", {"room_id": room["id"], "body": "still here?"}),
        ("sync", {}),
        ("typing", {"room_id": room["id"]}),
    ]:
        error(emit(sock, name, data), "invalid_token")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_a_profile_change_reaches_everyone_connected(
    connect: Connect, alice: Member, bob: Member
) -> None:
    # bob shares no room with alice, and still sees her new name wherever it shows.
    mine, other_tab, theirs = connect(alice), connect(alice), connect(bob)
    for sock in (mine, other_tab, theirs):
        sock.get_received()
    alice.patch(f"{API}/users/me", json={"display_name": "Al"})
    for sock in (mine, other_tab, theirs):
        (update,) = payloads(without_presence(sock.get_received()), "user:update")
        assert update == {"user": {**public_user(alice), "display_name": "Al"}}


def test_a_password_change_alone_tells_no_one_else(
    connect: Connect, alice: Member, bob: Member
) -> None:
    theirs = connect(bob)
    theirs.get_received()
    response = alice.patch(
        f"{API}/users/me", json={"password": "a brand new passphrase", "old_password": PASSWORD}
    )
    assert response.status_code == 200
    assert without_presence(theirs.get_received()) == []


def test_a_new_picture_reaches_everyone_connected(
    connect: Connect, alice: Member, bob: Member
) -> None:
    theirs = connect(bob)
    theirs.get_received()
    response = alice.request(
        "PUT", f"{API}/users/me/avatar", data=png(), headers={"Content-Type": "image/png"}
    )
    url = response.get_json()["avatar_url"]
    (update,) = payloads(without_presence(theirs.get_received()), "user:update")
    assert update["user"]["id"] == alice.id and update["user"]["avatar_url"] == url
    alice.delete(f"{API}/users/me/avatar")
    (update,) = payloads(without_presence(theirs.get_received()), "user:update")
    assert update["user"]["avatar_url"] is None


def test_a_role_change_is_told_only_to_that_users_sockets(
    connect: Connect, make_user: Callable[..., Member], alice: Member, bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    theirs = connect(bob)
    theirs.get_received()
    assert root.patch(f"{API}/users/{alice.id}", json={"role": "Moderator"}).status_code == 200
    assert without_presence(theirs.get_received()) == []


def public_user(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "username": member.username,
        "display_name": member.username,
        "avatar_url": None,
    }


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 128, 255)).save(out, "PNG")
    return out.getvalue()


def test_a_password_change_disconnects_the_other_logins_but_not_api_tokens(
    connect: Connect, alice: Member
) -> None:
    other_login = login_token(alice.client, "alice")
    bot = alice.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()["token"]
    this_session, other_session, bot_sock = (
        connect(alice),
        connect(auth={"token": other_login}),
        connect(auth={"token": bot}),
    )
    response = alice.patch(
        f"{API}/users/me", json={"password": "a brand new passphrase", "old_password": PASSWORD}
    )
    assert response.status_code == 200
    assert not other_session.is_connected()
    assert this_session.is_connected() and bot_sock.is_connected()


def test_a_role_change_is_told_to_that_users_sockets(
    connect: Connect, make_user: Callable[..., Member], alice: Member
) -> None:
    root = make_user("root", role="Administrator")
    sock = connect(alice)
    sock.get_received()
    assert root.patch(f"{API}/users/{alice.id}", json={"role": "Moderator"}).status_code == 200
    (update,) = payloads(sock.get_received(), "user:update")
    assert update["role"] == "Moderator" and update["user"]["id"] == alice.id


def test_deactivation_is_told_to_the_users_sockets_before_they_are_cut(
    connect: Connect, make_user: Callable[..., Member], bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    sock = connect(bob)
    sock.get_received()
    root.patch(f"{API}/users/{bob.id}", json={"active": False})
    assert [item for item in sock.queue if item["name"] == "user:deactivated"] == [
        {"name": "user:deactivated", "args": [{"user_id": bob.id}], "namespace": "/"}
    ]
