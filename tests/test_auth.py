"""/auth: registration, login, logout, API tokens, and how a request proves who it is."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from parley.extensions import db
from parley.identity import SESSION_KEY
from parley.models import ApiToken, User
from parley.models.types import utcnow
from support import (
    PASSWORD,
    Member,
    assert_error,
    bearer,
    fullwidth,
    login,
    login_token,
    stored_user,
    web_session_id,
)

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
TOKENS = "/api/v1/auth/tokens"
ME = "/api/v1/users/me"


def stored_tokens(app: Flask, user_id: int) -> list[ApiToken]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
        )
        db.session.expunge_all()
        return rows


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


# --- register -----------------------------------------------------------------------


def test_register_answers_201_with_the_user_and_a_working_token(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post(
        REGISTER,
        json={"username": "alice", "password": PASSWORD, "display_name": "Alice Liddell"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user", "token"}
    user = body["user"]
    assert user["username"] == "alice"
    assert user["display_name"] == "Alice Liddell"
    assert user["role"] == "User"
    assert user["active"] is True
    assert set(user["permissions"]) == {"READ", "WRITE", "CREATE_ROOMS"}
    assert "password_hash" not in user and "password" not in user

    me = client.get(ME, headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == user["id"]

    stored = stored_user(app, user["id"])
    assert stored.username_key == "alice"
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert [t.kind for t in stored_tokens(app, user["id"])] == ["login"]


def test_register_without_display_name_uses_the_username(client: FlaskClient) -> None:
    response = client.post(REGISTER, json={"username": "Bob_1.x-y", "password": PASSWORD})
    assert response.status_code == 201
    assert response.get_json()["user"]["display_name"] == "Bob_1.x-y"


def test_register_stores_the_nfkc_normalized_username(app: Flask, client: FlaskClient) -> None:
    response = client.post(REGISTER, json={"username": fullwidth("carol"), "password": PASSWORD})
    assert response.status_code == 201
    assert response.get_json()["user"]["username"] == "carol"
    assert stored_user(app, response.get_json()["user"]["id"]).username == "carol"


@pytest.mark.parametrize(
    "taken", ["alice", "ALICE", "Alice", fullwidth("alice"), fullwidth("ALICE")]
)
def test_register_refuses_a_username_taken_ignoring_case_and_width(
    app: Flask, client: FlaskClient, taken: str
) -> None:
    first = client.post(REGISTER, json={"username": "Alice", "password": PASSWORD})
    assert first.status_code == 201
    response = client.post(REGISTER, json={"username": taken, "password": PASSWORD})
    error = assert_error(response, 409, "username_taken")
    assert error["details"] == {"field": "username"}
    assert user_count(app) == 1


@pytest.mark.parametrize(
    "username",
    [
        "ab",
        "x" * 33,
        "has space",
        "semi;colon",
        "at@sign",
        "slash/name",
        "emoji😀",
        "nul\x00name",
        "tab\tname",
        "bell\x07name",
        "",
        "   ",
    ],
)
def test_register_rejects_a_username_outside_the_rules(
    app: Flask, client: FlaskClient, username: str
) -> None:
    response = client.post(REGISTER, json={"username": username, "password": PASSWORD})
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["fields"][0]["field"] == "body.username"
    assert user_count(app) == 0


@pytest.mark.parametrize(
    "username", ["abc", "x" * 32, "a.b", "a-b", "a_b", "Zoë", "名前です", "007"]
)
def test_register_accepts_usernames_of_letters_digits_and_dot_dash_underscore(
    client: FlaskClient, username: str
) -> None:
    response = client.post(REGISTER, json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()


def test_register_keys_a_username_by_its_precis_lower_case(app: Flask, client: FlaskClient) -> None:
    # PRECIS UsernameCaseMapped lower-cases (it does not case-fold "ß" to "ss"), and the
    # capital "ẞ" lower-cases to "ß", so it is the same name.
    response = client.post(REGISTER, json={"username": "ß" * 32, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert stored_user(app, response.get_json()["user"]["id"]).username_key == "ß" * 32
    assert_error(
        client.post(REGISTER, json={"username": "ẞ" * 32, "password": PASSWORD}),
        409,
        "username_taken",
    )


@pytest.mark.parametrize(
    ("first", "look_alike"),
    [
        ("alice", "\u0430lice"),  # Cyrillic small a
        ("root1", "r\u043e\u043et1"),  # Cyrillic small o twice
        ("bob", "b\u03bfb"),  # Greek small omicron
        ("root1", "r00t1"),  # digit zero, and "1" beside "l"
        ("modern", "rnodern"),  # "rn" beside "m"
        ("\u0430lice", "alice"),  # whichever came first keeps the name
    ],
)
def test_register_refuses_a_username_confusable_with_an_existing_one(
    app: Flask, client: FlaskClient, first: str, look_alike: str
) -> None:
    assert client.post(REGISTER, json={"username": first, "password": PASSWORD}).status_code == 201
    response = client.post(REGISTER, json={"username": look_alike, "password": PASSWORD})
    error = assert_error(response, 409, "username_confusable")
    assert error["details"] == {"field": "username", "similar_to": first}
    assert user_count(app) == 1


def test_register_accepts_names_that_only_look_alike_to_nobody(client: FlaskClient) -> None:
    for name in ("alice", "alicia", "bill", "b1ll", "x_y", "x-y", "zoe", "zoë"):
        response = client.post(REGISTER, json={"username": name, "password": PASSWORD})
        assert response.status_code == 201, (name, response.get_json())


def test_register_stores_the_skeleton_of_the_username(app: Flask, client: FlaskClient) -> None:
    from parley.usernames import skeleton_digest

    response = client.post(REGISTER, json={"username": "Alice", "password": PASSWORD})
    stored = stored_user(app, response.get_json()["user"]["id"])
    assert stored.username_skeleton == skeleton_digest("\u0430lice") == skeleton_digest("alice")


@pytest.mark.parametrize(
    "display_name",
    [
        "\u202eecilA",  # right-to-left override
        "Al\u200bice",  # zero-width space
        "\u2066Alice\u2069",  # isolates
        "Ali\u200fce\u200e",  # right-to-left and left-to-right marks
        "Alice\u061c",  # Arabic letter mark
        "\ufeffAl\u00adice",  # byte-order mark, soft hyphen
        "Alice\u3164",  # Hangul filler
    ],
)
def test_register_strips_bidi_controls_and_invisible_characters_from_the_display_name(
    app: Flask, client: FlaskClient, display_name: str
) -> None:
    response = client.post(
        REGISTER, json={"username": "alice", "password": PASSWORD, "display_name": display_name}
    )
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()["user"]["display_name"]
    assert shown == display_name.translate(
        {ord(c): None for c in "\u202e\u200b\u2066\u2069\u200f\u200e\u061c\ufeff\u00ad\u3164"}
    )
    assert stored_user(app, response.get_json()["user"]["id"]).display_name == shown


@pytest.mark.parametrize("display_name", ["\u202e", "\u200b\u200b", "\u2066 \u2069", "\u3164"])
def test_register_refuses_a_display_name_that_is_empty_without_invisible_characters(
    app: Flask, client: FlaskClient, display_name: str
) -> None:
    response = client.post(
        REGISTER, json={"username": "alice", "password": PASSWORD, "display_name": display_name}
    )
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["fields"][0]["field"] == "body.display_name"
    assert user_count(app) == 0


@pytest.mark.parametrize(
    "password", ["short", "x" * 9, "x" * 1025, "with\x00nul-inside", "esc\x1b[0m!!"]
)
def test_register_rejects_a_password_outside_10_to_1024_plain_characters(
    app: Flask, client: FlaskClient, password: str
) -> None:
    response = client.post(REGISTER, json={"username": "alice", "password": password})
    error = assert_error(response, 422)
    assert error["details"]["fields"][0]["field"] == "body.password"
    assert user_count(app) == 0


# A strong password of 10 characters, and one of 1024 (zxcvbn scores its first 72).
STRONG_10 = "vq7-Kx2!pL"
STRONG_1024 = (hashlib.sha512(b"parley").hexdigest() * 8)[:1024]


def test_register_accepts_strong_passwords_of_exactly_10_and_1024_characters(
    client: FlaskClient,
) -> None:
    response = client.post(REGISTER, json={"username": "ten", "password": STRONG_10})
    assert response.status_code == 201, response.get_json()
    response = client.post(REGISTER, json={"username": "long", "password": STRONG_1024})
    assert response.status_code == 201, response.get_json()
    assert login(client, "long", STRONG_1024).status_code == 200


@pytest.mark.parametrize(
    "password",
    ["password", " " * 8, " " * 12, "password1234", "qwertyuiop", "1234567890", "p" * 40],
)
def test_register_refuses_a_weak_password(app: Flask, client: FlaskClient, password: str) -> None:
    response = client.post(REGISTER, json={"username": "alice", "password": password})
    error = assert_error(response, 422)
    assert error["code"] in ("weak_password", "validation_error")
    assert error["details"]["fields"][0]["field"] == "body.password"
    assert user_count(app) == 0


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("wonderland42", "wonderland42"),
        ("wonderland42", "WonderLand42"),
        ("alice", "alice-in-wonderland"),
        ("Alice", "my name is ALICE and I chat"),
        ("alice", "\uff21\uff2c\uff29\uff23\uff25 in wonderland"),  # fullwidth ALICE
    ],
)
def test_register_refuses_a_password_that_is_or_holds_the_username(
    app: Flask, client: FlaskClient, username: str, password: str
) -> None:
    response = client.post(REGISTER, json={"username": username, "password": password})
    error = assert_error(response, 422, "weak_password")
    assert "username" in error["message"]
    assert error["details"]["fields"][0]["field"] == "body.password"
    assert user_count(app) == 0


def test_a_weak_password_is_refused_with_zxcvbns_reason(client: FlaskClient) -> None:
    response = client.post(REGISTER, json={"username": "alice", "password": "password1234"})
    error = assert_error(response, 422, "weak_password")
    details = error["details"]
    assert details["score"] < details["min_score"] == 3
    assert details["warning"] == "This is a very common password."
    assert details["warning"] in error["message"]
    assert isinstance(details["suggestions"], list)


def test_the_display_name_counts_as_a_guessable_word(app: Flask, client: FlaskClient) -> None:
    body = {"username": "alice", "password": "Liddellzxq", "display_name": "Liddell"}
    assert_error(client.post(REGISTER, json=body), 422, "weak_password")


@pytest.mark.parametrize("display_name", ["nul\x00", "line\nbreak", "   ", "x" * 65, ""])
def test_register_rejects_a_bad_display_name(
    app: Flask, client: FlaskClient, display_name: str
) -> None:
    response = client.post(
        REGISTER, json={"username": "alice", "password": PASSWORD, "display_name": display_name}
    )
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["fields"][0]["field"] == "body.display_name"
    assert user_count(app) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice"},
        {"password": PASSWORD},
        {"username": "alice", "password": PASSWORD, "role": "Administrator"},
        {"username": 12345, "password": PASSWORD},
        {"username": "alice", "password": 12345678},
    ],
)
def test_register_rejects_missing_extra_or_mistyped_fields(
    app: Flask, client: FlaskClient, body: dict[str, Any]
) -> None:
    assert_error(client.post(REGISTER, json=body), 422, "validation_error")
    assert user_count(app) == 0


# --- login ----------------------------------------------------------------------------


def test_login_answers_200_with_the_user_and_a_new_token(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    response = login(client, "alice")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == alice.id
    assert body["token"] != alice.token
    assert client.get(ME, headers=bearer(body["token"])).get_json()["username"] == "alice"
    assert [t.kind for t in stored_tokens(app, alice.id)] == ["login", "login"]
    assert stored_user(app, alice.id).last_seen_at is not None


@pytest.mark.parametrize("spelling", ["ALICE", "Alice", fullwidth("alice")])
def test_login_finds_the_user_ignoring_case_and_width(
    client: FlaskClient, alice: Member, spelling: str
) -> None:
    assert login(client, spelling).get_json()["user"]["id"] == alice.id


def test_login_with_a_wrong_password_is_401_invalid_credentials(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    assert_error(login(client, "alice", "not the password"), 401, "invalid_credentials")
    assert len(stored_tokens(app, alice.id)) == 1


def test_login_as_an_unknown_user_answers_exactly_like_a_wrong_password(
    client: FlaskClient, alice: Member
) -> None:
    unknown = assert_error(login(client, "nobody"), 401, "invalid_credentials")
    wrong = assert_error(login(client, "alice", "not the password"), 401, "invalid_credentials")
    assert unknown == wrong


def test_login_to_a_deactivated_account_is_403_account_deactivated(
    app: Flask, client: FlaskClient, make_user: Callable[..., Member]
) -> None:
    root = make_user("root", role="Administrator")
    carol = make_user("carol")
    assert root.patch(f"/api/v1/users/{carol.id}", json={"active": False}).status_code == 200
    assert_error(login(client, "carol"), 403, "account_deactivated")
    # A wrong password still says nothing about the account's state.
    assert_error(login(client, "carol", "not the password"), 401, "invalid_credentials")
    assert stored_tokens(app, carol.id) == []


def test_login_rejects_empty_and_oversized_fields_with_422(client: FlaskClient) -> None:
    assert_error(client.post(LOGIN, json={"username": "", "password": "x"}), 422)
    assert_error(client.post(LOGIN, json={"username": "alice", "password": ""}), 422)
    assert_error(client.post(LOGIN, json={"username": "a", "password": "x" * 1025}), 422)
    assert_error(client.post(LOGIN, json={"username": "alice"}), 422, "validation_error")


def test_login_rehashes_the_password_when_the_argon2_parameters_change(
    app: Flask, client: FlaskClient, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored_user(app, alice.id).password_hash
    assert f"t={app.config['ARGON2_TIME_COST']}," in before

    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", app.config["ARGON2_TIME_COST"] + 1)
    token = login_token(client, "alice")
    after = stored_user(app, alice.id).password_hash
    assert after != before
    assert f"t={app.config['ARGON2_TIME_COST']}," in after
    assert client.get(ME, headers=bearer(token)).status_code == 200

    # The new hash verifies, and an unchanged configuration does not rehash again.
    login_token(client, "alice")
    assert stored_user(app, alice.id).password_hash == after
    assert_error(login(client, "alice", "not the password"), 401, "invalid_credentials")

    monkeypatch.undo()
    login_token(client, "alice")
    assert f"t={app.config['ARGON2_TIME_COST']}," in stored_user(app, alice.id).password_hash


# --- logout ---------------------------------------------------------------------------


def test_logout_revokes_only_the_token_it_was_called_with(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    other = login_token(client, "alice")
    response = alice.post(LOGOUT)
    assert response.status_code == 204
    assert response.get_data() == b""

    assert_error(alice.get(ME), 401, "invalid_token")
    assert client.get(ME, headers=bearer(other)).status_code == 200
    assert len(stored_tokens(app, alice.id)) == 1


def test_logout_without_a_token_is_401(client: FlaskClient) -> None:
    assert_error(client.post(LOGOUT), 401, "unauthorized")


def test_logout_twice_with_the_same_token_is_401_invalid_token(alice: Member) -> None:
    assert alice.post(LOGOUT).status_code == 204
    assert_error(alice.post(LOGOUT), 401, "invalid_token")


# --- tokens ---------------------------------------------------------------------------


def test_create_token_answers_201_with_its_secret_once(app: Flask, alice: Member) -> None:
    response = alice.post(TOKENS, json={"name": "ci bot"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "ci bot"
    assert body["kind"] == "api"
    assert body["last_used_at"] is None
    assert body["token"].startswith("prly_")
    assert alice.client.get(ME, headers=bearer(body["token"])).get_json()["id"] == alice.id

    listed = alice.get(TOKENS).get_json()["tokens"]
    assert [t["id"] for t in listed][-1] == body["id"]
    for entry in listed:
        assert set(entry) == {"id", "name", "kind", "created_at", "last_used_at"}


def test_list_tokens_shows_only_your_own_tokens(alice: Member, bob: Member) -> None:
    alice.post(TOKENS, json={"name": "alice bot"})
    bob.post(TOKENS, json={"name": "bob bot"})
    mine = alice.get(TOKENS).get_json()["tokens"]
    assert [(t["name"], t["kind"]) for t in mine] == [("login", "login"), ("alice bot", "api")]


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 65}, {"name": "a\x00"}]
)
def test_create_token_rejects_a_bad_name_with_422(
    app: Flask, alice: Member, body: dict[str, Any]
) -> None:
    assert_error(alice.post(TOKENS, json=body), 422, "validation_error")
    assert len(stored_tokens(app, alice.id)) == 1


def test_tokens_need_authentication(client: FlaskClient) -> None:
    assert_error(client.get(TOKENS), 401, "unauthorized")
    assert_error(client.post(TOKENS, json={"name": "x"}), 401, "unauthorized")
    assert_error(client.delete(f"{TOKENS}/1"), 401, "unauthorized")


def test_revoke_token_deletes_it_and_its_secret_stops_working(app: Flask, alice: Member) -> None:
    created = alice.post(TOKENS, json={"name": "bot"}).get_json()
    response = alice.delete(f"{TOKENS}/{created['id']}")
    assert response.status_code == 204
    assert_error(alice.client.get(ME, headers=bearer(created["token"])), 401, "invalid_token")
    assert created["id"] not in [t.id for t in stored_tokens(app, alice.id)]
    assert alice.get(ME).status_code == 200


def test_revoke_another_users_token_is_404_and_leaves_it_working(
    app: Flask, alice: Member, bob: Member
) -> None:
    bobs = bob.post(TOKENS, json={"name": "bob bot"}).get_json()
    error = assert_error(alice.delete(f"{TOKENS}/{bobs['id']}"), 404, "not_found")
    assert error["details"] == {"token_id": bobs["id"]}
    assert bob.client.get(ME, headers=bearer(bobs["token"])).status_code == 200
    assert len(stored_tokens(app, bob.id)) == 2


def test_revoke_an_unknown_token_is_404(alice: Member) -> None:
    assert_error(alice.delete(f"{TOKENS}/999999"), 404, "not_found")
    assert_error(alice.delete(f"{TOKENS}/0"), 404, "not_found")


def test_revoking_the_current_token_ends_it(alice: Member) -> None:
    current = alice.get(TOKENS).get_json()["tokens"][0]
    assert alice.delete(f"{TOKENS}/{current['id']}").status_code == 204
    assert_error(alice.get(ME), 401, "invalid_token")


def test_tokens_are_stored_only_as_sha256_hashes(app: Flask, alice: Member) -> None:
    raws = [alice.token, alice.post(TOKENS, json={"name": "bot"}).get_json()["token"]]
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT * FROM api_tokens")).mappings().all()
    assert len(rows) == 2
    hashes = {row["token_hash"] for row in rows}
    assert hashes == {hashlib.sha256(raw.encode()).hexdigest() for raw in raws}
    for row in rows:
        for value in row.values():
            for raw in raws:
                assert raw not in str(value)
                assert raw.removeprefix("prly_") not in str(value)


def test_using_a_token_sets_its_last_used_at_and_the_users_last_seen_at(
    app: Flask, alice: Member
) -> None:
    created = alice.post(TOKENS, json={"name": "bot"}).get_json()
    [row] = [t for t in stored_tokens(app, alice.id) if t.id == created["id"]]
    assert row.last_used_at is None

    before = utcnow()
    assert alice.client.get(ME, headers=bearer(created["token"])).status_code == 200
    [row] = [t for t in stored_tokens(app, alice.id) if t.id == created["id"]]
    assert row.last_used_at is not None
    assert row.last_used_at >= before - timedelta(seconds=1)
    assert stored_user(app, alice.id).last_seen_at >= before - timedelta(seconds=1)
    listed = {t["id"]: t for t in alice.get(TOKENS).get_json()["tokens"]}
    assert listed[created["id"]]["last_used_at"] is not None


def test_last_used_at_is_written_at_most_once_per_touch_interval(app: Flask, alice: Member) -> None:
    alice.get(ME)
    [first] = stored_tokens(app, alice.id)
    alice.get(ME)
    [second] = stored_tokens(app, alice.id)
    assert second.last_used_at == first.last_used_at

    stale = utcnow() - timedelta(seconds=app.config["TOKEN_TOUCH_SECONDS"] + 5)
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(last_used_at=stale))
        db.session.commit()
    alice.get(ME)
    [third] = stored_tokens(app, alice.id)
    assert third.last_used_at is not None and third.last_used_at > stale + timedelta(seconds=5)


# --- the Authorization header ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Basic YWxpY2U6cGFzc3dvcmQ=", "Bearer", "Bearer ", "Bearer    ", "Token abc", "prly_abc"],
)
def test_malformed_authorization_header_is_401_invalid_authorization(
    client: FlaskClient, alice: Member, header: str
) -> None:
    assert_error(client.get(ME, headers={"Authorization": header}), 401, "invalid_authorization")


@pytest.mark.parametrize("token", ["prly_not-a-real-token", "x", "prly_" + "a" * 300])
def test_unknown_bearer_token_is_401_invalid_token(client: FlaskClient, token: str) -> None:
    assert_error(client.get(ME, headers=bearer(token)), 401, "invalid_token")


def test_bearer_scheme_is_case_insensitive(client: FlaskClient, alice: Member) -> None:
    response = client.get(ME, headers={"Authorization": f"bearer {alice.token}"})
    assert response.status_code == 200


def test_no_authorization_at_all_is_401_unauthorized(client: FlaskClient) -> None:
    assert_error(client.get(ME), 401, "unauthorized")


def test_a_deactivated_users_token_is_401_even_if_the_row_survived(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == alice.id).values(active=False))
        db.session.commit()
    assert_error(alice.get(ME), 401, "invalid_token")


# --- the web session cookie -------------------------------------------------------------


def test_session_cookie_id_authenticates_without_a_header(app: Flask, alice: Member) -> None:
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
        session["csrf"] = "the-csrf-token"
    csrf = {"X-CSRF-Token": "the-csrf-token"}
    assert web.get(ME).get_json()["id"] == alice.id
    created = web.post(TOKENS, json={"name": "from the web"}, headers=csrf)
    assert created.status_code == 201
    names = [t["name"] for t in web.get(TOKENS).get_json()["tokens"]]
    assert names == ["login", "session", "from the web"]
    assert web.delete(f"{TOKENS}/{created.get_json()['id']}", headers=csrf).status_code == 204


def test_session_cookie_logout_revokes_the_session(app: Flask, alice: Member) -> None:
    web = app.test_client()
    other = login_token(web, "alice")
    with web.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
        session["csrf"] = "the-csrf-token"
    assert_error(web.post(LOGOUT), 403, "csrf_failed")
    assert web.post(LOGOUT, headers={"X-CSRF-Token": "the-csrf-token"}).status_code == 204
    with web.session_transaction() as session:
        assert SESSION_KEY not in session
        assert "csrf" not in session
    assert_error(web.get(ME), 401, "unauthorized")
    with app.app_context():
        kinds = db.session.scalars(sa.select(ApiToken.kind).where(ApiToken.user_id == alice.id))
        assert "session" not in list(kinds)
    assert web.get(ME, headers=bearer(other)).status_code == 200


def test_session_cookie_with_a_revoked_session_is_dropped_from_the_session(
    app: Flask, alice: Member
) -> None:
    web = app.test_client()
    session_id = web_session_id(app, alice.id)
    with web.session_transaction() as session:
        session[SESSION_KEY] = session_id
    with app.app_context():
        token = db.session.scalar(
            sa.select(ApiToken).where(
                ApiToken.token_hash == hashlib.sha256(session_id.encode()).hexdigest()
            )
        )
        assert token is not None
        token_id = token.id
    assert alice.delete(f"/api/v1/auth/sessions/{token_id}").status_code == 204
    assert_error(web.get(ME), 401, "unauthorized")
    with web.session_transaction() as session:
        assert SESSION_KEY not in session


def test_logout_with_a_header_leaves_the_cookie_session_alone(
    app: Flask, alice: Member, bob: Member
) -> None:
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    assert web.post(LOGOUT, headers=bearer(bob.token)).status_code == 204
    assert web.get(ME).get_json()["id"] == alice.id


def test_a_header_takes_precedence_over_the_session_cookie(
    app: Flask, alice: Member, bob: Member
) -> None:
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = web_session_id(app, alice.id)
    assert web.get(ME, headers=bearer(bob.token)).get_json()["id"] == bob.id
    assert_error(web.get(ME, headers={"Authorization": "Basic x"}), 401, "invalid_authorization")


def test_an_api_token_in_the_cookie_is_no_session(app: Flask, alice: Member) -> None:
    web = app.test_client()
    with web.session_transaction() as session:
        session[SESSION_KEY] = alice.token
    assert_error(web.get(ME), 401, "unauthorized")


def test_a_session_id_is_no_bearer_token(app: Flask, client: FlaskClient, alice: Member) -> None:
    session_id = web_session_id(app, alice.id)
    assert_error(client.get(ME, headers=bearer(session_id)), 401, "invalid_token")


@pytest.mark.parametrize("username", ["nul\x00name", "has space", "\u202ealice", "x" * 256])
def test_login_with_a_name_no_user_can_have_is_401(
    client: FlaskClient, alice: Member, username: str
) -> None:
    assert_error(login(client, username), 401, "invalid_credentials")
