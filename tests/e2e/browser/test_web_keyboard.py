"""The page by keyboard alone: the skip link goes to what each screen has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import Browser, expect
from servers import LiveServer

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


def test_the_skip_link_goes_to_the_login_form_then_to_the_message_box(
    browser: Browser, web_server: LiveServer, person: MakePerson, room_of: MakeRoom
) -> None:
    context = browser.new_context(base_url=web_server.url)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("#login-username")).to_be_focused()
        page.keyboard.press("Shift+Tab")  # the "Log in" tab
        page.keyboard.press("Shift+Tab")
        skip = page.locator("#skip-link")
        expect(skip).to_be_focused()
        expect(skip).to_have_text("Skip to the login form")
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("#login-username")).to_be_focused()
    finally:
        context.close()

    ann = person("ann")
    room = room_of(ann, name="skipping")
    ann.open_room(room)
    page = ann.page
    skip = page.locator("#skip-link")
    skip.focus()
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to message box")
    page.keyboard.press("Enter")
    expect(ann.composer).to_be_focused()
    assert page.url.endswith(f"#/room/{room['id']}")  # the route stays where it was
