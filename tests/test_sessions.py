"""Web sessions live server-side: the cookie holds only a random session id; your logins
are listed with device, address and last use, and each can be revoked at once."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from parley.extensions import db
from parley.identity import SESSION_KEY
from parley.models import ApiToken
from parley.user_agents import summarize_user_agent
from support import PASSWORD, Member, assert_error, bearer, login_token

API = "/api/v1"
SESSION = f"{API}/auth/session"
SESSIONS = f"{API}/auth/sessions"
ME = f"{API}/users/me"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def web_login(app: Flask, username: str, agent: str = FIREFOX) -> tuple[FlaskClient, str]:
    web = app.test_client()
    response = web.post(
        SESSION,
        json={"username": username, "password": PASSWORD},
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 200, response.get_json()
    csrf: str = response.get_json()["csrf_token"]
    return web, csrf


def cookie_payload(web: FlaskClient) -> tuple[str, dict[str, Any]]:
    """The session cookie as sent, and its payload read the way anyone holding the cookie
    can read it: without the secret key (it is signed, not encrypted)."""
    cookie = web.get_cookie("session")
    assert cookie is not None
    value = cookie.value
    compressed = value.startswith(".")
    data = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    payload: dict[str, Any] = json.loads(zlib.decompress(raw) if compressed else raw)
    return value, payload


def session_rows(app: Flask, user_id: int) -> list[ApiToken]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(ApiToken)
                .where(ApiToken.user_id == user_id, ApiToken.kind == "session")
                .order_by(ApiToken.id)
            )
        )
        db.session.expunge_all()
        return rows


def test_the_cookie_holds_only_a_random_session_id_never_a_token(app: Flask, alice: Member) -> None:
    web, _ = web_login(app, "alice")
    value, payload = cookie_payload(web)
    assert set(payload) <= {SESSION_KEY, "csrf", "_permanent"}
    session_id = payload[SESSION_KEY]
    assert "prly_" not in value and "prly_" not in json.dumps(payload)
    # The server keeps only the id's hash, and no token of hers is in the cookie.
    [row] = session_rows(app, alice.id)
    assert row.token_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id != row.token_hash
    assert alice.token not in value
    # Read out of the cookie, the id is no credential anywhere but in the signed cookie.
    assert_error(web.get(ME, headers=bearer(session_id)), 401, "invalid_token")
    assert web.get(ME).get_json()["id"] == alice.id


def test_sessions_list_device_address_last_use_and_mark_the_current_one(
    app: Flask, alice: Member
) -> None:
    web_login(app, "alice", CHROME_ANDROID)
    laptop, _ = web_login(app, "alice", FIREFOX)
    listed = laptop.get(SESSIONS).get_json()["sessions"]
    by_device = {s["device"]: s for s in listed if s["kind"] == "session"}
    assert set(by_device) == {"Chrome on Android", "Firefox on Linux"}
    assert by_device["Firefox on Linux"]["current"] is True
    assert by_device["Chrome on Android"]["current"] is False
    # The address is where it was last used from: the laptop's listing came from loopback.
    assert by_device["Chrome on Android"]["address"] == "198.51.100.7"
    assert by_device["Firefox on Linux"]["address"] == "127.0.0.1"
    assert by_device["Firefox on Linux"]["last_used_at"] is not None
    assert all(s["created_at"] for s in by_device.values())
    # The registration's API login is a login too; hand-made API tokens are not listed.
    alice.post(f"{API}/auth/tokens", json={"name": "bot"})
    kinds = sorted(s["kind"] for s in alice.get(SESSIONS).get_json()["sessions"])
    assert kinds == ["login", "session", "session"]
    [current] = [s for s in alice.get(SESSIONS).get_json()["sessions"] if s["current"]]
    assert current["kind"] == "login"


def test_revoking_a_session_ends_it_at_once(app: Flask, alice: Member) -> None:
    phone, _ = web_login(app, "alice", CHROME_ANDROID)
    laptop, csrf = web_login(app, "alice", FIREFOX)
    [phone_session] = [
        s for s in laptop.get(SESSIONS).get_json()["sessions"] if s["device"] == "Chrome on Android"
    ]
    assert phone.get(ME).status_code == 200
    response = laptop.delete(f"{SESSIONS}/{phone_session['id']}", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert_error(phone.get(ME), 401, "unauthorized")
    assert laptop.get(ME).status_code == 200


def test_revoking_with_the_cookie_needs_the_csrf_token(app: Flask, alice: Member) -> None:
    web, _ = web_login(app, "alice")
    [own] = web.get(SESSIONS).get_json()["sessions"][:1]
    assert_error(web.delete(f"{SESSIONS}/{own['id']}"), 403, "csrf_failed")
    assert web.get(ME).status_code == 200


def test_revoking_the_current_web_session_clears_the_cookie(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    [current] = [s for s in web.get(SESSIONS).get_json()["sessions"] if s["current"]]
    assert (
        web.delete(f"{SESSIONS}/{current['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
    )
    assert web.get_cookie("session") is None
    assert_error(web.get(ME), 401, "unauthorized")


def test_another_users_session_or_an_api_token_is_404(
    app: Flask, alice: Member, bob: Member
) -> None:
    web_login(app, "bob")
    [bobs] = session_rows(app, bob.id)
    assert_error(alice.delete(f"{SESSIONS}/{bobs.id}"), 404, "not_found")
    bot = alice.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()
    assert_error(alice.delete(f"{SESSIONS}/{bot['id']}"), 404, "not_found")
    assert alice.get(ME, headers=bearer(bot["token"])).status_code == 200
    assert len(session_rows(app, bob.id)) == 1


def test_the_sessions_routes_need_a_login(client: FlaskClient) -> None:
    assert_error(client.get(SESSIONS), 401, "unauthorized")
    assert_error(client.delete(f"{SESSIONS}/1"), 401, "unauthorized")


def test_an_api_login_records_its_device_and_address(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    token = login_token(client, "alice")
    listed = client.get(SESSIONS, headers=bearer(token)).get_json()["sessions"]
    [current] = [s for s in listed if s["current"]]
    assert current["kind"] == "login"
    assert current["device"] == "Werkzeug"
    assert current["address"] == "127.0.0.1"


def test_user_agents_are_summarised() -> None:
    assert summarize_user_agent(FIREFOX) == "Firefox on Linux"
    assert summarize_user_agent(CHROME_ANDROID) == "Chrome on Android"
    assert summarize_user_agent("python-requests/2.32.3") == "python-requests"
    assert summarize_user_agent("curl/8.5.0") == "curl"
    assert summarize_user_agent("") == "Unknown device"
    assert summarize_user_agent(None) == "Unknown device"
    assert len(summarize_user_agent("x" * 500)) <= 64
