"""/admin: the admin console's routes and page, for administrators and no one else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from parley.events import Event
from parley.extensions import db
from parley.models import ApiToken
from support import (
    PASSWORD,
    Member,
    assert_error,
    bearer,
    login,
    login_token,
    make_room,
    web_session_id,
)

API = "/api/v1"
ADMIN = f"{API}/admin"
LIVE = {"width": 640, "height": 480, "fps": 15}


@pytest.fixture
def root(make_user: Callable[..., Member]) -> Member:
    return make_user("root", role="Administrator")


def tokens_of(app: Flask, user_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id)
        )
        return count or 0


def not_found_body(client: FlaskClient) -> str:
    """What a path that does not exist answers."""
    return client.get(f"{API}/no/such/path").get_data(as_text=True)


# --- who may ask -------------------------------------------------------------------------


ADMIN_REQUESTS = [
    ("GET", "/admin/users", None),
    ("POST", "/admin/users/{user}/password", None),
    ("GET", "/admin/rooms", None),
    ("PATCH", "/admin/rooms/{room}", {"archived": True}),
    ("GET", "/admin/live", None),
    ("DELETE", "/admin/rooms/{room}/live", None),
    ("GET", "/admin/status", None),
]


@pytest.mark.usefixtures("broadcasts")
@pytest.mark.parametrize("role", [None, "Moderator"])
def test_everyone_but_an_administrator_gets_the_404_of_a_missing_path(
    make_user: Callable[..., Member], bob: Member, role: str | None
) -> None:
    actor = make_user("mallory", role=role)
    room = make_room(bob, "general")
    assert bob.post(f"{API}/rooms/{room['id']}/live", json=LIVE).status_code == 201
    expected = not_found_body(actor.client)
    for method, path, body in ADMIN_REQUESTS:
        url = API + path.format(user=bob.id, room=room["id"])
        response = actor.request(method, url, json=body)
        assert response.status_code == 404, (method, path)
        assert response.get_data(as_text=True) == expected, (method, path)
    # Nothing changed: the room is neither archived nor off the air, bob's login works.
    state = bob.get(f"{API}/rooms/{room['id']}").get_json()
    assert state["archived"] is False
    assert state["live"] is not None
    assert login(bob.client, "bob").status_code == 200


def test_without_credentials_the_admin_routes_answer_401_like_every_route(
    client: FlaskClient,
) -> None:
    assert_error(client.get(f"{ADMIN}/users"), 401, "unauthorized")


# --- users -------------------------------------------------------------------------------


def test_the_user_list_shows_deactivated_accounts_and_every_role(
    root: Member, alice: Member, bob: Member
) -> None:
    assert root.patch(f"{API}/users/{bob.id}", json={"active": False}).status_code == 200
    body = root.get(f"{ADMIN}/users").get_json()
    assert [(u["username"], u["role"], u["active"]) for u in body["users"]] == [
        ("alice", "User", True),
        ("bob", "User", False),
        ("root", "Administrator", True),
    ]
    assert body["roles"] == ["User", "Moderator", "Administrator"]


def test_the_user_search_matches_a_username_start_or_part_of_a_display_name(
    root: Member, alice: Member, bob: Member
) -> None:
    alice.patch(f"{API}/users/me", json={"display_name": "Alice Wonder"})

    def found(q: str) -> list[str]:
        response = root.get(f"{ADMIN}/users", query_string={"q": q})
        assert response.status_code == 200, response.get_json()
        return [u["username"] for u in response.get_json()["users"]]

    assert found("BO") == ["bob"]
    assert found("wonder") == ["alice"]
    assert found("%") == []
    assert found("zzz") == []


def test_a_bad_user_search_is_a_422(root: Member) -> None:
    assert_error(root.get(f"{ADMIN}/users", query_string={"limit": "0"}), 422)
    assert_error(root.get(f"{ADMIN}/users", query_string={"q": "x" * 65}), 422)


def test_a_password_reset_answers_a_new_password_once_and_ends_every_login(
    app: Flask, root: Member, bob: Member, events: list[Event]
) -> None:
    api_token = bob.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()["token"]
    session = web_session_id(app, bob.id)
    response = root.post(f"{ADMIN}/users/{bob.id}/password")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["username"] == "bob"
    password = body["password"]
    assert isinstance(password, str) and len(password) >= 16
    for token in (bob.token, api_token):
        assert_error(bob.client.get(f"{API}/users/me", headers=bearer(token)), 401)
    assert tokens_of(app, bob.id) == 0, session
    assert_error(login(bob.client, "bob", PASSWORD), 401, "invalid_credentials")
    assert login_token(bob.client, "bob", password)
    revoked = [e for e in events if e.type == "token:revoked"]
    assert len(revoked) == 3
    # Each reset makes another password.
    again = root.post(f"{ADMIN}/users/{bob.id}/password").get_json()["password"]
    assert again != password


def test_an_administrator_cannot_reset_their_own_password_here(root: Member) -> None:
    assert_error(root.post(f"{ADMIN}/users/{root.id}/password"), 409, "own_account")
    assert root.get(f"{API}/users/me").status_code == 200


def test_resetting_the_password_of_no_such_user_is_a_404(root: Member) -> None:
    error = assert_error(root.post(f"{ADMIN}/users/987654/password"), 404, "not_found")
    assert error["details"] == {"user_id": 987654}


# --- rooms -------------------------------------------------------------------------------


def test_the_room_list_shows_public_and_private_rooms_but_no_direct_room(
    root: Member, alice: Member, bob: Member
) -> None:
    make_room(alice, "general")
    secret = make_room(alice, "secret", kind="private")
    assert (
        alice.post(f"{API}/rooms/{secret['id']}/members", json={"user_id": bob.id}).status_code
        == 201
    )
    assert alice.post(f"{API}/dm", json={"user_id": bob.id}).status_code == 201
    rooms = root.get(f"{ADMIN}/rooms").get_json()["rooms"]
    assert [(r["name"], r["kind"], r["member_count"], r["archived"]) for r in rooms] == [
        ("general", "public", 1, False),
        ("secret", "private", 2, False),
    ]
    found = root.get(f"{ADMIN}/rooms", query_string={"q": "CRE"}).get_json()["rooms"]
    assert [r["name"] for r in found] == ["secret"]


def test_an_administrator_archives_and_unarchives_a_private_room_they_are_not_in(
    root: Member, alice: Member, events: list[Event]
) -> None:
    secret = make_room(alice, "secret", kind="private")
    response = root.patch(f"{ADMIN}/rooms/{secret['id']}", json={"archived": True})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["archived"] is True
    assert alice.get(f"{API}/rooms/{secret['id']}").get_json()["archived"] is True
    assert_error(
        alice.post(f"{API}/rooms/{secret['id']}/messages", json={"body": "hi"}), 403, "archived"
    )
    assert [e.type for e in events].count("room:update") == 1
    response = root.patch(f"{ADMIN}/rooms/{secret['id']}", json={"archived": False})
    assert response.get_json()["archived"] is False
    assert (
        alice.post(f"{API}/rooms/{secret['id']}/messages", json={"body": "hi"}).status_code == 201
    )


def test_archiving_a_direct_room_or_a_missing_one_is_a_404(
    root: Member, alice: Member, bob: Member
) -> None:
    direct = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    for room_id in (direct["id"], 987654):
        error = assert_error(
            root.patch(f"{ADMIN}/rooms/{room_id}", json={"archived": True}), 404, "not_found"
        )
        assert error["details"] == {"room_id": room_id}
    assert alice.get(f"{API}/rooms/{direct['id']}").get_json()["archived"] is False


@pytest.mark.parametrize("body", [{}, {"archived": "yes"}, {"archived": True, "name": "x"}])
def test_a_bad_archive_request_is_a_422_and_changes_nothing(
    root: Member, alice: Member, body: dict[str, Any]
) -> None:
    room = make_room(alice, "general")
    assert_error(root.patch(f"{ADMIN}/rooms/{room['id']}", json=body), 422, "validation_error")
    assert alice.get(f"{API}/rooms/{room['id']}").get_json()["archived"] is False


# --- live broadcasts ----------------------------------------------------------------------


@pytest.mark.usefixtures("broadcasts")
def test_an_administrator_lists_and_ends_a_private_rooms_broadcast(
    root: Member, alice: Member, events: list[Event]
) -> None:
    make_room(alice, "quiet")
    secret = make_room(alice, "secret", kind="private")
    assert alice.post(f"{API}/rooms/{secret['id']}/live", json=LIVE).status_code == 201
    live = root.get(f"{ADMIN}/live").get_json()["rooms"]
    assert [(r["name"], r["live"]["broadcaster"]["username"]) for r in live] == [
        ("secret", "alice")
    ]
    response = root.delete(f"{ADMIN}/rooms/{secret['id']}/live")
    assert response.status_code == 204
    assert root.get(f"{ADMIN}/live").get_json()["rooms"] == []
    assert alice.get(f"{API}/rooms/{secret['id']}").get_json()["live"] is None
    stops = [e.payload for e in events if e.type == "video:stop"]
    assert stops == [{"room_id": secret["id"], "reason": "stopped_by_admin"}]


@pytest.mark.usefixtures("broadcasts")
def test_ending_a_broadcast_in_a_room_that_is_not_live_is_a_404(
    root: Member, alice: Member
) -> None:
    room = make_room(alice, "general")
    assert_error(root.delete(f"{ADMIN}/rooms/{room['id']}/live"), 404, "not_live")


# --- status --------------------------------------------------------------------------------


def test_the_status_shows_the_version_database_queue_sockets_and_uptime(
    app: Flask, root: Member, database_kind: str
) -> None:
    body = root.get(f"{ADMIN}/status").get_json()
    assert set(body) == {
        "version",
        "database_kind",
        "database",
        "message_queue",
        "sockets_connected",
        "uptime_seconds",
    }
    assert body["database_kind"] == database_kind
    assert body["database"] == "ok"
    expected_queue = "ok" if app.config["PARLEY_MESSAGE_QUEUE"] else "not configured"
    assert body["message_queue"] == expected_queue
    assert body["sockets_connected"] == 0
    assert body["uptime_seconds"] >= 0
    assert body["version"] == root.client.get(f"{API}/openapi.json").get_json()["info"]["version"]


# --- the page ------------------------------------------------------------------------------


def session_cookie_client(app: Flask, member: Member) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        f"{API}/auth/session",
        json={"username": member.username, "password": PASSWORD},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 200, response.get_json()
    return client


def test_the_console_page_is_served_to_an_administrator_under_the_page_csp(
    app: Flask, root: Member
) -> None:
    response = session_cookie_client(app, root).get("/admin")
    assert response.status_code == 200
    assert "admin.js" in response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_console_page_is_a_plain_404_for_anyone_else(
    app: Flask, alice: Member, make_user: Callable[..., Member]
) -> None:
    anonymous = app.test_client()
    missing = anonymous.get("/no-such-page")
    for client in (
        anonymous,
        session_cookie_client(app, alice),
        session_cookie_client(app, make_user("mod", role="Moderator")),
    ):
        response = client.get("/admin")
        assert response.status_code == 404
        assert response.get_data() == missing.get_data()
        assert response.headers["Content-Type"] == missing.headers["Content-Type"]
