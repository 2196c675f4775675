"""What the tests of the page under rate limits share: a server with limits on, and a
watch on the pending messages the page shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from people import Person
from servers import SHARED_SERVER_ENV, LiveServer, start_server

SETTLE_TIMEOUT_MS = 30_000

# Counts, from the moment it is installed, every "Not sent" the page shows and every
# waiting note a pending message carries, however briefly.
WATCH_PENDING = """() => {
  window.seen = { notSent: 0, notes: [] };
  const look = (node) => {
    if (!(node instanceof Element)) return;
    if (node.matches(".send-failed") || node.querySelector(".send-failed")) {
      window.seen.notSent += 1;
    }
    for (const note of node.querySelectorAll(".pending-state")) {
      window.seen.notes.push(note.textContent);
    }
  };
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) look(node);
  }).observe(document.getElementById("message-list"), { childList: true, subtree: true });
}"""


def limited_server(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """A server whose rate limits are on, at their defaults unless `settings` say."""
    env = {k: v for k, v in SHARED_SERVER_ENV.items() if k != "PARLEY_RATE_LIMITS"}
    yield from start_server(tmp_path, database_url=None, extra_env={**env, **settings})


def watch_pending(someone: Person) -> None:
    someone.page.evaluate(WATCH_PENDING)


def seen(someone: Person) -> dict[str, Any]:
    """What the watch saw: {"notSent": count, "notes": [texts]}."""
    found: dict[str, Any] = someone.page.evaluate("window.seen")
    return found


def bodies(someone: Person, room: dict[str, Any]) -> list[str]:
    return [m["body"] for m in someone.api.history(room["id"])]
