"""Answers that arrive after the reader moved on land where they belong."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import WebSocketRoute, expect

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


def test_an_edit_answered_after_moving_to_another_room_updates_its_own_room_only(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    first, second = room_of(ann, name="first"), room_of(ann, name="second")
    held: list[str] = []
    edits: set[str] = set()
    holding = {"on": True}

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and '["message:edit"' in message:
                edits.add(message[2 : message.index("[")])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if holding["on"] and isinstance(message, str):
                ack_id = message[2 : message.find("[")] if message.startswith("43") else None
                if ack_id in edits:
                    held.append(message)
                    return
                if message.startswith('42["message:edit"'):
                    # The room's event would fix the first room by itself: only the
                    # answer to the edit may carry the change here.
                    return
            ws.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)
        relayed.append(ws)

    relayed: list[WebSocketRoute] = []
    ann.page.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    ann.open_room(first)
    ann.send("a first draft")
    expect(ann.message("a first draft")).to_be_visible()
    message_id = ann.message_ids()[0]
    mine = ann.message_by_id(message_id)

    mine.hover()
    mine.get_by_role("button", name="Edit message").click()
    editor = mine.get_by_role("textbox", name="Edit message")
    editor.fill("the final draft")
    editor.press("Enter")
    for _ in range(100):
        if held:
            break
        ann.page.wait_for_timeout(50)  # the relay runs while the page is waited on
    assert held, "the answer to the edit never came"

    ann.room_link(second).click()
    expect(ann.page.locator("#room-title")).to_have_text(f"# {second['name']}")
    for message in held:
        relayed[-1].send(message)
    holding["on"] = False

    ann.room_link(first).click()
    expect(ann.page.locator("#room-title")).to_have_text(f"# {first['name']}")
    expect(ann.message("the final draft")).to_be_visible()
    ann.room_link(second).click()
    expect(ann.history_status).to_have_text(re.compile("No messages yet"))
    expect(ann.message_by_id(message_id)).to_have_count(0)


def test_a_reaction_answered_after_moving_to_the_message_box_leaves_the_focus_there(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name="late-reaction")
    sent = bob.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "Lunch?"})
    bob.api.call("PUT", f"/messages/{sent['id']}/reactions/%F0%9F%8E%89", 200)
    reacting: set[str] = set()
    held: list[str] = []
    relayed: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and '["reaction:add"' in message:
                reacting.add(message[2 : message.index("[")])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            answer = isinstance(message, str) and message.startswith("43")
            if answer and isinstance(message, str) and message[2 : message.find("[")] in reacting:
                held.append(message)
                return
            ws.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)
        relayed.append(ws)

    ann.page.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    ann.open_room(room)
    party = ann.message_by_id(sent["id"]).locator("button.reaction[data-emoji='🎉']")
    expect(party).to_have_text("🎉1")
    party.click()
    for _ in range(100):
        if held:
            break
        ann.page.wait_for_timeout(50)  # the relay runs while the page is waited on
    assert held, "the answer to the reaction never came"

    # Ann moves on to write while the answer is still on its way.
    ann.composer.click()
    ann.composer.press_sequentially("so :smi")
    suggestions = ann.page.get_by_role("listbox", name="Emoji suggestions")
    expect(suggestions).to_be_visible()
    for message in held:
        relayed[-1].send(message)
    expect(ann.page.locator("#announcer")).to_have_text("Reacted with 🎉.")

    expect(party).to_have_attribute("aria-pressed", "true")
    assert ann.page.evaluate("() => document.activeElement?.id") == "composer-input"
    expect(suggestions).to_be_visible()
    ann.composer.press("Enter")
    expect(ann.composer).to_have_value(re.compile(r"^so \S+ $"))
