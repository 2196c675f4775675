"""Answers that arrive after the reader moved on land where they belong."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import Page, WebSocketRoute, expect

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


class HeldAnswers:
    """Relays the page's Socket.IO WebSocket, holding back the server's answers to one
    event (and dropping the room events that would say the same) until released."""

    def __init__(self, page: Page, event: str, *, drop_room_event: bool = False) -> None:
        self.page = page
        self.event = event
        self.drop_room_event = drop_room_event
        self.holding = True
        self.asked: set[str] = set()
        self.held: list[str] = []
        self.routes: list[WebSocketRoute] = []
        page.route_web_socket(re.compile(r".*/socket\.io/.*"), self._relay)

    def _relay(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and f'["{self.event}"' in message:
                self.asked.add(message[2 : message.index("[")])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if self.holding and isinstance(message, str):
                answer = message[2 : message.find("[")] if message.startswith("43") else None
                if answer in self.asked:
                    self.held.append(message)
                    return
                if self.drop_room_event and message.startswith(f'42["{self.event}"'):
                    return
            ws.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)
        self.routes.append(ws)

    def wait_until_held(self) -> None:
        for _ in range(100):
            if self.held:
                return
            self.page.wait_for_timeout(50)  # the relay runs while the page is waited on
        raise AssertionError(f"the answer to {self.event} never came")

    def release(self) -> None:
        for message in self.held:
            self.routes[-1].send(message)
        self.holding = False


def test_an_edit_answered_after_moving_to_another_room_updates_its_own_room_only(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    first, second = room_of(ann, name="first"), room_of(ann, name="second")
    # The room's event would fix the first room by itself: only the answer to the edit
    # may carry the change here.
    answers = HeldAnswers(ann.page, "message:edit", drop_room_event=True)
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
    answers.wait_until_held()

    ann.room_link(second).click()
    expect(ann.page.locator("#room-title")).to_have_text(f"# {second['name']}")
    answers.release()

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
    answers = HeldAnswers(ann.page, "reaction:add")
    ann.open_room(room)
    party = ann.message_by_id(sent["id"]).locator("button.reaction[data-emoji='🎉']")
    expect(party).to_have_text("🎉1")
    party.click()
    answers.wait_until_held()

    # Ann moves on to write while the answer is still on its way.
    ann.composer.click()
    ann.composer.press_sequentially("so :smi")
    suggestions = ann.page.get_by_role("listbox", name="Emoji suggestions")
    expect(suggestions).to_be_visible()
    answers.release()
    expect(ann.page.locator("#announcer")).to_have_text("Reacted with 🎉.")

    expect(party).to_have_attribute("aria-pressed", "true")
    assert ann.page.evaluate("() => document.activeElement?.id") == "composer-input"
    expect(suggestions).to_be_visible()
    ann.composer.press("Enter")
    expect(ann.composer).to_have_value(re.compile(r"^so \S+ $"))
