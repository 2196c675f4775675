"""/users: your own account, finding people, and what administrators change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from parley.actions.tokens import issue_token
from parley.extensions import db
from parley.identity import SESSION_KEY
from parley.models import ApiToken, User
from support import (
    PASSWORD,
    Member,
    assert_error,
    bearer,
    fullwidth,
    login,
    login_token,
    stored_user,
)

ME = "/api/v1/users/me"
USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
NEW_PASSWORD = "a brand new passphrase"


def role_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user.role.name


def token_kinds(app: Flask, user_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(ApiToken.name, ApiToken.kind)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.id)
        ).all()
        return [(name, kind) for name, kind in rows]


def names(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [u["username"] for u in response.get_json()["users"]]


# --- /users/me ----------------------------------------------------------------------


def test_get_me_answers_your_own_account(alice: Member) -> None:
    body = alice.get(ME).get_json()
    assert body["id"] == alice.id
    assert body["username"] == "alice"
    assert body["role"] == "User"
    assert body["active"] is True
    assert set(body) == {
        "id",
        "username",
        "display_name",
        "avatar_url",
        "role",
        "permissions",
        "active",
        "created_at",
        "last_seen_at",
    }


def test_get_me_without_a_token_is_401(client: FlaskClient) -> None:
    assert_error(client.get(ME), 401, "unauthorized")


def test_patch_me_strips_bidi_controls_from_the_display_name(app: Flask, alice: Member) -> None:
    response = alice.patch(ME, json={"display_name": "\u202eecilA\u200b"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == "ecilA"
    assert stored_user(app, alice.id).display_name == "ecilA"
    assert_error(alice.patch(ME, json={"display_name": "\u2066\u2069"}), 422, "validation_error")


def test_patch_me_changes_the_display_name(app: Flask, alice: Member) -> None:
    response = alice.patch(ME, json={"display_name": "  Alice Liddell  "})
    assert response.status_code == 200
    assert response.get_json()["display_name"] == "Alice Liddell"
    assert stored_user(app, alice.id).display_name == "Alice Liddell"
    assert alice.get(ME).get_json()["display_name"] == "Alice Liddell"


def test_patch_me_with_an_empty_body_changes_nothing(app: Flask, alice: Member) -> None:
    before = stored_user(app, alice.id)
    response = alice.patch(ME, json={})
    assert response.status_code == 200
    after = stored_user(app, alice.id)
    assert (after.display_name, after.password_hash) == (before.display_name, before.password_hash)


@pytest.mark.parametrize(
    "body",
    [
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "x" * 65},
        {"display_name": "bad\x00name"},
        {"display_name": "two\nlines"},
        {"display_name": 5},
        {"username": "mallory"},
        {"role": "Administrator"},
    ],
)
def test_patch_me_rejects_a_bad_body_and_changes_nothing(
    app: Flask, alice: Member, body: dict[str, Any]
) -> None:
    assert_error(alice.patch(ME, json=body), 422, "validation_error")
    user = stored_user(app, alice.id)
    assert (user.display_name, user.username) == ("alice", "alice")
    assert role_of(app, alice.id) == "User"


def test_password_change_without_old_password_is_422(app: Flask, alice: Member) -> None:
    before = stored_user(app, alice.id).password_hash
    assert_error(alice.patch(ME, json={"password": NEW_PASSWORD}), 422, "validation_error")
    assert stored_user(app, alice.id).password_hash == before


def test_password_change_with_a_wrong_old_password_is_422_wrong_password(
    app: Flask, alice: Member
) -> None:
    before = stored_user(app, alice.id).password_hash
    other = login_token(alice.client, "alice")
    response = alice.patch(ME, json={"password": NEW_PASSWORD, "old_password": "not it at all"})
    error = assert_error(response, 422, "wrong_password")
    assert error["details"]["fields"][0]["field"] == "body.old_password"
    assert stored_user(app, alice.id).password_hash == before
    # Nothing was revoked either.
    assert alice.client.get(ME, headers=bearer(other)).status_code == 200
    assert login(alice.client, "alice").status_code == 200


def test_password_change_rejects_a_too_short_new_password(app: Flask, alice: Member) -> None:
    before = stored_user(app, alice.id).password_hash
    response = alice.patch(ME, json={"password": "short", "old_password": PASSWORD})
    assert_error(response, 422, "validation_error")
    assert stored_user(app, alice.id).password_hash == before


@pytest.mark.parametrize("password", ["password1234", " " * 10, "alice-in-wonderland"])
def test_password_change_refuses_a_weak_new_password(
    app: Flask, alice: Member, password: str
) -> None:
    before = stored_user(app, alice.id).password_hash
    response = alice.patch(ME, json={"password": password, "old_password": PASSWORD})
    error = assert_error(response, 422, "weak_password")
    assert error["details"]["fields"][0]["field"] == "body.password"
    assert stored_user(app, alice.id).password_hash == before


def test_password_change_replaces_the_password(app: Flask, alice: Member) -> None:
    response = alice.patch(ME, json={"password": NEW_PASSWORD, "old_password": PASSWORD})
    assert response.status_code == 200
    assert_error(login(alice.client, "alice"), 401, "invalid_credentials")
    assert login(alice.client, "alice", NEW_PASSWORD).status_code == 200


def test_password_change_revokes_other_logins_but_keeps_api_tokens_and_the_current_one(
    app: Flask, alice: Member, bob: Member
) -> None:
    other_login = login_token(alice.client, "alice")
    api = alice.post("/api/v1/auth/tokens", json={"name": "bot"}).get_json()["token"]
    with app.app_context():
        _, web_session = issue_token(db.session.get_one(User, alice.id), "web", "session")
        db.session.commit()

    response = alice.patch(ME, json={"password": NEW_PASSWORD, "old_password": PASSWORD})
    assert response.status_code == 200

    assert alice.get(ME).status_code == 200
    assert alice.client.get(ME, headers=bearer(api)).status_code == 200
    assert_error(alice.client.get(ME, headers=bearer(other_login)), 401, "invalid_token")
    assert_error(alice.client.get(ME, headers=bearer(web_session)), 401, "invalid_token")
    assert token_kinds(app, alice.id) == [("login", "login"), ("bot", "api")]
    # Other people's tokens are not touched.
    assert bob.get(ME).status_code == 200


def test_password_change_through_an_api_token_keeps_that_token_and_ends_logins(
    app: Flask, alice: Member
) -> None:
    api = alice.post("/api/v1/auth/tokens", json={"name": "bot"}).get_json()["token"]
    response = alice.client.patch(
        ME, json={"password": NEW_PASSWORD, "old_password": PASSWORD}, headers=bearer(api)
    )
    assert response.status_code == 200
    assert_error(alice.get(ME), 401, "invalid_token")
    assert alice.client.get(ME, headers=bearer(api)).status_code == 200
    assert token_kinds(app, alice.id) == [("bot", "api")]


def test_password_change_through_the_session_cookie_keeps_that_session(
    app: Flask, alice: Member
) -> None:
    with app.app_context():
        _, web_session = issue_token(db.session.get_one(User, alice.id), "web", "session")
        db.session.commit()
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = web_session
        session["csrf"] = "the-csrf-token"
    response = web.patch(
        ME,
        json={"password": NEW_PASSWORD, "old_password": PASSWORD},
        headers={"X-CSRF-Token": "the-csrf-token"},
    )
    assert response.status_code == 200
    assert web.get(ME).get_json()["id"] == alice.id
    assert_error(alice.get(ME), 401, "invalid_token")
    assert token_kinds(app, alice.id) == [("web", "session")]


# --- searching users -------------------------------------------------------------------


@pytest.fixture
def crowd(make_user: Callable[..., Member]) -> dict[str, Member]:
    return {name: make_user(name) for name in ["alice", "Alfred", "albert", "bob", "xal"]}


def test_search_matches_a_username_prefix_ignoring_case(crowd: dict[str, Member]) -> None:
    alice = crowd["alice"]
    assert names(alice.get(USERS, query_string={"q": "al"})) == ["albert", "Alfred", "alice"]
    assert names(alice.get(USERS, query_string={"q": "AL"})) == ["albert", "Alfred", "alice"]
    assert names(alice.get(USERS, query_string={"q": "ALF"})) == ["Alfred"]
    assert names(alice.get(USERS, query_string={"q": fullwidth("ali")})) == ["alice"]
    assert names(alice.get(USERS, query_string={"q": "zzz"})) == []


def test_search_without_q_lists_every_active_user_in_name_order(crowd: dict[str, Member]) -> None:
    assert names(crowd["bob"].get(USERS)) == ["albert", "Alfred", "alice", "bob", "xal"]
    assert names(crowd["bob"].get(USERS, query_string={"q": ""})) == [
        "albert",
        "Alfred",
        "alice",
        "bob",
        "xal",
    ]


def test_search_is_a_prefix_match_not_a_substring_match(crowd: dict[str, Member]) -> None:
    assert names(crowd["bob"].get(USERS, query_string={"q": "x"})) == ["xal"]
    assert "xal" not in names(crowd["bob"].get(USERS, query_string={"q": "a"}))


def test_search_shows_only_active_users(
    make_user: Callable[..., Member], crowd: dict[str, Member]
) -> None:
    root = make_user("root", role="Administrator")
    assert root.patch(f"{USERS}/{crowd['alice'].id}", json={"active": False}).status_code == 200
    assert names(root.get(USERS, query_string={"q": "al"})) == ["albert", "Alfred"]


def test_search_respects_the_limit(crowd: dict[str, Member]) -> None:
    assert names(crowd["bob"].get(USERS, query_string={"q": "al", "limit": "2"})) == [
        "albert",
        "Alfred",
    ]
    assert len(names(crowd["bob"].get(USERS, query_string={"limit": "1"}))) == 1
    assert len(names(crowd["bob"].get(USERS, query_string={"limit": "100"}))) == 5


def test_search_answers_at_most_20_users_by_default(make_user: Callable[..., Member]) -> None:
    members = [make_user(f"user{n:02d}") for n in range(21)]
    listed = names(members[0].get(USERS))
    assert listed == [f"user{n:02d}" for n in range(20)]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "q=%00", "q=" + "x" * 65])
def test_search_rejects_bad_query_arguments_with_422(alice: Member, query: str) -> None:
    assert_error(alice.get(f"{USERS}?{query}"), 422, "validation_error")


def test_search_treats_like_wildcards_in_q_literally(make_user: Callable[..., Member]) -> None:
    viewer = make_user("a_b")
    make_user("axb")
    make_user("a.c")
    assert names(viewer.get(USERS, query_string={"q": "a_"})) == ["a_b"]
    assert names(viewer.get(USERS, query_string={"q": "a%"})) == []
    assert names(viewer.get(USERS, query_string={"q": "a."})) == ["a.c"]


def test_search_needs_authentication(client: FlaskClient) -> None:
    assert_error(client.get(USERS), 401, "unauthorized")


# --- one user --------------------------------------------------------------------------


def test_get_user_answers_that_user(alice: Member, bob: Member) -> None:
    body = alice.get(f"{USERS}/{bob.id}").get_json()
    assert (body["id"], body["username"], body["role"]) == (bob.id, "bob", "User")


def test_get_unknown_user_is_404(alice: Member) -> None:
    error = assert_error(alice.get(f"{USERS}/999999"), 404, "not_found")
    assert error["details"] == {"user_id": 999999}
    assert_error(alice.get(f"{USERS}/0"), 404, "not_found")
    assert_error(alice.get(f"{USERS}/abc"), 404, "not_found")


def test_get_user_shows_a_deactivated_user_as_inactive(
    make_user: Callable[..., Member], bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    root.patch(f"{USERS}/{bob.id}", json={"active": False})
    assert root.get(f"{USERS}/{bob.id}").get_json()["active"] is False


# --- what administrators change --------------------------------------------------------


@pytest.fixture
def root(make_user: Callable[..., Member]) -> Member:
    return make_user("root", role="Administrator")


@pytest.mark.parametrize("role", [None, "Moderator"])
def test_only_administrators_may_change_users(
    app: Flask, make_user: Callable[..., Member], bob: Member, role: str | None
) -> None:
    actor = make_user("mallory", role=role)
    for body in ({"role": "Administrator"}, {"active": False}, {}):
        error = assert_error(actor.patch(f"{USERS}/{bob.id}", json=body), 403, "missing_permission")
        assert error["details"] == {"permission": "ADMIN"}
    assert_error(
        actor.patch(f"{USERS}/{actor.id}", json={"role": "Administrator"}),
        403,
        "missing_permission",
    )
    assert role_of(app, bob.id) == "User"
    assert role_of(app, actor.id) == (role or "User")
    assert stored_user(app, bob.id).active is True


def test_admin_changes_a_users_role(app: Flask, root: Member, bob: Member) -> None:
    response = root.patch(f"{USERS}/{bob.id}", json={"role": "Moderator"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "Moderator"
    assert "MODERATE" in body["permissions"]
    assert role_of(app, bob.id) == "Moderator"
    assert bob.get(ME).get_json()["role"] == "Moderator"

    assert root.patch(f"{USERS}/{bob.id}", json={"role": "User"}).get_json()["role"] == "User"
    assert role_of(app, bob.id) == "User"


def test_admin_setting_an_unknown_role_is_422_listing_the_roles(
    app: Flask, root: Member, bob: Member
) -> None:
    error = assert_error(root.patch(f"{USERS}/{bob.id}", json={"role": "Overlord"}), 422)
    assert error["details"]["roles"] == ["User", "Moderator", "Administrator"]
    assert role_of(app, bob.id) == "User"
    assert_error(root.patch(f"{USERS}/{bob.id}", json={"role": ""}), 422, "validation_error")
    assert_error(root.patch(f"{USERS}/{bob.id}", json={"active": "no"}), 422, "validation_error")


def test_admin_changing_an_unknown_user_is_404(root: Member) -> None:
    assert_error(root.patch(f"{USERS}/999999", json={"role": "User"}), 404, "not_found")
    assert_error(root.patch(f"{USERS}/999999", json={"active": False}), 404, "not_found")


def test_deactivating_a_user_revokes_every_token_of_theirs(
    app: Flask, root: Member, bob: Member
) -> None:
    api = bob.post("/api/v1/auth/tokens", json={"name": "bot"}).get_json()["token"]
    other = login_token(bob.client, "bob")
    response = root.patch(f"{USERS}/{bob.id}", json={"active": False})
    assert response.status_code == 200
    assert response.get_json()["active"] is False
    assert stored_user(app, bob.id).active is False
    assert token_kinds(app, bob.id) == []
    for token in (bob.token, api, other):
        assert_error(bob.client.get(ME, headers=bearer(token)), 401, "invalid_token")
    assert_error(login(bob.client, "bob"), 403, "account_deactivated")
    assert root.get(ME).status_code == 200


def test_deactivating_an_already_deactivated_user_is_harmless(root: Member, bob: Member) -> None:
    assert root.patch(f"{USERS}/{bob.id}", json={"active": False}).status_code == 200
    response = root.patch(f"{USERS}/{bob.id}", json={"active": False})
    assert response.status_code == 200
    assert response.get_json()["active"] is False


def test_reactivating_a_user_lets_them_log_in_again_without_reviving_old_tokens(
    app: Flask, root: Member, bob: Member
) -> None:
    root.patch(f"{USERS}/{bob.id}", json={"active": False})
    response = root.patch(f"{USERS}/{bob.id}", json={"active": True})
    assert response.status_code == 200
    assert response.get_json()["active"] is True
    assert stored_user(app, bob.id).active is True
    assert_error(bob.get(ME), 401, "invalid_token")
    token = login_token(bob.client, "bob")
    assert bob.client.get(ME, headers=bearer(token)).get_json()["id"] == bob.id
    assert "bob" in names(root.get(USERS))


def test_the_last_administrator_cannot_demote_themselves(app: Flask, root: Member) -> None:
    for role in ("User", "Moderator"):
        assert_error(root.patch(f"{USERS}/{root.id}", json={"role": role}), 409, "last_admin")
    assert role_of(app, root.id) == "Administrator"


def test_the_last_administrator_cannot_deactivate_themselves(app: Flask, root: Member) -> None:
    assert_error(root.patch(f"{USERS}/{root.id}", json={"active": False}), 409, "last_admin")
    assert stored_user(app, root.id).active is True
    assert token_kinds(app, root.id) == [("login", "login")]
    assert root.get(ME).status_code == 200


def test_the_last_administrator_may_set_their_role_to_administrator_again(root: Member) -> None:
    response = root.patch(f"{USERS}/{root.id}", json={"role": "Administrator"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "Administrator"


def test_with_two_administrators_one_may_demote_the_other_but_not_then_themselves(
    app: Flask, make_user: Callable[..., Member], root: Member
) -> None:
    second = make_user("second", role="Administrator")
    assert root.patch(f"{USERS}/{second.id}", json={"role": "User"}).status_code == 200
    assert role_of(app, second.id) == "User"
    assert_error(root.patch(f"{USERS}/{root.id}", json={"role": "User"}), 409, "last_admin")


def test_an_administrator_may_step_down_while_another_remains(
    app: Flask, make_user: Callable[..., Member], root: Member
) -> None:
    second = make_user("second", role="Administrator")
    assert root.patch(f"{USERS}/{root.id}", json={"role": "User"}).status_code == 200
    assert role_of(app, root.id) == "User"
    assert_error(second.patch(f"{USERS}/{second.id}", json={"active": False}), 409, "last_admin")


def test_a_deactivated_administrator_does_not_count_as_the_remaining_one(
    app: Flask, make_user: Callable[..., Member], root: Member
) -> None:
    second = make_user("second", role="Administrator")
    assert root.patch(f"{USERS}/{second.id}", json={"active": False}).status_code == 200
    assert_error(root.patch(f"{USERS}/{root.id}", json={"role": "User"}), 409, "last_admin")
    assert_error(root.patch(f"{USERS}/{root.id}", json={"active": False}), 409, "last_admin")

    assert root.patch(f"{USERS}/{second.id}", json={"active": True}).status_code == 200
    assert root.patch(f"{USERS}/{root.id}", json={"role": "User"}).status_code == 200
    assert role_of(app, root.id) == "User"


def test_the_last_administrator_may_promote_someone_and_deactivate_them_at_once(
    app: Flask, root: Member, bob: Member
) -> None:
    response = root.patch(f"{USERS}/{bob.id}", json={"role": "Administrator", "active": False})
    assert response.status_code == 200
    assert (response.get_json()["role"], response.get_json()["active"]) == (
        "Administrator",
        False,
    )
    assert_error(root.patch(f"{USERS}/{root.id}", json={"role": "User"}), 409, "last_admin")
