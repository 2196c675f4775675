"""Threads in the page, two people at two browsers against a real server: a reply
shows as "N replies" under its root, live, and stays out of the timeline unless sent
to the room too; the thread panel (beside the timeline, full screen on a phone) with
its replies, its composer and "Also send to room"; the Threads view of the threads one
follows, with their unread replies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import expect
from views import check_view


def test_replies_stay_in_their_thread(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]]
) -> None:
    alice = person("alice")
    bob = person("bob")
    room = room_of(alice, bob, name="threads")
    messages = f"/rooms/{room['id']}/messages"
    root = alice.api.call("POST", messages, 201, json={"body": "Where shall we eat?"})
    bob.open_room(room)
    on_root = bob.message_by_id(root["id"])
    expect(on_root).to_be_visible()
    expect(on_root.locator(".thread-summary")).to_have_count(0)

    # Alice replies in the thread: Bob sees "1 reply" under the root, live, and the
    # reply is not in his timeline, nor counted unread.
    reply = alice.api.call(
        "POST", messages, 201, json={"body": "The noodle place", "thread_id": root["id"]}
    )
    summary = on_root.locator(".thread-summary")
    expect(summary).to_contain_text("1 reply")
    expect(summary).to_contain_text("Last reply")
    expect(bob.message_by_id(reply["id"])).to_have_count(0)
    expect(bob.message("The noodle place")).to_have_count(0)
    expect(bob.page).to_have_title(re.compile(r"^(?!\()"))

    # He opens the thread from the summary: the root on top, the reply below.
    summary.click()
    panel = bob.page.get_by_role("complementary", name=re.compile("^Thread"))
    expect(panel).to_be_visible()
    expect(panel.locator("#thread-root li.message")).to_contain_text("Where shall we eat?")
    expect(panel.locator("#thread-list li.message[data-id]")).to_have_count(1)
    expect(panel.locator("#thread-list")).to_contain_text("The noodle place")
    check_view(bob.page, "thread-panel-desktop")

    # Bob answers in the panel, sending it to the room too: it is in both.
    panel.get_by_role("textbox", name="Reply").fill("Noodles it is")
    panel.get_by_role("checkbox", name="Also send to room").check()
    panel.get_by_role("textbox", name="Reply").press("Enter")
    expect(panel.locator("#thread-list li.message[data-id]")).to_have_count(2)
    expect(panel.locator("#thread-list li.message[data-id]").last).to_contain_text("Noodles it is")
    expect(bob.message("Noodles it is")).to_have_count(1)
    expect(summary).to_contain_text("2 replies")
    expect(panel.get_by_role("heading", name="Thread · 2 replies")).to_be_visible()
    # A reply that arrives while the panel is open joins it, and not the timeline.
    alice.api.call("POST", messages, 201, json={"body": "See you at one", "thread_id": root["id"]})
    expect(panel.locator("#thread-list")).to_contain_text("See you at one")
    expect(bob.message("See you at one")).to_have_count(0)

    # On a phone the panel takes the whole screen, and Escape closes it.
    bob.page.set_viewport_size({"width": 390, "height": 844})
    box = panel.bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] == 844, box
    check_view(bob.page, "thread-panel-phone")
    bob.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    bob.assert_no_page_errors()
