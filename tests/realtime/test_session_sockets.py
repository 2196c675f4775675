"""Sockets opened with the web session cookie: revoking the session drops them at once,
and an administrator who must still enrol in two-factor authentication gets none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from realtime_support import Connect, emit, ok

from support import PASSWORD, Member, make_room

API = "/api/v1"
SESSIONS = f"{API}/auth/sessions"


def web_login(app: Flask, username: str, agent: str) -> tuple[FlaskClient, str]:
    browser = app.test_client()
    response = browser.post(
        f"{API}/auth/session",
        json={"username": username, "password": PASSWORD},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.get_json()
    csrf: str = response.get_json()["csrf_token"]
    return browser, csrf


def test_revoking_a_session_drops_its_sockets_and_no_others(
    app: Flask, connect: Connect, alice: Member
) -> None:
    phone, _ = web_login(app, "alice", "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile")
    laptop, csrf = web_login(app, "alice", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    on_phone, on_laptop, bot = (
        connect(flask_test_client=phone),
        connect(flask_test_client=laptop),
        connect(alice),
    )
    assert on_phone.is_connected() and on_laptop.is_connected()
    listed = laptop.get(SESSIONS).get_json()["sessions"]
    [phone_session] = [s for s in listed if s["device"] == "Chrome on Android"]
    response = laptop.delete(f"{SESSIONS}/{phone_session['id']}", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert not on_phone.is_connected()
    assert on_laptop.is_connected() and bot.is_connected()
    assert not connect(flask_test_client=phone).is_connected()
    room = make_room(alice, "general")
    assert ok(emit(on_laptop, "message:send", {"room_id": room["id"], "body": "still here"}))


@pytest.fixture
def admin_2fa_required(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "PARLEY_REQUIRE_ADMIN_2FA", True)


def test_an_admin_who_must_enrol_cannot_open_a_socket(
    app: Flask, connect: Connect, make_user: Callable[..., Member], admin_2fa_required: None
) -> None:
    root = make_user("root", role="Administrator")
    browser, _ = web_login(app, "root", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    assert not connect(root).is_connected()
    assert not connect(flask_test_client=browser).is_connected()
    bot = root.post(f"{API}/auth/tokens", json={"name": "bot"})
    assert bot.status_code == 403
