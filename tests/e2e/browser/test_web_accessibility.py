"""Every existing view of the page, at a desktop's size and a phone's: axe-core (from npm)
finds no violation of any impact, in the light theme and the dark one
(views.check_view, which also saves a screenshot of each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from people import Person
from playwright.sync_api import Browser, ViewportSize, expect
from servers import LiveServer
from views import check_view

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]

SIZES = pytest.mark.parametrize(
    ("size", "suffix"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 390, "height": 844}, "phone")],
    ids=["desktop", "phone"],
)


@SIZES
def test_the_login_and_register_screens_have_no_accessibility_violations(
    browser: Browser, web_server: LiveServer, size: dict[str, int], suffix: str
) -> None:
    viewport: ViewportSize = {"width": size["width"], "height": size["height"]}
    context = browser.new_context(base_url=web_server.url, viewport=viewport)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#login-form")).to_be_visible()
        check_view(page, f"login-{suffix}")
        page.get_by_role("tab", name="Create account").click()
        expect(page.locator("#register-form")).to_be_visible()
        page.locator("#register-password").fill("password1234")
        expect(page.locator("#register-password-meter")).to_be_visible()
        check_view(page, f"register-{suffix}")
    finally:
        context.close()


@SIZES
def test_the_room_directory_and_dialogs_have_no_accessibility_violations(
    person: MakePerson, room_of: MakeRoom, size: dict[str, int], suffix: str
) -> None:
    ann, bob = person("ann", **size), person("bob")
    page = ann.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome to Parley")).to_be_visible()
    check_view(page, f"empty-{suffix}")

    room = room_of(ann, bob, name="a11y")
    ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "Hello *all*"})
    ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "and again"})
    bob.api.call(
        "POST",
        f"/rooms/{room['id']}/messages",
        201,
        json={"body": "`code` and a list:\n\n- one\n- two\n\n> a quote"},
    )
    ann.open_room(room)
    expect(ann.message("a quote")).to_be_visible()
    check_view(page, f"room-{suffix}")

    if suffix == "phone":
        page.get_by_role("button", name="Show rooms").click()
        expect(page.locator("#sidebar")).to_be_in_viewport()
        check_view(page, "sidebar-phone")
        page.keyboard.press("Escape")

    ann.message("Hello").hover()
    ann.message("Hello").get_by_role("button", name="Delete message").click()
    expect(page.get_by_role("dialog", name="Delete this message?")).to_be_visible()
    check_view(page, f"confirm-dialog-{suffix}")
    page.keyboard.press("Escape")

    page.get_by_role("button", name="your profile and account").click()
    expect(page.locator("#settings-dialog")).to_be_visible()
    expect(page.locator("#twofa-status")).not_to_be_empty()
    expect(page.locator("#sessions-list li")).not_to_have_count(0)
    check_view(page, f"settings-dialog-{suffix}")
    page.keyboard.press("Escape")

    if suffix == "phone":
        page.get_by_role("button", name="Show rooms").click()
    page.get_by_role("button", name="Create a room").click()
    expect(page.get_by_role("dialog", name="Create a room")).to_be_visible()
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-error")).not_to_be_empty()
    check_view(page, f"create-room-dialog-{suffix}")
    page.keyboard.press("Escape")

    # The sidebar is still open on a phone.
    page.get_by_role("button", name="Start a direct message").click()
    expect(page.get_by_role("dialog", name="Start a direct message")).to_be_visible()
    expect(page.locator("#dm-results li")).not_to_have_count(0)
    check_view(page, f"dm-dialog-{suffix}")
    page.keyboard.press("Escape")

    ann.open("#/directory")
    expect(page.locator("#directory-list li")).not_to_have_count(0)
    check_view(page, f"directory-{suffix}")
