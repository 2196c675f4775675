"""The web client in a real browser: what a member does every day, end to end."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import Browser, WebSocketRoute, expect
from servers import LiveServer

RECONNECT_TIMEOUT_MS = 20_000

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


def test_register_log_out_and_log_in_again(
    browser: Browser, web_server: LiveServer, screenshot: Callable[..., None]
) -> None:
    context = browser.new_context(base_url=web_server.url, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto("/")
    login = page.locator("#login-form")
    expect(login.get_by_label("Username")).to_be_focused()
    screenshot(page, "login")

    page.get_by_role("tab", name="Create account").click()
    register = page.locator("#register-form")
    register.get_by_label("Username").fill("newcomer")
    register.get_by_label("Display name").fill("New Comer")
    register.get_by_label("Password").fill("short")
    register.get_by_role("button", name="Create account").click()
    expect(page.locator("#register-error")).to_have_text("Passwords need at least 10 characters.")

    register.get_by_label("Password").fill("a good long password")
    register.get_by_role("button", name="Create account").click()
    expect(page.locator("#me-name")).to_have_text("New Comer")
    expect(page.get_by_role("heading", name="Welcome to Parley")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(login).to_be_visible()
    login.get_by_label("Username").fill("newcomer")
    login.get_by_label("Password").fill("wrong password")
    login.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")

    login.get_by_label("Password").fill("a good long password")
    login.get_by_label("Password").press("Enter")
    expect(page.locator("#me-name")).to_have_text("New Comer")
    page.reload()
    expect(page.locator("#me-name")).to_have_text("New Comer")
    context.close()


def test_the_register_form_shows_the_strength_and_why_a_password_is_refused(
    browser: Browser, web_server: LiveServer, screenshot: Callable[..., None]
) -> None:
    context = browser.new_context(base_url=web_server.url, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.get_by_role("tab", name="Create account").click()
    register = page.locator("#register-form")
    meter = page.locator("#register-password-meter")
    hint = page.locator("#register-password-hint")
    name = f"meterfan{int(time.time() * 1000) % 1_000_000}"
    register.get_by_label("Username").fill(name)
    password = register.get_by_label("Password")

    # Scored as it is typed, key by key.
    password.press_sequentially("password1234")
    expect(meter).to_be_visible()
    expect(hint).to_contain_text("Too weak")
    expect(hint).to_contain_text("This is a very common password. Add another word")
    expect(hint).to_have_attribute("data-ok", "false")
    assert float(meter.get_attribute("data-score") or "9") < 3
    screenshot(page, "password-too-weak")

    password.fill(f"{name}-and-more-words")
    password.dispatch_event("input")
    expect(hint).to_have_text("Too weak: it holds your username.")

    password.fill("short")
    password.dispatch_event("input")
    expect(hint).to_contain_text("Too short: 5 more characters needed.")

    # The server refuses it too, and the page says why.
    password.fill("password1234")
    register.get_by_role("button", name="Create account").click()
    expect(page.locator("#register-error")).to_contain_text("too easy to guess")
    expect(page.locator("#register-error")).to_contain_text("very common password")

    password.fill("")
    password.press_sequentially("a good long password")
    expect(page.locator("#register-error")).to_be_empty()
    expect(hint).to_have_text("Strength: strong.")
    expect(hint).to_have_attribute("data-ok", "true")
    assert meter.get_attribute("data-score") == "4"
    screenshot(page, "password-strong")
    register.get_by_role("button", name="Create account").click()
    expect(page.locator("#me-name")).to_have_text(name)
    assert errors == []
    context.close()


def test_create_a_room_from_the_directory_with_the_keyboard(
    person: MakePerson, room_of: MakeRoom, screenshot: Callable[..., None]
) -> None:
    ann = person("ann")
    other = person("other")
    room_of(other, name="existing")
    ann.open("#/directory")
    expect(ann.page.locator("#directory-list")).to_contain_text("existing-")
    screenshot(ann.page, "directory")

    ann.page.get_by_role("button", name="Create room").focus()
    ann.page.keyboard.press("Enter")
    dialog = ann.page.get_by_role("dialog", name="Create a room")
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    ann.page.keyboard.type("design")
    ann.page.keyboard.press("Tab")
    ann.page.keyboard.type("Sketches and reviews")
    ann.page.keyboard.press("Enter")

    expect(ann.page.locator("#room-title")).to_have_text("# design")
    expect(ann.page.locator("#room-topic")).to_have_text("Sketches and reviews")
    expect(ann.page.locator("#room-list")).to_contain_text("design")
    expect(ann.history_status).to_have_text("No messages yet. Say hello!")
    expect(ann.composer).to_be_focused()

    ann.page.get_by_role("button", name="Create a room").click()
    dialog.get_by_label("Name", exact=True).fill("design")
    dialog.get_by_role("button", name="Create").click()
    expect(ann.page.locator("#room-error")).to_have_text("A room with that name exists.")
    ann.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_two_people_chat_both_ways_live(
    person: MakePerson, room_of: MakeRoom, screenshot: Callable[..., None]
) -> None:
    ann, bob, _ = two_in_a_room(person, room_of, "lobby")

    ann.composer.press_sequentially("Hi Bob")
    expect(bob.page.locator("#typing-indicator")).to_have_text(re.compile(r"is typing"))
    ann.composer.press("Enter")
    expect(bob.message("Hi Bob")).to_be_visible()
    expect(bob.page.locator("#typing-indicator")).to_have_text("")
    expect(bob.page.locator("#announcer")).to_contain_text("Hi Bob")

    bob.composer.fill("Hello Ann,\nhow is **everyone**?")
    bob.composer.press("Shift+Enter")
    bob.composer.press("Enter")
    reply = ann.message("how is everyone?")
    expect(reply).to_be_visible()
    expect(reply.locator("strong")).to_have_text("everyone")
    expect(ann.messages).to_have_count(2)
    expect(bob.messages).to_have_count(2)
    assert ann.message_ids() == bob.message_ids()

    ann.page.get_by_role("button", name="Members").click()
    members = ann.page.locator("#member-list")
    expect(members).to_contain_text(bob.username)
    expect(members.locator(".presence.online")).to_have_count(2)
    screenshot(ann.page, "room")


def test_scrolling_up_pages_back_through_300_messages_in_order(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    room = room_of(ann, name="archive")
    sent = [
        ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": f"line {n}"})
        for n in range(300)
    ]
    ann.open_room(room)
    expect(ann.messages.last).to_contain_text("line 299")
    scroller = ann.page.locator("#message-scroller")
    for _ in range(30):
        if ann.history_status.text_content() == f"This is the start of {room['name']}.":
            break
        scroller.evaluate("s => { s.scrollTop = 0; }")
        ann.page.wait_for_timeout(150)
    expect(ann.history_status).to_have_text(f"This is the start of {room['name']}.")

    ids = ann.message_ids()
    assert ids == [m["id"] for m in sent]
    texts = ann.messages.locator(".message-body").all_text_contents()
    assert [t.strip() for t in texts] == [f"line {n}" for n in range(300)]


def test_offline_reader_gets_every_missed_message_in_order_without_reload(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob, room = two_in_a_room(person, room_of, "flaky")
    ann.send("before the cut")
    expect(bob.message("before the cut")).to_be_visible()
    bob.page.evaluate("window.sameDocument = true")

    bob.context.set_offline(True)
    expect(bob.banner).to_have_text("Reconnecting…", timeout=RECONNECT_TIMEOUT_MS)
    for n in range(20):
        ann.send(f"missed {n}")
    expect(ann.message("missed 19")).to_be_visible()
    bob.context.set_offline(False)

    expect(bob.banner).to_have_text("", timeout=RECONNECT_TIMEOUT_MS)
    expect(bob.message("missed 19")).to_be_visible()
    assert bob.page.evaluate("window.sameDocument") is True
    assert bob.message_ids() == [m["id"] for m in bob.api.history(room["id"])]
    texts = bob.messages.locator(".message-body").all_text_contents()
    assert [t.strip() for t in texts] == ["before the cut"] + [f"missed {n}" for n in range(20)]


def test_edit_and_delete_appear_live_for_the_other_person(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob, _ = two_in_a_room(person, room_of, "edits")
    ann.send("teh first draft")
    expect(bob.message("teh first draft")).to_be_visible()
    expect(bob.message("teh first draft").get_by_role("button", name="Edit message")).to_have_count(
        0
    )

    mine = ann.message_by_id(ann.message_ids()[0])
    mine.hover()
    mine.get_by_role("button", name="Edit message").click()
    editor = mine.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    editor.fill("the first draft")
    editor.press("Enter")
    edited = bob.message("the first draft")
    expect(edited).to_contain_text("(edited)")

    mine.hover()
    mine.get_by_role("button", name="Delete message").click()
    ann.page.get_by_role("dialog", name="Delete this message?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(bob.messages.first).to_contain_text("This message was deleted.")
    expect(bob.page.get_by_text("the first draft")).to_have_count(0)
    expect(ann.messages.first).to_contain_text("This message was deleted.")

    # Ann owns the room, so she may delete Bob's message too, but not edit it.
    bob.send("off topic")
    theirs = ann.message("off topic")
    theirs.hover()
    expect(theirs.get_by_role("button", name="Edit message")).to_have_count(0)
    theirs.get_by_role("button", name="Delete message").click()
    ann.page.get_by_role("button", name="Delete", exact=True).click()
    expect(bob.messages.last).to_contain_text("This message was deleted by a moderator.")


def test_xss_message_renders_as_inert_text(person: MakePerson, room_of: MakeRoom) -> None:
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name="xss")
    bob.open_room(room)
    attacks = [
        '<img src=x onerror="window.pwned=1">',
        "<script>window.pwned=2</script>",
        "[click](javascript:window.pwned=3)",
        '<a href="#" onclick="window.pwned=4">x</a>',
    ]
    for attack in attacks:
        ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": attack})
    expect(bob.messages).to_have_count(len(attacks))
    expect(bob.message("<img src=x onerror=")).to_be_visible()
    expect(bob.message("<script>window.pwned=2</script>")).to_be_visible()
    bodies = bob.page.locator("#message-list .message-body")
    expect(bodies.locator("img, script, [onclick], [onerror]")).to_have_count(0)
    expect(bodies.locator("a[href^='javascript']")).to_have_count(0)
    bob.message("onclick").locator(".message-body").click()
    assert bob.page.evaluate("window.pwned") is None


def test_unread_badge_counts_up_and_clears_when_the_room_is_read(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob = person("ann"), person("bob")
    here = room_of(ann, bob, name="here")
    there = room_of(ann, bob, name="there")
    bob.open_room(here)
    badge = bob.room_link(there).locator(".badge")
    expect(badge).to_have_count(0)
    pings = []
    for n in range(3):
        pings.append(
            ann.api.call("POST", f"/rooms/{there['id']}/messages", 201, json={"body": f"ping {n}"})
        )
        expect(badge).to_have_text(str(n + 1))
    # An edit is no new message; a deleted one no longer counts, as on the server.
    ann.api.call("PATCH", f"/messages/{pings[0]['id']}", 200, json={"body": "ping zero"})
    ann.api.call("DELETE", f"/messages/{pings[0]['id']}", 200)
    ann.api.call("POST", f"/rooms/{here['id']}/messages", 201, json={"body": "marker"})
    expect(bob.message("marker")).to_be_visible()
    expect(badge).to_have_text("2")
    assert unread_on_server(bob, there) == 2
    expect(bob.room_link(there)).to_have_attribute("aria-label", re.compile("2 unread"))

    bob.room_link(there).click()
    expect(bob.message("ping 2")).to_be_visible()
    expect(bob.message("This message was deleted.")).to_be_visible()
    expect(bob.page.locator(".new-divider")).to_be_visible()
    expect(badge).to_have_count(0)
    wait_for(lambda: unread_on_server(bob, there) == 0)

    bob.room_link(here).click()
    bob.page.reload()
    expect(bob.room_link(there)).to_be_visible()
    expect(badge).to_have_count(0)


def two_in_a_room(
    person: MakePerson, room_of: MakeRoom, name: str
) -> tuple[Person, Person, dict[str, Any]]:
    """Ann and Bob, both members of a new room, each looking at it in a browser."""
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name=name)
    ann.open_room(room)
    bob.open_room(room)
    return ann, bob, room


def unread_on_server(someone: Person, room: dict[str, Any]) -> int:
    rooms = someone.api.call("GET", "/rooms", 200)["rooms"]
    return int(next(r["unread_count"] for r in rooms if r["id"] == room["id"]))


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.1)


def test_a_send_made_offline_is_sent_on_reconnect_without_a_duplicate(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    room = room_of(ann, name="retry")
    ann.open_room(room)
    ann.context.set_offline(True)
    expect(ann.banner).to_have_text("Reconnecting…", timeout=RECONNECT_TIMEOUT_MS)
    ann.send("sent while offline")
    pending = ann.page.locator("#message-list li.pending")
    expect(pending).to_contain_text("Waiting for the connection…")
    client_id = pending.get_attribute("data-client-id")

    ann.context.set_offline(False)
    expect(ann.message("sent while offline")).to_be_visible(timeout=RECONNECT_TIMEOUT_MS)
    expect(pending).to_have_count(0)
    stored = [m for m in ann.api.history(room["id"]) if m["body"] == "sent while offline"]
    assert len(stored) == 1
    assert stored[0]["client_id"] == client_id
    # Resending it again, as after a lost ack, answers with the same message.
    resend = ann.api.call(
        "POST",
        f"/rooms/{room['id']}/messages",
        200,
        json={"body": "sent while offline", "client_id": client_id},
    )
    assert resend["id"] == stored[0]["id"]
    expect(ann.messages).to_have_count(1)


def test_drafts_are_kept_per_room(person: MakePerson, room_of: MakeRoom) -> None:
    ann = person("ann")
    first, second = room_of(ann, name="first"), room_of(ann, name="second")
    ann.open_room(first)
    ann.composer.fill("half a thought")
    ann.room_link(second).click()
    expect(ann.page.locator("#room-title")).to_have_text(f"# {second['name']}")
    expect(ann.composer).to_have_value("")
    ann.room_link(first).click()
    expect(ann.composer).to_have_value("half a thought")
    ann.page.reload()
    expect(ann.composer).to_have_value("half a thought")


def test_start_a_direct_message_from_a_user_search(person: MakePerson) -> None:
    ann, bob = person("ann"), person("bob")
    ann.open()
    bob.open()
    ann.page.get_by_role("button", name="Start a direct message").click()
    dialog = ann.page.get_by_role("dialog", name="Start a direct message")
    dialog.get_by_label("Find a person").fill(bob.username)
    dialog.get_by_role("button", name=re.compile(bob.username)).click()
    expect(ann.page.locator("#room-title")).to_have_text(bob.username)
    ann.send("psst")
    dm_link = bob.page.locator("#dm-list a").filter(has_text=ann.username)
    expect(dm_link.locator(".badge")).to_have_text("1")
    expect(dm_link.locator(".presence.online")).to_have_count(1)
    dm_link.click()
    expect(bob.message("psst")).to_be_visible()


def test_narrow_screen_uses_a_sliding_sidebar(
    person: MakePerson, room_of: MakeRoom, screenshot: Callable[..., None]
) -> None:
    ann = person("ann", width=360, height=740)
    room = room_of(ann, name="phone")
    ann.open("#/directory")
    expect(ann.page.locator("#sidebar")).to_be_hidden()
    ann.page.get_by_role("button", name="Show rooms").click()
    expect(ann.room_link(room)).to_be_visible()
    ann.room_link(room).click()
    expect(ann.page.locator("#sidebar")).to_be_hidden()
    ann.send("typed on a phone")
    expect(ann.message("typed on a phone")).to_be_visible()
    overflow = ann.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 360
    screenshot(ann.page, "narrow-room")


def test_a_send_whose_answer_was_lost_is_retried_without_a_duplicate(
    person: MakePerson, room_of: MakeRoom
) -> None:
    """The server stores the message but its ack and event never reach the page: the page
    keeps it pending and sends it again by itself, with the same client_id, and the
    resends store nothing new."""
    ann = person("ann")
    room = room_of(ann, name="lost-ack")
    lose = {"answers": True, "relayed": False}
    sends: set[str] = set()

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            lose["relayed"] = True
            if isinstance(message, str) and '["message:send"' in message:
                sends.add(message[2 : message.index("[")])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if lose["answers"] and isinstance(message, str):
                ack_id = message[2 : message.find("[")] if message.startswith("43") else None
                if ack_id in sends or message.startswith('42["message:new"'):
                    return
            ws.send(message)

        # The server's side first: its answer to the page's first message must not
        # arrive before there is a handler to pass it on.
        server.on_message(from_server)
        ws.on_message(from_page)

    ann.page.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    ann.open_room(room)
    assert lose["relayed"]  # the page talks over the WebSocket from the start
    ann.send("answer goes missing")
    pending = ann.page.locator("#message-list li.pending")
    expect(pending).to_contain_text("Sending again…", timeout=RECONNECT_TIMEOUT_MS)
    assert [m["body"] for m in ann.api.history(room["id"])] == ["answer goes missing"]

    lose["answers"] = False
    expect(ann.message("answer goes missing")).to_be_visible(timeout=RECONNECT_TIMEOUT_MS)
    expect(pending).to_have_count(0)
    expect(ann.messages).to_have_count(1)
    stored = ann.api.history(room["id"])
    assert len(stored) == 1
    assert stored[0]["client_id"] == ann.message_by_id(stored[0]["id"]).get_attribute(
        "data-client-id"
    )
