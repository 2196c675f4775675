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
    bob.assert_no_page_errors()
