"""/auth/session: the web page's cookie login, and the CSRF checks that come with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.http import parse_date

from parley.extensions import db
from parley.identity import SESSION_KEY
from parley.models import ApiToken, Room
from parley.models.types import utcnow
from support import PASSWORD, Member, another_app, assert_error, bearer, web_session_id

API = "/api/v1"
SESSION = f"{API}/auth/session"
REGISTER_SESSION = f"{API}/auth/session/register"
LOGOUT = f"{API}/auth/logout"
ME = f"{API}/users/me"
ROOMS = f"{API}/rooms"
NEW_ROOM = {"name": "general", "kind": "public", "topic": ""}


def credentials(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": username, "password": password}


def web_login(app: Flask, username: str) -> tuple[FlaskClient, str]:
    """A browser-like client logged in through the session route, and its CSRF token."""
    web = app.test_client()
    response = web.post(SESSION, json=credentials(username))
    assert response.status_code == 200, response.get_json()
    csrf: str = response.get_json()["csrf_token"]
    return web, csrf


def csrf_header(csrf: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf}


def session_cookie(response: Any) -> dict[str, str]:
    """The Set-Cookie header for the session cookie, as {attribute (lower case): value}."""
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    attributes = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def session_cookies_set(response: Any) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]


def token_rows(app: Flask, user_id: int | None = None) -> list[ApiToken]:
    with app.app_context():
        query = sa.select(ApiToken).order_by(ApiToken.id)
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def room_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Room)) or 0


# --- logging in -------------------------------------------------------------------------


def test_session_login_answers_the_user_and_a_csrf_token_and_sets_the_cookie(
    app: Flask, alice: Member
) -> None:
    web = app.test_client()
    response = web.post(SESSION, json=credentials("alice"))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"user", "csrf_token"}
    assert body["user"]["id"] == alice.id
    assert len(body["csrf_token"]) >= 40
    assert "token" not in body

    cookie = session_cookie(response)
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert "secure" not in cookie  # the testing config serves plain http
    assert cookie["path"] == "/"
    expires = parse_date(cookie["expires"])
    assert expires is not None
    lifetime = expires - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)

    session_tokens = [t for t in token_rows(app, alice.id) if t.kind == "session"]
    assert len(session_tokens) == 1
    assert web.get(ME).get_json()["id"] == alice.id


def test_the_session_cookie_is_secure_when_configured_like_production(
    app: Flask, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ProductionConfig sets SESSION_COOKIE_SECURE (tests/test_config.py); Flask reads it
    # for each answer.
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = app.test_client().post(SESSION, json=credentials("alice"))
    assert response.status_code == 200
    cookie = session_cookie(response)
    assert "secure" in cookie and "httponly" in cookie
    assert cookie["samesite"] == "Lax"


def test_session_login_with_bad_credentials_is_401_and_sets_no_cookie(
    app: Flask, alice: Member
) -> None:
    web = app.test_client()
    for body in (credentials("alice", "not the password"), credentials("nobody")):
        response = web.post(SESSION, json=body)
        assert_error(response, 401, "invalid_credentials")
        assert session_cookies_set(response) == []
    assert [t.kind for t in token_rows(app, alice.id)] == ["login"]
    assert_error(web.get(SESSION), 401, "unauthorized")


def test_session_login_to_a_deactivated_account_is_403_like_login(
    app: Flask, make_user: Callable[..., Member]
) -> None:
    root = make_user("root", role="Administrator")
    carol = make_user("carol")
    assert root.patch(f"{API}/users/{carol.id}", json={"active": False}).status_code == 200
    response = app.test_client().post(SESSION, json=credentials("carol"))
    assert_error(response, 403, "account_deactivated")
    assert session_cookies_set(response) == []


def test_session_login_validates_its_body_like_login(client: FlaskClient) -> None:
    assert_error(client.post(SESSION, json={"username": "alice"}), 422, "validation_error")
    assert_error(client.post(SESSION, json={"username": "", "password": "x"}), 422)


def test_logging_in_again_revokes_the_previous_session_token(
    app: Flask, alice: Member, bob: Member
) -> None:
    web, _ = web_login(app, "alice")
    [first] = [t for t in token_rows(app, alice.id) if t.kind == "session"]
    assert web.post(SESSION, json=credentials("alice")).status_code == 200
    [second] = [t for t in token_rows(app, alice.id) if t.kind == "session"]
    assert second.id != first.id

    # Logging in as someone else on the same browser ends alice's session too.
    response = web.post(SESSION, json=credentials("bob"))
    assert response.status_code == 200
    assert [t.kind for t in token_rows(app, alice.id)] == ["login"]
    assert [t.kind for t in token_rows(app, bob.id)] == ["login", "session"]
    assert web.get(SESSION).get_json()["user"]["id"] == bob.id


def test_a_failed_login_leaves_the_current_session_as_it_was(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    assert_error(web.post(SESSION, json=credentials("alice", "wrong")), 401)
    body = web.get(SESSION).get_json()
    assert body["user"]["id"] == alice.id
    assert body["csrf_token"] == csrf


def test_a_new_login_gets_a_new_csrf_token(app: Flask, alice: Member) -> None:
    web, first = web_login(app, "alice")
    second = web.post(SESSION, json=credentials("alice")).get_json()["csrf_token"]
    assert second != first
    assert web.get(SESSION).get_json()["csrf_token"] == second
    assert_error(web.post(ROOMS, json=NEW_ROOM, headers=csrf_header(first)), 403, "csrf_failed")


# --- registering ------------------------------------------------------------------------


def test_register_session_creates_the_account_with_exactly_one_session_token(app: Flask) -> None:
    web = app.test_client()
    response = web.post(
        REGISTER_SESSION,
        json={"username": "dora", "password": PASSWORD, "display_name": "Dora"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user", "csrf_token"}
    assert body["user"]["username"] == "dora"
    assert body["user"]["display_name"] == "Dora"
    assert "httponly" in session_cookie(response)

    assert [(t.name, t.kind) for t in token_rows(app)] == [("session", "session")]
    assert web.get(SESSION).get_json()["user"]["id"] == body["user"]["id"]
    assert web.get(SESSION).get_json()["csrf_token"] == body["csrf_token"]
    made = web.post(ROOMS, json=NEW_ROOM, headers=csrf_header(body["csrf_token"]))
    assert made.status_code == 201


def test_register_session_refuses_a_taken_name_and_sets_no_cookie(
    app: Flask, alice: Member
) -> None:
    response = app.test_client().post(REGISTER_SESSION, json=credentials("ALICE"))
    assert_error(response, 409, "username_taken")
    assert session_cookies_set(response) == []
    assert len(token_rows(app)) == 1


def test_register_session_refuses_a_bad_password_with_422(app: Flask) -> None:
    response = app.test_client().post(REGISTER_SESSION, json=credentials("dora", "short"))
    assert_error(response, 422, "validation_error")
    assert token_rows(app) == []


@pytest.mark.parametrize("password", ["password1234", "dora-the-explorer"])
def test_register_session_refuses_a_weak_password_and_sets_no_cookie(
    app: Flask, password: str
) -> None:
    response = app.test_client().post(REGISTER_SESSION, json=credentials("dora", password))
    assert_error(response, 422, "weak_password")
    assert session_cookies_set(response) == []
    assert token_rows(app) == []


def test_register_session_is_refused_when_registration_is_closed(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "REGISTRATION_OPEN", False)
    response = app.test_client().post(REGISTER_SESSION, json=credentials("dora"))
    assert_error(response, 403, "registration_closed")


def test_register_session_ends_the_session_the_cookie_held(app: Flask, alice: Member) -> None:
    web, _ = web_login(app, "alice")
    assert web.post(REGISTER_SESSION, json=credentials("dora")).status_code == 201
    assert [t.kind for t in token_rows(app, alice.id)] == ["login"]
    assert web.get(SESSION).get_json()["user"]["username"] == "dora"


# --- asking who is logged in ------------------------------------------------------------


def test_get_session_answers_the_user_and_the_same_csrf_token(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    response = web.get(SESSION)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"user", "csrf_token"}
    assert body["csrf_token"] == csrf
    assert body["user"]["id"] == alice.id
    assert body["user"]["username"] == "alice"
    assert body["user"]["permissions"] == alice.data["permissions"]


def test_get_session_without_a_cookie_is_401(client: FlaskClient) -> None:
    assert_error(client.get(SESSION), 401, "unauthorized")


def test_get_session_with_a_dead_token_in_the_cookie_is_401(app: Flask, alice: Member) -> None:
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = "not-a-real-session-id"
    assert_error(web.get(SESSION), 401, "unauthorized")


def test_the_session_routes_refuse_a_bearer_token_with_400_not_a_session(
    app: Flask, alice: Member
) -> None:
    web, csrf = web_login(app, "alice")
    assert_error(web.get(SESSION, headers=bearer(alice.token)), 400, "not_a_session")
    response = web.delete(SESSION, headers={**bearer(alice.token), **csrf_header(csrf)})
    assert_error(response, 400, "not_a_session")
    assert web.get(SESSION).status_code == 200
    assert alice.get(ME).status_code == 200


def test_get_session_makes_a_csrf_token_for_a_cookie_that_has_none(
    app: Flask, alice: Member
) -> None:
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    csrf = web.get(SESSION).get_json()["csrf_token"]
    assert csrf
    assert web.get(SESSION).get_json()["csrf_token"] == csrf
    assert web.post(ROOMS, json=NEW_ROOM, headers=csrf_header(csrf)).status_code == 201


# --- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": "é" * 43}],
    ids=["missing", "empty", "wrong", "non-ascii"],
)
def test_a_cookie_post_without_the_right_csrf_token_is_403_and_changes_nothing(
    app: Flask, alice: Member, headers: dict[str, Any]
) -> None:
    web, _ = web_login(app, "alice")
    error = assert_error(web.post(ROOMS, json=NEW_ROOM, headers=headers), 403, "csrf_failed")
    assert error["details"] == {}
    assert "X-CSRF-Token" in error["message"]
    assert room_count(app) == 0


def test_a_cookie_post_with_the_csrf_token_is_201(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    response = web.post(ROOMS, json=NEW_ROOM, headers=csrf_header(csrf))
    assert response.status_code == 201
    assert response.get_json()["name"] == "general"


def test_every_state_changing_method_with_the_cookie_needs_the_csrf_token(
    app: Flask, alice: Member
) -> None:
    web, csrf = web_login(app, "alice")
    room = web.post(ROOMS, json=NEW_ROOM, headers=csrf_header(csrf)).get_json()
    path = f"{ROOMS}/{room['id']}"
    assert_error(web.patch(path, json={"topic": "new"}), 403, "csrf_failed")
    assert_error(web.patch(ME, json={"display_name": "A"}), 403, "csrf_failed")
    assert_error(web.delete(SESSION), 403, "csrf_failed")
    assert_error(web.post(LOGOUT), 403, "csrf_failed")
    assert web.patch(path, json={"topic": "new"}, headers=csrf_header(csrf)).status_code == 200
    assert web.get(SESSION).status_code == 200


def test_the_csrf_token_of_another_session_is_refused(
    app: Flask, alice: Member, bob: Member
) -> None:
    web, _ = web_login(app, "alice")
    _, bobs = web_login(app, "bob")
    assert_error(web.post(ROOMS, json=NEW_ROOM, headers=csrf_header(bobs)), 403, "csrf_failed")
    assert room_count(app) == 0


def test_bearer_requests_need_no_csrf_header(app: Flask, alice: Member, bob: Member) -> None:
    # Even from a browser whose cookie holds someone else's session.
    web, _ = web_login(app, "alice")
    response = web.post(ROOMS, json=NEW_ROOM, headers=bearer(bob.token))
    assert response.status_code == 201
    assert response.get_json()["created_by"] == bob.id
    assert bob.post(f"{API}/auth/tokens", json={"name": "bot"}).status_code == 201


def test_cookie_get_requests_need_no_csrf_header(app: Flask, alice: Member) -> None:
    web, _ = web_login(app, "alice")
    assert web.get(ME).status_code == 200
    assert web.get(ROOMS).status_code == 200
    assert web.get(f"{API}/auth/tokens").status_code == 200
    assert web.head(ME).status_code == 200


def test_a_cross_origin_login_is_403_csrf_failed_and_sets_no_cookie(
    app: Flask, alice: Member
) -> None:
    web = app.test_client()
    for origin in (
        "https://evil.example",
        "http://evil.localhost",
        "http://localhost:5000",
        "https://localhost",
        "null",
        "not a url",
    ):
        response = web.post(SESSION, json=credentials("alice"), headers={"Origin": origin})
        assert_error(response, 403, "csrf_failed")
        assert session_cookies_set(response) == []
    assert [t.kind for t in token_rows(app, alice.id)] == ["login"]


def test_a_cross_origin_register_session_is_403_and_makes_no_account(app: Flask) -> None:
    response = app.test_client().post(
        REGISTER_SESSION, json=credentials("dora"), headers={"Origin": "https://evil.example"}
    )
    assert_error(response, 403, "csrf_failed")
    assert token_rows(app) == []
    assert_error(app.test_client().post(SESSION, json=credentials("dora")), 401)


@pytest.mark.parametrize("origin", ["http://localhost", "HTTP://LOCALHOST", "http://localhost:80"])
def test_a_same_origin_login_is_allowed(app: Flask, alice: Member, origin: str) -> None:
    response = app.test_client().post(
        SESSION, json=credentials("alice"), headers={"Origin": origin}
    )
    assert response.status_code == 200, response.get_json()


def test_behind_a_trusted_proxy_the_login_origin_is_the_forwarded_one(
    app: Flask, alice: Member
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.example.com"}
    with another_app(app, PARLEY_TRUSTED_PROXIES=1) as proxied:
        web = proxied.test_client()

        def login_from(origin: str) -> Any:
            headers = {**forwarded, "Origin": origin}
            return web.post(SESSION, json=credentials("alice"), headers=headers)

        assert login_from("https://chat.example.com").status_code == 200
        assert_error(login_from("http://localhost"), 403, "csrf_failed")
        assert_error(login_from("http://chat.example.com"), 403, "csrf_failed")


# --- logging out ------------------------------------------------------------------------


def test_delete_session_revokes_the_token_and_clears_the_cookie(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    [session_token] = [t for t in token_rows(app, alice.id) if t.kind == "session"]
    response = web.delete(SESSION, headers=csrf_header(csrf))
    assert response.status_code == 204
    cookie = session_cookie(response)
    expires = parse_date(cookie["expires"])
    assert expires is not None and expires < datetime.now(UTC)

    assert_error(web.get(SESSION), 401, "unauthorized")
    assert session_token.id not in [t.id for t in token_rows(app, alice.id)]
    assert alice.get(ME).status_code == 200


def test_delete_session_with_the_stale_cookie_replayed_is_401(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    with web.session_transaction() as session:
        stale = dict(session)
    assert web.delete(SESSION, headers=csrf_header(csrf)).status_code == 204
    with web.session_transaction() as session:
        session.update(stale)
    assert_error(web.delete(SESSION, headers=csrf_header(csrf)), 401, "unauthorized")
    assert_error(web.get(ME), 401, "unauthorized")


def test_delete_session_without_a_session_is_401(client: FlaskClient) -> None:
    assert_error(client.delete(SESSION), 401, "unauthorized")


def test_logout_with_the_cookie_ends_the_web_session(app: Flask, alice: Member) -> None:
    web, csrf = web_login(app, "alice")
    assert web.post(LOGOUT, headers=csrf_header(csrf)).status_code == 204
    assert_error(web.get(SESSION), 401, "unauthorized")
    assert [t.kind for t in token_rows(app, alice.id)] == ["login"]


def test_a_session_token_unused_for_the_session_lifetime_lapses(app: Flask, alice: Member) -> None:
    web, _ = web_login(app, "alice")
    idle = utcnow() - app.permanent_session_lifetime - timedelta(minutes=1)
    with app.app_context():
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.kind == "session").values(last_used_at=idle)
        )
        db.session.commit()
    assert_error(web.get(SESSION), 401, "unauthorized")
    # Other kinds of token do not lapse.
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(last_used_at=idle))
        db.session.commit()
    assert alice.get(ME).status_code == 200


# --- rate limits and the API document ----------------------------------------------------


def test_session_login_and_register_share_the_login_and_register_rate_limits(
    app: Flask, alice: Member
) -> None:
    with another_app(
        app,
        PARLEY_RATE_LIMITS=True,
        PARLEY_LOGIN_RATE_LIMIT="3/minute",
        PARLEY_REGISTER_RATE_LIMIT="2/hour",
    ) as limited:
        web = limited.test_client()
        assert web.post(SESSION, json=credentials("alice", "wrong")).status_code == 401
        assert web.post(SESSION, json=credentials("alice")).status_code == 200
        # One budget with /auth/login, so guessing cannot go on at twice the rate.
        assert web.post(f"{API}/auth/login", json=credentials("alice")).status_code == 200
        # The budget is per address: a fresh browser there is refused too.
        response = limited.test_client().post(SESSION, json=credentials("alice"))
        assert_error(response, 429, "rate_limited")
        assert session_cookies_set(response) == []
        assert_error(web.post(f"{API}/auth/login", json=credentials("alice")), 429)

        assert web.post(REGISTER_SESSION, json=credentials("dora")).status_code == 201
        assert web.post(f"{API}/auth/register", json=credentials("erin")).status_code == 201
        assert_error(web.post(REGISTER_SESSION, json=credentials("fred")), 429, "rate_limited")
    assert_error(app.test_client().post(SESSION, json=credentials("fred")), 401)


def test_the_session_routes_are_documented_as_cookie_only_with_csrf(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["csrf"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
    }
    operations = document["paths"][SESSION]
    assert set(operations) == {"get", "post", "delete"}
    assert operations["get"]["security"] == [{"session": []}]
    assert operations["delete"]["security"] == [{"session": [], "csrf": []}]
    assert operations["post"]["security"] == []
    assert document["paths"][REGISTER_SESSION]["post"]["responses"]["201"]
    rooms = document["paths"][ROOMS]
    assert rooms["post"]["security"] == [{"bearer": []}, {"session": [], "csrf": []}]
    assert rooms["get"]["security"] == [{"bearer": []}, {"session": []}]
