"""Two-factor authentication: enrolment, codes at login, replay, recovery codes, the
administrators' requirement, and API tokens left alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from parley.extensions import db
from parley.models import ApiToken, RecoveryCode, User
from support import PASSWORD, Member, another_app, assert_error, bearer, fullwidth, login

API = "/api/v1"
TWO_FACTOR = f"{API}/users/me/2fa"
CONFIRM = f"{TWO_FACTOR}/confirm"
RECOVERY = f"{TWO_FACTOR}/recovery-codes"
LOGIN = f"{API}/auth/login"
SESSION = f"{API}/auth/session"
ME = f"{API}/users/me"
ROOMS = f"{API}/rooms"


def start(member: Member) -> dict[str, Any]:
    response = member.post(TWO_FACTOR, json={"password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def enrol(member: Member) -> tuple[pyotp.TOTP, list[str]]:
    """Turn 2FA on for the member; answers their authenticator and recovery codes."""
    totp = pyotp.TOTP(start(member)["secret"])
    response = member.post(CONFIRM, json={"code": totp.now()})
    assert response.status_code == 200, response.get_json()
    codes: list[str] = response.get_json()["recovery_codes"]
    return totp, codes


def later(app: Flask, user_id: int) -> None:
    """As if a minute and a half had passed since the last code was used: its step is
    behind us, so the authenticator's next code is a new one."""
    with app.app_context():
        db.session.execute(
            sa.update(User)
            .where(User.id == user_id, User.totp_last_step.is_not(None))
            .values(totp_last_step=User.totp_last_step - 3)
        )
        db.session.commit()


def code_login(client: Any, username: str, code: str | None = None) -> Any:
    body = {"username": username, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    return client.post(LOGIN, json=body)


def token_count(app: Flask, user_id: int) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id)
        return db.session.scalar(query) or 0


# --- enrolment ----------------------------------------------------------------------------


def test_enrolment_answers_a_secret_its_otpauth_uri_and_a_qr_svg(alice: Member) -> None:
    body = start(alice)
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert body["otpauth_uri"].startswith("otpauth://totp/Parley:alice?")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].rstrip().endswith("</svg>")
    status = alice.get(TWO_FACTOR).get_json()
    assert status == {
        "enabled": False,
        "pending": True,
        "required": False,
        "recovery_codes_left": 0,
    }
    # Not on until confirmed: logging in needs no code yet.
    assert login(alice.client, "alice").status_code == 200


def test_enrolment_needs_the_password(app: Flask, alice: Member) -> None:
    assert_error(alice.post(TWO_FACTOR, json={"password": "wrong horse"}), 422, "wrong_password")
    assert alice.get(TWO_FACTOR).get_json()["pending"] is False


def test_confirm_with_a_wrong_code_is_refused_and_leaves_2fa_off(alice: Member) -> None:
    totp = pyotp.TOTP(start(alice)["secret"])
    wrong = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    assert_error(alice.post(CONFIRM, json={"code": wrong}), 422, "totp_invalid")
    assert alice.get(TWO_FACTOR).get_json()["enabled"] is False
    assert login(alice.client, "alice").status_code == 200


def test_confirm_before_enrolment_is_409(alice: Member) -> None:
    assert_error(alice.post(CONFIRM, json={"code": "123456"}), 409, "totp_not_started")


def test_confirm_turns_2fa_on_with_ten_recovery_codes_stored_only_as_hashes(
    app: Flask, alice: Member
) -> None:
    _, codes = enrol(alice)
    assert len(codes) == len(set(codes)) == 10
    assert alice.get(TWO_FACTOR).get_json() == {
        "enabled": True,
        "pending": False,
        "required": False,
        "recovery_codes_left": 10,
    }
    with app.app_context():
        stored = list(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    for code in codes:
        assert all(code.replace("-", "") not in row for row in stored)
    assert_error(alice.post(TWO_FACTOR, json={"password": PASSWORD}), 409, "totp_already_enabled")


# --- logging in ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", [LOGIN, SESSION])
def test_login_without_a_code_is_401_totp_required_and_issues_nothing(
    app: Flask, alice: Member, route: str
) -> None:
    enrol(alice)
    before = token_count(app, alice.id)
    response = app.test_client().post(route, json={"username": "alice", "password": PASSWORD})
    assert_error(response, 401, "totp_required")
    assert token_count(app, alice.id) == before


@pytest.mark.parametrize("route", [LOGIN, SESSION])
def test_login_with_a_wrong_code_is_401_totp_invalid(app: Flask, alice: Member, route: str) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    wrong = str((int(totp.now()) + 500_000) % 1_000_000).zfill(6)
    body = {"username": "alice", "password": PASSWORD, "code": wrong}
    assert_error(app.test_client().post(route, json=body), 401, "totp_invalid")


def test_a_wrong_password_with_a_good_code_is_still_invalid_credentials(
    app: Flask, alice: Member
) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    body = {"username": "alice", "password": "wrong horse", "code": totp.now()}
    assert_error(alice.client.post(LOGIN, json=body), 401, "invalid_credentials")


def test_login_with_the_current_code_issues_a_token(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    response = code_login(client, "alice", totp.now())
    assert response.status_code == 200, response.get_json()
    assert client.get(ME, headers=bearer(response.get_json()["token"])).status_code == 200


def test_web_session_login_with_the_current_code_sets_the_cookie(app: Flask, alice: Member) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    web = app.test_client()
    body = {"username": "alice", "password": PASSWORD, "code": totp.now()}
    assert web.post(SESSION, json=body).status_code == 200
    assert web.get(ME).get_json()["id"] == alice.id


def test_a_totp_code_cannot_be_replayed_in_its_window(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    code = totp.now()
    assert code_login(client, "alice", code).status_code == 200
    assert_error(code_login(client, "alice", code), 401, "totp_invalid")
    # Nor a code of an earlier step still inside the drift window.
    assert_error(code_login(client, "alice", totp.at(time.time() - 30)), 401, "totp_invalid")


def test_the_confirming_code_cannot_log_in_again(client: FlaskClient, alice: Member) -> None:
    totp = pyotp.TOTP(start(alice)["secret"])
    code = totp.now()
    assert alice.post(CONFIRM, json={"code": code}).status_code == 200
    assert_error(code_login(client, "alice", code), 401, "totp_invalid")


def test_a_recovery_code_logs_in_once(client: FlaskClient, alice: Member) -> None:
    _, codes = enrol(alice)
    first, second = codes[0], codes[1]
    assert code_login(client, "alice", first).status_code == 200
    assert_error(code_login(client, "alice", first), 401, "totp_invalid")
    # Shown with dashes in lower case; typed without them, in capitals, it still works.
    assert code_login(client, "alice", second.replace("-", "").upper()).status_code == 200
    assert alice.get(TWO_FACTOR).get_json()["recovery_codes_left"] == 8


def test_api_tokens_are_unaffected_by_2fa(app: Flask, client: FlaskClient, alice: Member) -> None:
    bot = alice.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()["token"]
    enrol(alice)
    assert client.get(ME, headers=bearer(bot)).status_code == 200
    assert client.get(ME, headers=bearer(alice.token)).status_code == 200
    assert (
        client.post(ROOMS, json={"name": "bots", "kind": "public"}, headers=bearer(bot)).status_code
        == 201
    )


def test_failed_codes_are_limited_per_account_across_addresses(app: Flask, alice: Member) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    settings = {"PARLEY_RATE_LIMITS": True, "PARLEY_LOGIN_RATE_LIMIT": "3/minute"}
    with another_app(app, **settings) as limited:
        wrong = str((int(totp.now()) + 500_000) % 1_000_000).zfill(6)
        for n in range(3):
            web = limited.test_client()
            environ = {"REMOTE_ADDR": f"192.0.2.{n + 1}"}
            body = {"username": "alice", "password": PASSWORD, "code": wrong}
            assert_error(web.post(LOGIN, json=body, environ_base=environ), 401, "totp_invalid")
        fresh = limited.test_client()
        body = {"username": "alice", "password": PASSWORD, "code": totp.now()}
        response = fresh.post(LOGIN, json=body, environ_base={"REMOTE_ADDR": "192.0.2.9"})
        error = assert_error(response, 429, "rate_limited")
        assert error["details"]["retry_after"] > 0


# --- turning it off, new recovery codes ---------------------------------------------------


def test_disable_needs_the_password_and_a_code(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    totp, _ = enrol(alice)
    later(app, alice.id)
    wrong_password = {"password": "wrong horse", "code": totp.now()}
    assert_error(alice.delete(TWO_FACTOR, json=wrong_password), 422, "wrong_password")
    assert_error(alice.delete(TWO_FACTOR, json={"password": PASSWORD, "code": "000000x"}), 422)
    assert alice.get(TWO_FACTOR).get_json()["enabled"] is True
    assert (
        alice.delete(TWO_FACTOR, json={"password": PASSWORD, "code": totp.now()}).status_code == 204
    )
    assert alice.get(TWO_FACTOR).get_json() == {
        "enabled": False,
        "pending": False,
        "required": False,
        "recovery_codes_left": 0,
    }
    assert code_login(client, "alice").status_code == 200


def test_new_recovery_codes_replace_the_old_ones(
    app: Flask, client: FlaskClient, alice: Member
) -> None:
    totp, old = enrol(alice)
    later(app, alice.id)
    response = alice.post(RECOVERY, json={"code": totp.now()})
    assert response.status_code == 200
    new = response.get_json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert_error(code_login(client, "alice", old[0]), 401, "totp_invalid")
    assert code_login(client, "alice", new[0]).status_code == 200


def test_new_recovery_codes_need_a_valid_code(alice: Member) -> None:
    enrol(alice)
    assert_error(alice.post(RECOVERY, json={"code": "999999"}), 422, "totp_invalid")
    assert_error(alice.post(RECOVERY, json={"code": "not-a-code"}), 422, "totp_invalid")


def test_the_2fa_routes_need_a_login(client: FlaskClient) -> None:
    assert_error(client.get(TWO_FACTOR), 401, "unauthorized")
    assert_error(client.post(TWO_FACTOR, json={"password": PASSWORD}), 401, "unauthorized")
    assert_error(client.post(CONFIRM, json={"code": "123456"}), 401, "unauthorized")
    assert_error(client.post(RECOVERY, json={"code": "123456"}), 401, "unauthorized")
    body = {"password": PASSWORD, "code": "123456"}
    assert_error(client.delete(TWO_FACTOR, json=body), 401, "unauthorized")


def test_one_users_2fa_leaves_another_alone(
    client: FlaskClient, alice: Member, bob: Member
) -> None:
    enrol(alice)
    assert bob.get(TWO_FACTOR).get_json()["enabled"] is False
    assert code_login(client, "bob").status_code == 200


# --- administrators -----------------------------------------------------------------------


@pytest.fixture
def admin_2fa_required(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "PARLEY_REQUIRE_ADMIN_2FA", True)


def test_an_admin_without_2fa_may_only_enrol_when_it_is_required(
    app: Flask, client: FlaskClient, make_user: Callable[..., Member], admin_2fa_required: None
) -> None:
    root = make_user("root", role="Administrator")
    # The registration's login token is an interactive login like any other.
    assert_error(root.get(ROOMS), 403, "admin_2fa_required")
    assert_error(root.post(f"{API}/auth/tokens", json={"name": "x"}), 403, "admin_2fa_required")
    assert root.get(ME).status_code == 200
    assert root.get(TWO_FACTOR).get_json()["required"] is True
    totp, _ = enrol(root)
    assert root.get(ROOMS).status_code == 200
    later(app, root.id)
    assert_error(code_login(client, "root"), 401, "totp_required")
    assert code_login(client, "root", totp.now()).status_code == 200


def test_an_admins_hand_made_api_token_is_unaffected_by_the_requirement(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., Member],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = make_user("root", role="Administrator")
    bot = root.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()["token"]
    monkeypatch.setitem(app.config, "PARLEY_REQUIRE_ADMIN_2FA", True)
    assert client.get(ROOMS, headers=bearer(bot)).status_code == 200
    assert_error(root.get(ROOMS), 403, "admin_2fa_required")


def test_members_are_not_required_to_enrol(alice: Member, admin_2fa_required: None) -> None:
    assert alice.get(ROOMS).status_code == 200
    assert alice.get(TWO_FACTOR).get_json()["required"] is False


def test_the_requirement_is_off_by_default(make_user: Callable[..., Member]) -> None:
    root = make_user("root", role="Administrator")
    assert root.get(ROOMS).status_code == 200


def test_parley_reset_2fa_turns_it_off_and_ends_the_users_logins(
    app: Flask, client: FlaskClient, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.cli import cli

    enrol(alice)
    bot = alice.post(f"{API}/auth/tokens", json={"name": "bot"}).get_json()["token"]
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    result = app.test_cli_runner().invoke(cli, ["reset-2fa", "alice"])
    assert result.exit_code == 0, result.output
    assert "off for alice" in result.output
    assert_error(alice.get(ME), 401, "invalid_token")
    assert client.get(ME, headers=bearer(bot)).status_code == 200
    assert code_login(client, "alice").status_code == 200
    missing = app.test_cli_runner().invoke(cli, ["reset-2fa", "nobody"])
    assert missing.exit_code != 0 and "No user named" in missing.output


@pytest.mark.parametrize(
    "code",
    [
        "\u0661\u0662\u0663\u0664\u0665\u0666",
        fullwidth("123456"),
        "12345\x00",
        " " * 6,
        "a" * 64,
        "0" * 16,
    ],
)
def test_odd_codes_are_refused_cleanly(
    app: Flask, client: FlaskClient, alice: Member, code: str
) -> None:
    totp = pyotp.TOTP(start(alice)["secret"])
    assert_error(alice.post(CONFIRM, json={"code": code}), 422, "totp_invalid")
    assert alice.post(CONFIRM, json={"code": totp.now()}).status_code == 200
    assert_error(code_login(client, "alice", code), 401, "totp_invalid")
    assert_error(alice.post(RECOVERY, json={"code": code}), 422, "totp_invalid")


@pytest.mark.parametrize(("raw", "expected"), [("on", True), ("off", False), ("", None)])
def test_parley_require_admin_2fa_is_read_from_the_environment(
    tmp_path: Path, raw: str, expected: bool | None
) -> None:
    from parley.config import ConfigError, load_config

    if expected is None:
        with pytest.raises(ConfigError):
            load_config("testing", str(tmp_path), {"PARLEY_REQUIRE_ADMIN_2FA": raw})
        return
    settings = load_config("testing", str(tmp_path), {"PARLEY_REQUIRE_ADMIN_2FA": raw})
    assert settings["PARLEY_REQUIRE_ADMIN_2FA"] is expected
    assert load_config("testing", str(tmp_path), {})["PARLEY_REQUIRE_ADMIN_2FA"] is False
