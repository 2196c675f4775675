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
    # Opening a room puts the caret in its composer once its messages are in.
    expect(ann.composer).to_be_focused()
    skip = page.locator("#skip-link")
    skip.focus()
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to message box")
    page.keyboard.press("Enter")
    expect(ann.composer).to_be_focused()
    assert page.url.endswith(f"#/room/{room['id']}")  # the route stays where it was


TABBABLE_IN_LIST = """list => [...list.querySelectorAll("*")].filter(
  el => el.tabIndex >= 0 && el.getClientRects().length).length"""


def test_the_message_list_is_one_tab_stop_with_arrow_keys_and_a_menu_by_keyboard(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name="keys")
    for body in ("one", "two", "three with [a link](https://example.org/)"):
        ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": body})
    bob.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "four"})
    ann.open_room(room)
    page = ann.page
    expect(ann.message("four")).to_be_visible()
    assert page.locator("#message-list").evaluate(TABBABLE_IN_LIST) == 1
    focused = page.locator("#message-list li.message:focus")

    expect(ann.composer).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(focused).to_contain_text("four")  # the newest holds the tab stop
    page.keyboard.press("ArrowUp")
    expect(focused).to_contain_text("three")
    page.keyboard.press("Home")
    expect(focused).to_contain_text("one")
    page.keyboard.press("End")
    expect(focused).to_contain_text("four")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(focused).to_contain_text("two")
    assert page.locator("#message-list").evaluate(TABBABLE_IN_LIST) == 1

    # Tab leaves the list at once; coming back lands on the message last focused.
    page.keyboard.press("Tab")
    expect(ann.composer).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(focused).to_contain_text("two")

    two = ann.message("two")
    page.keyboard.press("Enter")
    expect(two.get_by_role("button", name="Edit message")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(two.get_by_role("button", name="Delete message")).to_be_focused()
    page.keyboard.press("Escape")
    expect(two).to_be_focused()

    # The context-menu key opens it too; links come first, then the actions.
    page.keyboard.press("ArrowDown")
    three = ann.message_by_id(int(ann.message("three").get_attribute("data-id") or 0))
    expect(three).to_be_focused()
    page.keyboard.press("ContextMenu")
    expect(three.get_by_role("link", name="a link")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(three.get_by_role("button", name="Edit message")).to_be_focused()
    page.keyboard.press("Enter")
    editor = three.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(" (edited by keyboard)")
    page.keyboard.press("Enter")
    expect(ann.message("edited by keyboard")).to_be_visible()

    # On someone else's message the room's owner has Delete and Moderate, then the
    # author's card.
    four = ann.message("four")
    four.focus()
    page.keyboard.press("Enter")
    expect(four.get_by_role("button", name="Delete message")).to_be_focused()
    page.keyboard.press("Escape")
    expect(four).to_be_focused()
