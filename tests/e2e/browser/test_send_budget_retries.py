"""A send the server's budget refuses is shown as pending and sent again by the page, with
the same client_id, after retry_after: nothing is lost and the order holds."""

from __future__ import annotations

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
    """This module's people each have a budget of three sends in four seconds."""
    yield from limited_server(
        tmp_path_factory.mktemp("tiny-budget"), PARLEY_SEND_RATE_LIMIT="3/4 seconds"
    )


def test_sends_refused_by_a_tiny_budget_are_sent_again_by_the_page_until_all_are_stored(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann = person("ann")
    room = room_of(ann, name="burst")
    ann.open_room(room)
    watch_pending(ann)
    typed = [f"burst {n}" for n in range(8)]
    for text in typed:
        ann.send(text)

    expect(ann.message("burst 7")).to_be_visible(timeout=SETTLE_TIMEOUT_MS)
    expect(ann.page.locator("#message-list li.pending")).to_have_count(0)
    # In the order typed, each once.
    assert bodies(ann, room) == typed
    found = seen(ann)
    assert found["notSent"] == 0
    # The server did refuse some: the page said it would send them in a moment.
    assert "Sending in a moment…" in found["notes"], found["notes"]
