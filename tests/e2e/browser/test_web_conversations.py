"""Conversations in the page, two people at two browsers against a real server:
reactions (live, toggled, with who reacted), the emoji picker, the composer's `:` and `@`
suggestions, mentions (highlighted, listed, opening their room at the message), pins,
edit history, each room's notification level and desktop notifications, and a reaction
and an unpin missed offline arriving with the reconnect's catch-up."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from observed_notifications import OBSERVE_NOTIFICATIONS
from people import Person
from playwright.sync_api import Locator, Page, expect
from views import check_view

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
HIT = re.compile(r"\bhit\b")
RECONNECT_MS = 20_000


def hover_action(person: Person, message: Locator, name: str) -> None:
    """A message's action, as a pointer reaches it (its actions show on hover)."""
    message.hover()
    message.get_by_role("button", name=name, exact=True).click()


def pick(page: Page, search: str, emoji: str) -> None:
    """Chooses an emoji in the open picker by searching for it."""
    dialog = page.get_by_role("dialog")
    picker = dialog.locator("emoji-picker")
    picker.locator("input.search").fill(search)
    picker.locator(f"[role=option]:has-text('{emoji}')").first.click()
    expect(dialog).to_be_hidden()


def assert_focused(page: Page, element_id: str) -> None:
    """The page's focus is on that element (Playwright's to_be_focused also asks for the
    system's focus, which the other person's window may hold)."""
    active = ""
    for _ in range(50):
        active = page.evaluate("() => document.activeElement?.id ?? ''")
        if active == element_id:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"focus on #{active}, not #{element_id}")


def chip(message: Locator, emoji: str) -> Locator:
    return message.locator(f"button.reaction[data-emoji='{emoji}']")


@pytest.mark.parametrize("size", SIZES)
def test_reactions_picker_and_suggestions(
    person: Callable[..., Person],
    room_of: Callable[..., dict[str, Any]],
    screenshot: Callable[..., None],
    size: str,
) -> None:
    width, height = SIZES[size]
    alice = person("alice", width=width, height=height)
    bob = person("bob", width=width, height=height)
    room = room_of(alice, bob, name="reacts")
    sent = bob.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "Lunch?"})
    alice.open_room(room)
    bob.open_room(room)
    assert_focused(bob.page, "composer-input")
    bob.message_by_id(sent["id"]).focus()
    assert_focused(bob.page, f"message-{sent['id']}")

    # Alice reacts from the message's actions, through the picker.
    on_alice = alice.message_by_id(sent["id"])
    hover_action(alice, on_alice, "React to message")
    dialog = alice.page.get_by_role("dialog", name="Add a reaction")
    expect(dialog.locator("emoji-picker input.search")).to_be_focused()
    expect(dialog.locator("emoji-picker [role=tab]").first).to_be_visible()
    expect(dialog.locator("emoji-picker .tabpanel button.emoji").first).to_be_in_viewport()
    check_view(alice.page, f"emoji-picker-{size}")
    pick(alice.page, "party popper", "🎉")
    expect(chip(on_alice, "🎉")).to_have_attribute("aria-pressed", "true")
    expect(chip(on_alice, "🎉")).to_be_focused()

    # Bob sees it live: the count, and who, on hover.
    on_bob = bob.message_by_id(sent["id"])
    party = chip(on_bob, "🎉")
    expect(party).to_have_text("🎉1")
    # The message redrawn with it keeps Bob's keyboard focus.
    assert_focused(bob.page, f"message-{sent['id']}")
    expect(party).to_have_attribute("aria-pressed", "false")
    party.hover()
    who = on_bob.locator(".reaction-who")
    expect(who).to_be_visible()
    expect(who).to_have_text(f"{alice.username} reacted with 🎉")
    # Bob adds his: two, his pressed; then takes it back.
    party.click()
    expect(party).to_have_text("🎉2")
    expect(party).to_have_attribute("aria-pressed", "true")
    expect(party).to_have_attribute("aria-label", f"🎉 2: You and {alice.username} reacted with 🎉")
    expect(chip(on_alice, "🎉")).to_have_text("🎉2")
    party.click()
    expect(party).to_have_text("🎉1")
    expect(party).to_have_attribute("aria-pressed", "false")
    # Alice takes hers back by keyboard: the chip is gone for both.
    chip(on_alice, "🎉").focus()
    alice.page.keyboard.press("Enter")
    expect(chip(on_bob, "🎉")).to_have_count(0)
    expect(chip(on_alice, "🎉")).to_have_count(0)

    # The composer's picker inserts at the caret.
    alice.composer.fill("Yes ")
    alice.page.get_by_role("button", name="Insert an emoji").click()
    pick(alice.page, "thumbs up", "👍")
    expect(alice.composer).to_have_value(re.compile("^Yes 👍\ufe0f?$"))
    assert_focused(alice.page, "composer-input")

    # `:smi` lists emoji; arrows and Enter insert one.
    alice.composer.fill("")
    alice.composer.press_sequentially("so :smi")
    suggestions = alice.page.get_by_role("listbox", name="Emoji suggestions")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    expect(suggestions.get_by_role("option", name=re.compile(":smile:"))).to_have_count(1)
    check_view(alice.page, f"autocomplete-{size}")
    alice.composer.press("ArrowDown")
    expect(suggestions.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    chosen = suggestions.get_by_role("option").nth(1).locator(".suggestion-label").inner_text()
    alice.composer.press("Enter")
    expect(suggestions).to_be_hidden()
    expect(alice.composer).to_have_value(f"so {chosen.split(' ')[0]} ")
    # Escape closes the list and leaves the text as typed.
    alice.composer.press_sequentially(":smi")
    expect(suggestions).to_be_visible()
    alice.composer.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(alice.composer).to_have_value(f"so {chosen.split(' ')[0]} :smi")
    alice.composer.fill("")

    # `@bo` lists Bob; Tab inserts him; he sees the mention of him highlighted.
    alice.composer.press_sequentially(f"Hi @{bob.username[:3]}")
    people = alice.page.get_by_role("listbox", name="People suggestions")
    expect(people.get_by_role("option").first).to_contain_text(f"@{bob.username}")
    alice.composer.press("Tab")
    expect(alice.composer).to_have_value(f"Hi @{bob.username} ")
    alice.composer.press_sequentially("see you at noon")
    alice.composer.press("Enter")
    mention = bob.message("see you at noon")
    expect(mention).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(mention.locator("span.mention.of-me")).to_have_text(f"@{bob.username}")
    # Not highlighted for Alice, who is not named.
    expect(alice.message("see you at noon")).not_to_have_class(re.compile(r"\bmentions-me\b"))
    bob.api.call("PUT", f"/messages/{sent['id']}/reactions/%3Atada%3A", 200)
    expect(chip(on_bob, "🎉")).to_have_attribute("aria-pressed", "true")
    screenshot(bob.page, f"conversation-{size}")
    alice.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_mentions_pins_history_and_notifications(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]]
) -> None:
    alice = person("alice")
    bob = person("bob")
    carol = person("carol")
    bob.context.grant_permissions(["notifications"])
    bob.page.add_init_script(OBSERVE_NOTIFICATIONS)
    room = room_of(alice, bob, name="pins")
    elsewhere = room_of(alice, bob, name="elsewhere")
    messages = f"/rooms/{room['id']}/messages"
    standup = alice.api.call("POST", messages, 201, json={"body": "Standup at ten"})
    alice.api.call("PATCH", f"/messages/{standup['id']}", 200, json={"body": "Standup at eleven"})
    for n in range(10):
        alice.api.call("POST", messages, 201, json={"body": f"filler {n}"})
    called = alice.api.call("POST", messages, 201, json={"body": f"@{bob.username} can you check?"})
    for n in range(10):
        alice.api.call("POST", messages, 201, json={"body": f"later {n}"})

    # Bob, elsewhere, sees one mention waiting; the Mentions view opens the room at it.
    bob.open("#/directory")
    page = bob.page
    expect(page.locator("#mentions-count")).to_have_text("1")
    # The tab's title counts the unread messages and the mention among them.
    expect(page).to_have_title(re.compile(r"^\(22 · 1 @\) "))
    page.get_by_role("button", name="Mentions, 1 unread").click()
    dialog = page.get_by_role("dialog", name="Mentions of you")
    link = dialog.locator(f"a[data-message-id='{called['id']}']")
    expect(link).to_contain_text(f"@{bob.username} can you check?")
    expect(link).to_contain_text(f"in #{room['name']}")
    check_view(page, "mentions")
    link.click()
    expect(dialog).to_be_hidden()
    target = bob.message_by_id(called["id"])
    expect(target).to_have_class(HIT)
    expect(target).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(target).to_be_focused()

    # Alice, the owner, pins the edited message; Bob, a member, sees it pinned, live, and
    # is not offered to pin.
    alice.open_room(room)
    on_alice = alice.message_by_id(standup["id"])
    expect(on_alice).to_contain_text("Standup at eleven")
    hover_action(alice, on_alice, "Pin message")
    expect(on_alice.locator(".pinned-note")).to_have_text("📌 Pinned")
    expect(on_alice.get_by_role("button", name="Unpin message", exact=True)).to_have_count(1)
    page.get_by_role("button", name="Pinned messages").click()
    pins = page.get_by_role("dialog", name=f"Pinned in #{room['name']}")
    pinned = pins.locator(f"a[data-message-id='{standup['id']}']")
    expect(pinned).to_contain_text("Standup at eleven")
    expect(pins.get_by_role("button", name=re.compile("^Unpin"))).to_have_count(0)
    check_view(page, "pins")
    pinned.click()
    expect(pins).to_be_hidden()
    on_bob = bob.message_by_id(standup["id"])
    expect(on_bob).to_be_focused()
    expect(on_bob.locator(".pinned-note")).to_have_text("📌 Pinned")
    expect(on_bob.get_by_role("button", name="Pin message", exact=True)).to_have_count(0)

    # Its "(edited)" opens the earlier versions.
    on_bob.get_by_role("button", name="Edited: show the earlier versions").click()
    history = page.get_by_role("dialog", name="Earlier versions")
    expect(history.locator(".history-version")).to_have_count(2)
    expect(history.locator(".history-version").first).to_contain_text("Standup at ten")
    expect(history.locator(".history-version.current")).to_contain_text("Standup at eleven")
    expect(history.locator("#history-dialog-status")).to_have_text("1 earlier version.")
    check_view(page, "edit-history")
    history.get_by_role("button", name="Close").click()

    # The room's notification level: mentions by default, set to all messages.
    page.get_by_role("button", name="Notifications: mentions only").click()
    notify = page.get_by_role("dialog", name=f"Notifications for #{room['name']}")
    expect(notify.get_by_role("radio", name=re.compile("^Mentions of me"))).to_be_checked()
    expect(notify.locator("#notify-permission-status")).to_contain_text(
        "Desktop notifications are on"
    )
    check_view(page, "notifications")
    with page.expect_response(
        lambda r: (
            r.url.endswith(f"/rooms/{room['id']}/notifications") and r.request.method == "PATCH"
        )
    ) as answer:
        notify.get_by_role("radio", name="All messages").check()
    assert answer.value.status == 200
    expect(notify.locator("#notify-saved")).to_have_text("Saved: all messages.")
    members = bob.api.call("GET", f"/rooms/{room['id']}/members", 200)["members"]
    assert [m["notification_level"] for m in members if m["user"]["username"] == bob.username] == [
        "all"
    ]
    notify.get_by_role("button", name="Close").click()
    expect(page.get_by_role("button", name="Notifications: all messages")).to_be_visible()

    # Out of sight, a message in a room set to all shows a desktop notification.
    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    alice.api.call("POST", messages, 201, json={"body": "Anyone for coffee?"})
    page.wait_for_function("() => window.__notifications.length === 1")
    made = page.evaluate("window.__notifications")
    assert made == [{"title": f"{alice.username} in #{room['name']}", "body": "Anyone for coffee?"}]

    # Back in sight, then cut off: the reaction and the unpin Bob missed come with the
    # catch-up's changes, and redraw the message.
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    bob.context.set_offline(True)
    expect(bob.banner).to_have_text("Reconnecting…", timeout=RECONNECT_MS)
    alice.api.call("PUT", f"/messages/{standup['id']}/reactions/%F0%9F%91%80", 200)
    alice.api.call("DELETE", f"/messages/{standup['id']}/pin", 200)
    bob.context.set_offline(False)
    expect(bob.banner).to_have_text("", timeout=RECONNECT_MS)
    expect(chip(on_bob, "👀")).to_have_text("👀1")
    expect(on_bob.locator(".pinned-note")).to_have_count(0)

    # In sight but in another room: a mention there notifies, and the count rises.
    expect(page.locator("#mentions-count")).to_be_hidden()
    alice.api.call(
        "POST",
        f"/rooms/{elsewhere['id']}/messages",
        201,
        json={"body": f"@{bob.username} over here"},
    )
    page.wait_for_function("() => window.__notifications.length === 2")
    assert page.evaluate("window.__notifications[1]") == {
        "title": f"{alice.username} in #{elsewhere['name']}",
        "body": f"@{bob.username} over here",
    }
    expect(page.locator("#mentions-count")).to_have_text("1")
    # In the room in sight, a message notifies no one.
    here = alice.api.call("POST", messages, 201, json={"body": f"@{bob.username} right here"})
    expect(bob.message_by_id(here["id"])).to_be_visible()
    assert page.evaluate("window.__notifications.length") == 2

    # Alice, who may pin, unpins from the Pins list; Bob sees the pin go, live.
    alice.api.call("PUT", f"/messages/{here['id']}/pin", 200)
    on_bob_here = bob.message_by_id(here["id"])
    expect(on_bob_here.locator(".pinned-note")).to_have_text("📌 Pinned")
    alice.page.get_by_role("button", name="Pinned messages").click()
    alice_pins = alice.page.get_by_role("dialog", name=f"Pinned in #{room['name']}")
    check_view(alice.page, "pins-unpin")
    alice_pins.get_by_role("button", name=f"Unpin: @{bob.username} right here").click()
    expect(alice_pins.locator("#pins-status")).to_contain_text("Nothing is pinned here yet")
    expect(alice_pins.get_by_role("button", name="Close")).to_be_focused()
    alice_pins.get_by_role("button", name="Close").click()
    expect(on_bob_here.locator(".pinned-note")).to_have_count(0)
    assert alice.api.call("GET", f"/rooms/{room['id']}/pins", 200)["messages"] == []

    # Alice names Carol in a private room Carol is not in: she is offered to invite her.
    private = alice.api.call(
        "POST", "/rooms", 201, json={"name": f"{room['name']}-p", "kind": "private"}
    )
    alice.room_link(private).click()
    expect(alice.page.locator("#room-title")).to_contain_text(private["name"])
    alice.send(f"@{carol.username} please join")
    notice = alice.page.locator("#not-notified")
    expect(notice).to_contain_text(f"@{carol.username} is not in this room")
    notice.get_by_role("button", name=f"Invite @{carol.username}").click()
    expect(notice).to_be_hidden()
    joined = carol.api.call("GET", f"/rooms/{private['id']}/members", 200)["members"]
    assert carol.username in [m["user"]["username"] for m in joined]
