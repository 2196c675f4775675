"""Threads in the page, two people at two browsers against a real server: a reply
shows as "N replies" under its root, live, and stays out of the timeline unless sent
to the room too; the thread panel (beside the timeline, full screen on a phone) with
its replies, its composer and "Also send to room"; the Threads view of the threads one
follows, with their unread replies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from observed_notifications import OBSERVE_NOTIFICATIONS
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

    # He reacts to the reply in the panel, through the picker.
    on_reply = panel.locator(f"#thread-list li.message[data-id='{reply['id']}']")
    on_reply.hover()
    on_reply.get_by_role("button", name="React to message").click()
    picker = bob.page.get_by_role("dialog", name="Add a reaction").locator("emoji-picker")
    picker.locator("input.search").fill("party popper")
    picker.locator("[role=option]:has-text('🎉')").first.click()
    party = on_reply.locator("button.reaction[data-emoji='🎉']")
    expect(party).to_have_attribute("aria-pressed", "true")
    expect(party).to_be_focused()

    # A reply that arrives while the panel is open joins it, and not the timeline.
    alice.api.call(
        "POST", messages, 201, json={"body": "Or the taco truck", "thread_id": root["id"]}
    )
    expect(panel.locator("#thread-list")).to_contain_text("Or the taco truck")
    expect(bob.message("Or the taco truck")).to_have_count(0)

    # Bob answers in the panel, sending it to the room too: it is in both.
    panel.get_by_role("textbox", name="Reply").fill("Noodles it is")
    panel.get_by_role("checkbox", name="Also send to room").check()
    panel.get_by_role("textbox", name="Reply").press("Enter")
    expect(panel.locator("#thread-list li.message[data-id]")).to_have_count(3)
    expect(panel.locator("#thread-list li.message[data-id]").last).to_contain_text("Noodles it is")
    expect(bob.message("Noodles it is")).to_have_count(1)
    expect(summary).to_contain_text("3 replies")
    expect(panel.get_by_role("heading", name="Thread · 3 replies")).to_be_visible()

    # On a phone the panel takes the whole screen, and Escape closes it.
    bob.page.set_viewport_size({"width": 390, "height": 844})
    box = panel.bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] == 844, box
    check_view(bob.page, "thread-panel-phone")
    bob.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # Alice, elsewhere, has one unread reply (Bob's: her own are read) in the thread she
    # follows; the Threads view lists it and opens the room with its panel.
    alice.open("#/directory")
    threads_button = alice.page.locator("#threads-button")
    expect(threads_button).to_have_attribute("aria-label", "Threads, 1 unread")
    threads_button.click()
    dialog = alice.page.get_by_role("dialog", name="Threads you follow")
    link = dialog.locator(f"a[data-root-id='{root['id']}']")
    expect(link).to_contain_text("Where shall we eat?")
    expect(link).to_contain_text("3 replies")
    expect(link).to_contain_text("1 unread")
    check_view(alice.page, "threads-view")
    link.click()
    expect(dialog).to_be_hidden()
    on_alice = alice.page.get_by_role("complementary", name=re.compile("^Thread"))
    expect(on_alice).to_be_visible()
    expect(on_alice.locator("#thread-list li.message[data-id]")).to_have_count(3)
    expect(alice.page.locator("#room-title")).to_contain_text(room["name"])
    # Opening it read it: the count is gone.
    expect(threads_button).to_have_attribute("aria-label", "Threads")
    # The Reply action on a message opens its thread too.
    on_alice.get_by_role("button", name="Close thread").click()
    expect(on_alice).to_be_hidden()
    noodles = alice.message("Noodles it is")
    noodles.hover()
    noodles.get_by_role("button", name="Reply in thread").click()
    expect(on_alice.locator("#thread-root")).to_contain_text("Where shall we eat?")
    alice.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_a_reply_kept_to_its_thread_notifies_as_a_message_does_unless_its_thread_is_in_sight(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]]
) -> None:
    alice = person("alice")
    bob = person("bob")
    bob.context.grant_permissions(["notifications"])
    bob.page.add_init_script(OBSERVE_NOTIFICATIONS)
    room = room_of(alice, bob, name="thread-notes")
    messages = f"/rooms/{room['id']}/messages"
    root = alice.api.call("POST", messages, 201, json={"body": "Plans for Friday"})
    bob.open_room(room)
    page = bob.page
    expect(bob.message_by_id(root["id"])).to_be_visible()

    def reply(body: str) -> dict[str, Any]:
        sent: dict[str, Any] = alice.api.call(
            "POST", messages, 201, json={"body": body, "thread_id": root["id"]}
        )
        return sent

    # Out of sight: a reply that names Bob notifies (the room asks for mentions only);
    # one that does not, does not.
    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    reply("no one in particular")
    reply(f"@{bob.username} are you in?")
    page.wait_for_function("() => window.__notifications.length >= 1")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__notifications") == [
        {"title": f"{alice.username} in #{room['name']}", "body": f"@{bob.username} are you in?"}
    ]

    # In sight with the room open but not the thread: it notifies; with the thread open
    # beside the timeline, it does not.
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    reply(f"@{bob.username} still there?")
    page.wait_for_function("() => window.__notifications.length === 2")
    bob.message_by_id(root["id"]).locator(".thread-summary").click()
    panel = page.get_by_role("complementary", name=re.compile("^Thread"))
    expect(panel.locator("#thread-list li.message[data-id]")).to_have_count(3)
    seen = reply(f"@{bob.username} see this here")
    expect(panel.locator(f"#thread-list li.message[data-id='{seen['id']}']")).to_be_visible()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__notifications.length") == 2


def test_the_threads_view_shows_fifty_threads_and_more_on_demand(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]]
) -> None:
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name="many-threads")
    messages = f"/rooms/{room['id']}/messages"
    roots = []
    for n in range(53):
        root = ann.api.call("POST", messages, 201, json={"body": f"topic {n}"})
        ann.api.call("POST", messages, 201, json={"body": "a reply", "thread_id": root["id"]})
        roots.append(root["id"])
    ann.open_room(room)
    ann.page.locator("#threads-button").click()
    dialog = ann.page.get_by_role("dialog", name="Threads you follow")
    links = dialog.locator("a.thread-link")
    expect(links).to_have_count(50)
    expect(dialog.locator("#threads-status")).to_have_text("50+ threads.")
    more = dialog.get_by_role("button", name="Show more threads")
    more.click()
    expect(links).to_have_count(53)
    expect(dialog.locator("#threads-status")).to_have_text("53 threads.")
    expect(more).to_be_hidden()
    shown = [int(v) for v in links.evaluate_all("(all) => all.map((a) => a.dataset.rootId)")]
    assert shown == list(reversed(roots))
    # Bob's reply to the oldest moves it to the top, once, with the pages kept.
    bob.api.call("POST", messages, 201, json={"body": "revived", "thread_id": roots[0]})
    expect(links.first).to_have_attribute("data-root-id", str(roots[0]))
    expect(links).to_have_count(53)
