"""The composer's limit and the page's refusals in words: a counter near the 10,000
characters a message may hold, a too-long message refused before it is sent with its text
kept, no Retry for what the server refused as it is, and the API's validation details
turned into sentences in every form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import Browser, expect
from servers import LiveServer
from views import check_view

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


def stored_bodies(someone: Person, room: dict[str, Any]) -> list[str]:
    page = someone.api.call("GET", f"/rooms/{room['id']}/messages", 200)
    return [m["body"] for m in page["messages"]]


def test_a_too_long_message_is_refused_before_sending_and_keeps_its_text(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann", width=390, height=844)
    room = room_of(ann, name="limits")
    ann.open_room(room)
    page = ann.page
    counter = page.locator("#composer-count")

    ann.composer.fill("x" * 8_999)
    expect(counter).to_be_hidden()
    ann.composer.fill("x" * 9_500)
    expect(counter).to_have_text("9,500 / 10,000")

    text = "y" * 12_000
    ann.composer.fill(text)
    expect(counter).to_have_text("12,000 / 10,000")
    ann.composer.press("Enter")
    error = page.locator("#composer-error")
    expect(error).to_have_text(
        "This message is 2,000 characters too long: a message holds at most 10,000. "
        "Shorten it or send it in parts."
    )
    expect(ann.composer).to_have_value(text)
    expect(ann.composer).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#message-list li.message")).to_have_count(0)
    check_view(page, "composer-too-long-phone")

    # Cut to the limit, it goes.
    ann.composer.fill("z" * 10_000)
    expect(error).to_be_empty()
    expect(counter).to_have_text("10,000 / 10,000")
    ann.composer.press("Enter")
    expect(ann.messages).to_have_count(1)
    expect(ann.composer).to_have_value("")
    expect(counter).to_be_hidden()
    assert stored_bodies(ann, room) == ["z" * 10_000]


def test_a_message_the_server_refuses_as_it_is_offers_edit_not_retry(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    room = room_of(ann, name="refusals")
    ann.open_room(room)
    page = ann.page
    # A control character passes the page's length check; the server refuses it.
    ann.composer.fill("bell \x07 here")
    ann.composer.press("Enter")
    failed = page.locator("#message-list li.pending.failed")
    expect(failed.get_by_role("alert")).to_contain_text(
        "Not sent: The message contains a control character."
    )
    expect(failed.get_by_role("button", name="Retry")).to_have_count(0)
    check_view(page, "composer-refused-desktop")

    failed.get_by_role("button", name="Edit").click()
    expect(failed).to_have_count(0)
    expect(ann.composer).to_have_value("bell \x07 here")
    expect(ann.composer).to_be_focused()
    ann.composer.fill("bell here")
    ann.composer.press("Enter")
    expect(ann.message("bell here")).to_be_visible()
    assert stored_bodies(ann, room) == ["bell here"]


def test_form_errors_are_sentences_for_people(
    browser: Browser, web_server: LiveServer, person: MakePerson
) -> None:
    context = browser.new_context(base_url=web_server.url)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("tab", name="Create account").click()
        register = page.locator("#register-form")
        register.get_by_label("Username").fill("sentences")
        register.get_by_label("Password").fill("short")
        register.get_by_role("button", name="Create account").click()
        expect(page.locator("#register-error")).to_have_text(
            "Passwords need at least 10 characters."
        )
    finally:
        context.close()

    ann = person("ann")
    ann.open()
    ann.page.get_by_role("button", name="Create a room").click()
    dialog = ann.page.get_by_role("dialog", name="Create a room")
    dialog.get_by_label("Name", exact=True).fill("n" * 70)
    dialog.get_by_role("button", name="Create").click()
    expect(ann.page.locator("#room-error")).to_have_text("Names can be at most 64 characters long.")
