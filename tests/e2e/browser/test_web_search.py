"""Search in the page, in Chromium against a real server, at desktop and phone sizes: a
message far back in a room's history opens in context, highlighted, and the room pages
on from there both ways and back to the newest."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from people import Person
from playwright.sync_api import expect
from views import check_view

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
HIT = re.compile(r"\bhit\b")
AFTER = 120  # more than two pages of history after the hit


@pytest.mark.parametrize("size", SIZES)
def test_search_opens_a_message_far_back_in_context_highlighted(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]], size: str
) -> None:
    width, height = SIZES[size]
    ann = person("ann", width=width, height=height)
    room = room_of(ann, name="history")
    other = room_of(ann, name="elsewhere")
    word = f"zebra{os.getpid()}{size}"

    def post(target: dict[str, Any], body: str) -> dict[str, Any]:
        sent: dict[str, Any] = ann.api.call(
            "POST", f"/rooms/{target['id']}/messages", 201, json={"body": body}
        )
        return sent

    before = [post(room, f"before {n}") for n in range(40)]
    hit = post(room, f"The {word} crossed the road")
    after = [post(room, f"after {n}") for n in range(AFTER)]
    post(other, f"Another {word} elsewhere")
    ann.open_room(room)
    expect(ann.messages.last).to_contain_text(f"after {AFTER - 1}")
    expect(ann.message_by_id(hit["id"])).to_have_count(0)

    page = ann.page
    if size == "phone":
        expect(page.locator("#search-box")).to_be_hidden()
        page.get_by_role("button", name="Search messages").click()
        dialog = page.get_by_role("dialog", name="Search messages")
        expect(dialog.get_by_label("Words to find")).to_be_focused()
        dialog.get_by_label("Words to find").fill(word[:-3])
        dialog.get_by_label("Words to find").press("Enter")
    else:
        box = page.get_by_role("searchbox", name="Search messages")
        box.fill(word[:-3])
        expect(box).to_have_value(word[:-3])
        box.press("Enter")
        dialog = page.get_by_role("dialog", name="Search messages")
        # Once in a CI run the dialog did not open from this Enter (its status stayed
        # empty, the page behind it not inert): said apart from a slow search.
        expect(dialog, "Enter in the top bar's search box opened no dialog").to_be_visible()
    expect(dialog.locator("#search-status")).to_have_text("2 messages found.")
    groups = dialog.locator(".search-group h3")
    expect(groups).to_have_text([f"# {other['name']}", f"# {room['name']}"])
    found = dialog.locator(f".search-hit[data-message-id='{hit['id']}']")
    expect(found).to_contain_text(f"The {word} crossed the road")
    # The word matched by its start, as the server matches it.
    expect(found.locator("mark")).to_have_text(word[:-3])
    check_view(page, f"search-results-{size}")

    found.click()
    expect(dialog).to_be_hidden()
    target = ann.message_by_id(hit["id"])
    expect(target).to_be_visible()
    expect(target).to_have_class(HIT)
    expect(target).to_be_focused()
    assert page.evaluate("location.hash") == f"#/room/{room['id']}"
    expect(target).to_be_in_viewport()
    # The history around it is loaded, and the newest is not.
    held = ann.message_ids()
    assert hit["id"] in held
    assert before[-1]["id"] in held and after[0]["id"] in held
    assert after[-1]["id"] not in held
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_visible()
    check_view(page, f"search-hit-in-room-{size}")

    # Paging down reaches the newest, with nothing missing or twice.
    scroll = page.locator("#message-scroller")
    for _ in range(20):
        if after[-1]["id"] in ann.message_ids():
            break
        scroll.evaluate("s => { s.scrollTop = s.scrollHeight; }")
        page.wait_for_timeout(200)
    expect(ann.message_by_id(after[-1]["id"])).to_be_visible()
    expect(jump).to_be_hidden()
    ids = ann.message_ids()
    assert ids == sorted(set(ids))
    assert ids[ids.index(hit["id"]) :] == [hit["id"]] + [m["id"] for m in after]

    # Paging up reaches the start of the room.
    for _ in range(30):
        if ann.history_status.text_content() == f"This is the start of {room['name']}.":
            break
        scroll.evaluate("s => { s.scrollTop = 0; }")
        page.wait_for_timeout(150)
    expect(ann.history_status).to_have_text(f"This is the start of {room['name']}.")
    all_sent = [m["id"] for m in (*before, hit, *after)]
    assert ann.message_ids() == all_sent


@pytest.mark.parametrize("size", SIZES)
def test_jump_to_latest_goes_back_to_the_live_end_and_new_messages_show_there(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]], size: str
) -> None:
    width, height = SIZES[size]
    ann = person("ann", width=width, height=height)
    bob = person("bob", width=width, height=height)
    room = room_of(ann, bob, name="jump")
    word = f"quokka{os.getpid()}{size}"
    hit = ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": word})
    for n in range(80):
        ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": f"filler {n}"})
    ann.open_room(room)
    ann.page.goto(f"/#/room/{room['id']}/message/{hit['id']}")
    expect(ann.message_by_id(hit["id"])).to_have_class(HIT)
    # Something posted meanwhile is not put after the old page, where it does not belong.
    late = bob.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "late news"})
    jump = ann.page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_visible()
    ann.page.wait_for_timeout(500)
    expect(ann.message_by_id(late["id"])).to_have_count(0)
    jump.click()
    expect(ann.message_by_id(late["id"])).to_be_visible()
    expect(jump).to_be_hidden()
    expect(ann.message_by_id(hit["id"])).to_have_count(0)
    expect(ann.composer).to_be_focused()
    bob.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "live again"})
    expect(ann.messages.last).to_contain_text("live again")


def test_a_hit_on_a_reply_kept_to_its_thread_opens_the_thread_at_that_reply(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]]
) -> None:
    ann = person("ann")
    room = room_of(ann, name="threaded")
    messages = f"/rooms/{room['id']}/messages"
    word = f"narwhal{os.getpid()}"
    root = ann.api.call("POST", messages, 201, json={"body": "A long thread"})
    bodies = [f"The {word} reply" if n == 52 else f"reply {n}" for n in range(56)]
    replies = [
        ann.api.call("POST", messages, 201, json={"body": body, "thread_id": root["id"]})
        for body in bodies
    ]
    hit = replies[52]
    ann.open_room(room)
    expect(ann.message_by_id(root["id"])).to_be_visible()

    page = ann.page
    box = page.get_by_role("searchbox", name="Search messages")
    box.fill(word)
    box.press("Enter")
    dialog = page.get_by_role("dialog", name="Search messages")
    expect(dialog.locator("#search-status")).to_have_text("1 message found.")
    dialog.locator(f".search-hit[data-message-id='{hit['id']}']").click()
    expect(dialog).to_be_hidden()

    # The reply is on the thread's second page: the panel pages to it and shows it.
    panel = page.get_by_role("complementary", name=re.compile("^Thread"))
    expect(panel).to_be_visible()
    target = panel.locator(f"#thread-list li.message[data-id='{hit['id']}']")
    expect(target).to_have_class(HIT)
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    expect(page.locator("#announcer")).to_have_text(
        "Showing the reply you searched for, in its thread."
    )
    # It stays out of the timeline, which is the room's as before.
    expect(ann.message_by_id(hit["id"])).to_have_count(0)
    assert page.evaluate("location.hash") == f"#/room/{room['id']}"
