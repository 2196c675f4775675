"""A person chatting fast never sees "Not sent": with the shipped rate limits the page
stores everything typed at human speed, and keeps what is typed offline until the link
is back (issue 17, item 6)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from limited_server import SETTLE_TIMEOUT_MS, bodies, limited_server, seen, watch_pending
from people import Person
from playwright.sync_api import expect
from servers import LiveServer

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's people talk to a server with the shipped rate limits."""
    yield from limited_server(tmp_path_factory.mktemp("human-speed"))


def test_thirty_short_messages_typed_at_four_a_second_are_all_stored_and_none_not_sent(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name="fast")
    ann.open_room(room)
    watch_pending(ann)
    typed = [f"quick {n}" for n in range(30)]
    start = time.monotonic()
    for n, text in enumerate(typed):
        # Keystrokes (each an input event, so typing indicators), then Enter.
        ann.composer.press_sequentially(text, delay=5)
        ann.composer.press("Enter")
        if n % 5 == 4:
            # Someone answers now and then, so the page also moves its read mark.
            bob.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": f"ok {n}"})
        time.sleep(max(0.0, start + (n + 1) / 4 - time.monotonic()))

    expect(ann.message("quick 29")).to_be_visible(timeout=SETTLE_TIMEOUT_MS)
    expect(ann.page.locator("#message-list li.pending")).to_have_count(0)
    assert [b for b in bodies(ann, room) if b.startswith("quick")] == typed
    assert seen(ann)["notSent"] == 0


def test_a_message_typed_offline_is_sent_after_the_reconnect_without_a_click(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    room = room_of(ann, name="train")
    ann.open_room(room)
    watch_pending(ann)
    ann.context.set_offline(True)
    expect(ann.banner).to_have_text("Reconnecting…", timeout=SETTLE_TIMEOUT_MS)
    ann.send("typed on the train")
    ann.send("and a second one")
    pending = ann.page.locator("#message-list li.pending")
    expect(pending).to_have_count(2)
    expect(pending.first).to_contain_text("Waiting for the connection…")
    client_ids = [pending.nth(i).get_attribute("data-client-id") for i in range(2)]

    ann.context.set_offline(False)
    expect(ann.message("and a second one")).to_be_visible(timeout=SETTLE_TIMEOUT_MS)
    expect(pending).to_have_count(0)
    stored = ann.api.history(room["id"])
    assert [m["body"] for m in stored] == ["typed on the train", "and a second one"]
    assert [m["client_id"] for m in stored] == client_ids
    assert seen(ann)["notSent"] == 0
