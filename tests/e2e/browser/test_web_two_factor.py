"""Two-factor authentication in the page: enrol with the QR code, log out, log in with a
code the test computes from the secret, the way an authenticator app would."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from servers import BIN, SHARED_SERVER_ENV, LiveServer, start_server

PASSPHRASE = "plum violet harbour lantern 42"


def log_in(page: Page, username: str) -> None:
    login = page.locator("#login-form")
    login.get_by_label("Username").fill(username)
    login.get_by_label("Password").fill(PASSPHRASE)
    login.get_by_role("button", name="Log in").click()


def test_enrol_in_the_page_then_log_in_with_a_code(
    browser: Browser, web_server: LiveServer, screenshot: Callable[..., None]
) -> None:
    username = f"carol{os.getpid()}"
    context = browser.new_context(base_url=web_server.url, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.get_by_role("tab", name="Create account").click()
    register = page.locator("#register-form")
    register.get_by_label("Username").fill(username)
    register.get_by_label("Password").fill(PASSPHRASE)
    register.get_by_role("button", name="Create account").click()
    expect(page.locator("#me-name")).to_have_text(username)

    page.get_by_role("button", name="profile and account").click()
    dialog = page.locator("#settings-dialog")
    expect(dialog.locator("#twofa-status")).to_contain_text("Off")
    expect(dialog.locator("#sessions-list")).to_contain_text("(this device)")
    dialog.get_by_label("Your password").fill(PASSPHRASE)
    dialog.get_by_role("button", name="Set up").click()
    qr = dialog.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    # The SVG made on the server decodes to an image in the page: nothing fetched.
    page.wait_for_function("() => document.getElementById('twofa-qr').naturalWidth > 0")
    secret = dialog.locator("#twofa-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    dialog.get_by_label("Code from the app", exact=True).fill(totp.now())
    dialog.get_by_role("button", name="Turn on").click()
    expect(dialog.locator("#twofa-recovery-codes li")).to_have_count(10)
    expect(dialog.locator("#twofa-status")).to_have_text("On. 10 recovery codes left.")
    recovery = dialog.locator("#twofa-recovery-codes li").first.inner_text()
    screenshot(page, "two-factor-enrolled")
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Log out").click()
    log_in(page, username)
    expect(page.locator("#login-error")).to_contain_text("code from your authenticator app")
    code_field = page.locator("#login-form").get_by_label("Two-factor code")
    expect(code_field).to_be_focused()
    code_field.fill("000000" if totp.now() != "000000" else "111111")
    page.locator("#login-form").get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_contain_text("wrong or was already used")
    # The next step's code: the one that turned 2FA on cannot be used again.
    code_field.fill(totp.at(time.time() + 30))
    page.locator("#login-form").get_by_role("button", name="Log in").click()
    expect(page.locator("#me-name")).to_have_text(username)
    page.reload()
    expect(page.locator("#me-name")).to_have_text(username)

    page.get_by_role("button", name="Log out").click()
    log_in(page, username)
    code_field.fill(recovery)
    page.locator("#login-form").get_by_role("button", name="Log in").click()
    expect(page.locator("#me-name")).to_have_text(username)
    assert errors == []
    context.close()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that requires administrators to use two-factor authentication."""
    env = {**SHARED_SERVER_ENV, "PARLEY_REQUIRE_ADMIN_2FA": "on"}
    yield from start_server(tmp_path_factory.mktemp("strict"), database_url=None, extra_env=env)


def test_an_admin_who_must_enrol_is_shown_enrolment_first(
    browser: Browser, strict_server: LiveServer
) -> None:
    username = f"root{os.getpid()}"
    subprocess.run(
        [BIN / "parley", "create-admin", "--username", username, "--password", PASSPHRASE],
        env=strict_server.env,
        check=True,
        capture_output=True,
    )
    context = browser.new_context(base_url=strict_server.url)
    page = context.new_page()
    page.goto("/")
    log_in(page, username)
    dialog = page.get_by_role("dialog", name="Settings")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#settings-notice")).to_contain_text("requires administrators")
    expect(page.locator("#app-screen")).to_be_hidden()
    dialog.get_by_label("Your password").fill(PASSPHRASE)
    dialog.get_by_role("button", name="Set up").click()
    secret = dialog.locator("#twofa-secret")
    expect(secret).not_to_be_empty()
    code = pyotp.TOTP(secret.inner_text().strip()).now()
    dialog.get_by_label("Code from the app", exact=True).fill(code)
    dialog.get_by_role("button", name="Turn on").click()
    expect(dialog.locator("#twofa-recovery-codes li")).to_have_count(10)
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#me-name")).to_have_text(username)
    context.close()
