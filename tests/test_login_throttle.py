"""Password checks limited per account, from any address, without locking the owner out.

The session app runs with limits off (the testing config), so each test builds a second
app with them on over the same database (`support.another_app`); its per-address login
limit is set high, so what refuses here is the per-account one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import storage_from_string

from databases import unavailable
from parley.devices import COOKIE
from parley.login_throttle import account_subject, login_throttle
from support import PASSWORD, Member, another_app, assert_error, stored_user

LOGIN = "/api/v1/auth/login"
SESSION = "/api/v1/auth/session"
ME = "/api/v1/users/me"
WRONG = "not the password at all"
REDIS_URL = "redis://127.0.0.1:6379/15"
_addresses = count(1)


def throttled_app(app: Flask, **settings: Any) -> Any:
    return another_app(
        app,
        PARLEY_RATE_LIMITS=True,
        PARLEY_LOGIN_RATE_LIMIT="1000/minute",
        PARLEY_TRUSTED_PROXIES=1,
        **settings,
    )


@pytest.fixture
def limited(app: Flask) -> Iterator[Flask]:
    with throttled_app(app) as limited:
        yield limited


def new_address() -> str:
    """Another client address each time, as a botnet would have."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def login(client: FlaskClient, password: str, path: str = LOGIN, username: str = "alice") -> Any:
    return client.post(
        path,
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": new_address()},
    )


def assert_throttled(response: Any) -> float:
    error = assert_error(response, 429, "rate_limited")
    assert error["details"]["scope"] == "account"
    wait = float(error["details"]["retry_after"])
    assert wait > 0
    assert int(response.headers["Retry-After"]) >= wait
    return wait


def test_the_sixth_check_for_one_account_waits_whatever_the_address(
    limited: Flask, alice: Member
) -> None:
    client = limited.test_client()
    for _ in range(5):
        assert_error(login(client, WRONG), 401, "invalid_credentials")
    wait = assert_throttled(login(client, WRONG))
    assert 55 < wait <= 60
    # Even the right password, from yet another address: the guessing has to wait.
    assert_throttled(login(client, PASSWORD))
    assert_throttled(login(limited.test_client(), PASSWORD))


def test_token_login_and_web_session_share_the_accounts_count(
    limited: Flask, alice: Member
) -> None:
    client = limited.test_client()
    for path in (LOGIN, SESSION, LOGIN, SESSION, LOGIN):
        assert_error(login(client, WRONG, path), 401, "invalid_credentials")
    assert_throttled(login(client, PASSWORD, SESSION))


def test_an_unknown_username_is_throttled_like_a_real_one(limited: Flask, alice: Member) -> None:
    client = limited.test_client()
    for _ in range(5):
        assert_error(login(client, WRONG, username="nobody"), 401, "invalid_credentials")
    assert_throttled(login(client, WRONG, username="nobody"))
    # Another account is untouched.
    assert login(client, PASSWORD).status_code == 200


def test_the_delay_grows_and_early_checks_do_not_push_it(app: Flask, alice: Member) -> None:
    with throttled_app(
        app, PARLEY_LOGIN_ACCOUNT_LIMIT="2/15 minutes", PARLEY_LOGIN_DELAY_SECONDS=1
    ) as limited:
        client = limited.test_client()
        assert_error(login(client, WRONG), 401)
        assert_error(login(client, WRONG), 401)
        first = assert_throttled(login(client, WRONG))
        assert first <= 1
        time.sleep(first + 0.05)
        assert_error(login(client, WRONG), 401)
        for _ in range(5):
            second = assert_throttled(login(client, WRONG))
        assert first < second <= 2
        time.sleep(second + 0.05)
        assert_error(login(client, WRONG), 401)
        third = assert_throttled(login(client, WRONG))
        assert second < third <= 4 and third > 2


def test_a_right_password_clears_the_count(app: Flask, alice: Member) -> None:
    with throttled_app(app, PARLEY_LOGIN_ACCOUNT_LIMIT="3/15 minutes") as limited:
        client = limited.test_client()
        for _ in range(2):
            assert_error(login(client, WRONG), 401)
        assert login(client, PASSWORD).status_code == 200
        for _ in range(2):
            assert_error(login(client, WRONG), 401)
        assert login(client, PASSWORD).status_code == 200


def test_a_known_device_logs_in_while_the_account_waits_and_clears_it(
    limited: Flask, alice: Member
) -> None:
    owner = limited.test_client()
    assert login(owner, PASSWORD, SESSION).status_code == 200
    assert owner.get_cookie(COOKIE, path="/api/") is not None

    attacker = limited.test_client()
    for _ in range(5):
        assert_error(login(attacker, WRONG), 401)
    assert_throttled(login(attacker, PASSWORD))

    # The owner's browser is not locked out by the guessing, and its login clears it.
    assert login(owner, PASSWORD, SESSION).status_code == 200
    assert_error(login(attacker, WRONG), 401, "invalid_credentials")


def test_the_browser_that_registered_is_a_known_device(limited: Flask) -> None:
    browser = limited.test_client()
    response = browser.post(
        "/api/v1/auth/session/register", json={"username": "dora", "password": PASSWORD}
    )
    assert response.status_code == 201, response.get_json()
    attacker = limited.test_client()
    for _ in range(5):
        assert_error(login(attacker, WRONG, username="dora"), 401)
    assert_throttled(login(attacker, PASSWORD, username="dora"))
    assert login(browser, PASSWORD, SESSION, username="dora").status_code == 200


def test_a_known_devices_guesses_count_against_that_device_alone(
    limited: Flask, alice: Member
) -> None:
    device = limited.test_client()
    assert login(device, PASSWORD).status_code == 200
    for _ in range(5):
        assert_error(login(device, WRONG), 401)
    assert_throttled(login(device, WRONG))
    # The account itself is not held back by that device's guesses.
    assert login(limited.test_client(), PASSWORD).status_code == 200


def test_a_device_cookie_knows_only_the_users_who_logged_in_with_it(
    limited: Flask, alice: Member, bob: Member
) -> None:
    device = limited.test_client()
    assert login(device, PASSWORD, username="bob").status_code == 200
    attacker = limited.test_client()
    for _ in range(5):
        assert_error(login(attacker, WRONG), 401)
    # bob's device is a stranger to alice's account.
    assert_throttled(login(device, PASSWORD))


def test_a_forged_device_cookie_counts_as_no_device(limited: Flask, alice: Member) -> None:
    owner = limited.test_client()
    assert login(owner, PASSWORD).status_code == 200
    cookie = owner.get_cookie(COOKIE, path="/api/")
    assert cookie is not None
    forged = limited.test_client()
    forged.set_cookie(COOKIE, cookie.value[:-3] + "AAA", path="/api/")
    for _ in range(5):
        assert_error(login(forged, WRONG), 401)
    assert_throttled(login(forged, PASSWORD))


def test_old_password_checks_count_against_the_account(
    app: Flask, limited: Flask, alice: Member
) -> None:
    before = stored_user(app, alice.id).password_hash
    client = limited.test_client()

    def change(old: str) -> Any:
        return client.patch(
            ME,
            json={"password": "a brand new passphrase", "old_password": old},
            headers={**alice.headers, "X-Forwarded-For": new_address()},
        )

    for _ in range(5):
        assert_error(change(WRONG), 422, "wrong_password")
    assert_throttled(change(WRONG))
    assert_throttled(change(PASSWORD))
    assert stored_user(app, alice.id).password_hash == before
    # And logins wait the same.
    assert_throttled(login(client, PASSWORD))


def test_with_rate_limits_off_there_is_no_account_limit(client: FlaskClient, alice: Member) -> None:
    for _ in range(8):
        assert_error(login(client, WRONG), 401, "invalid_credentials")
    assert login(client, PASSWORD).status_code == 200


@pytest.fixture
def redis_url() -> str:
    if not storage_from_string(REDIS_URL).check():
        unavailable(f"No Redis answers at {REDIS_URL}; start one to test shared counters")
    return REDIS_URL


def test_processes_on_one_redis_share_the_accounts_count(
    app: Flask, alice: Member, redis_url: str
) -> None:
    with throttled_app(app, PARLEY_RATE_LIMIT_STORAGE=redis_url) as first:
        with first.app_context():
            login_throttle().passed(account_subject("alice"))
        with throttled_app(app, PARLEY_RATE_LIMIT_STORAGE=redis_url) as second:
            for _ in range(3):
                assert_error(login(first.test_client(), WRONG), 401)
            for _ in range(2):
                assert_error(login(second.test_client(), WRONG), 401)
            wait = assert_throttled(login(first.test_client(), PASSWORD))
            assert 55 < wait <= 60
            assert_throttled(login(second.test_client(), PASSWORD))
            with second.app_context():
                login_throttle().passed(account_subject("alice"))


def test_a_throttle_whose_storage_is_unreachable_refuses_the_login_with_a_503() -> None:
    """Password guessing is not let through while Redis restarts: the client is told to
    try again shortly."""
    import socket

    from parley.errors import Unavailable
    from parley.login_throttle import LoginThrottle

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    throttle = LoginThrottle(f"redis://127.0.0.1:{port}/0", True, "5/minute", 1.0, 30.0)
    with pytest.raises(Unavailable) as refused:
        throttle.begin(account_subject("alice"))
    assert refused.value.status == 503 and refused.value.code == "unavailable"
    throttle.passed(account_subject("alice"))  # a right password is not failed for it
