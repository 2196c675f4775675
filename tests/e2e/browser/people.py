"""A person at a browser: their account's REST client and a page of the web client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api_client import Api
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect

# Chromium logs every HTTP error answer and every request or WebSocket cut by going
# offline; the page handles those (tests provoke them). Anything else on the console, a
# Content-Security-Policy refusal above all, is a fault.
EXPECTED_CONSOLE = ("Failed to load resource", "net::ERR_INTERNET_DISCONNECTED")


@dataclass
class Person:
    username: str
    api: Api
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(e in message.text for e in EXPECTED_CONSOLE):
            self.errors.append(f"console: {message.text}")

    def assert_no_page_errors(self) -> None:
        """No script error and no Content-Security-Policy violation on any page."""
        assert self.errors == [], self.errors

    # --- navigation -----------------------------------------------------------------

    def open(self, hash_route: str = "") -> None:
        self.page.goto("/" + hash_route)
        expect(self.page.locator("#app-screen")).to_be_visible()
        expect(self.banner).to_have_text("")

    def open_room(self, room: dict[str, Any]) -> None:
        self.open(f"#/room/{room['id']}")
        expect(self.page.locator("#room-title")).to_have_text(room_title(room))
        expect(self.history_status).not_to_have_text("Loading messages…")

    # --- what the page shows --------------------------------------------------------

    @property
    def banner(self) -> Locator:
        return self.page.locator("#connection-banner")

    @property
    def history_status(self) -> Locator:
        return self.page.locator("#history-status")

    @property
    def composer(self) -> Locator:
        return self.page.get_by_role("textbox", name="Message", exact=True)

    @property
    def messages(self) -> Locator:
        """Stored messages on screen (pending ones carry no id yet)."""
        return self.page.locator("#message-list li.message[data-id]")

    def message(self, text: str) -> Locator:
        return self.messages.filter(has_text=text)

    def message_by_id(self, message_id: int) -> Locator:
        return self.page.locator(f"#message-list li.message[data-id='{message_id}']")

    def message_ids(self) -> list[int]:
        ids: list[str] = self.messages.evaluate_all("nodes => nodes.map(n => n.dataset.id)")
        return [int(i) for i in ids]

    def room_link(self, room: dict[str, Any]) -> Locator:
        return self.page.locator(f"#sidebar a[data-room-id='{room['id']}']")

    # --- doing things ---------------------------------------------------------------

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")


def room_title(room: dict[str, Any]) -> str:
    """A room's heading as the page writes it: a lock for a private room (and the word
    for screen readers), a # for a public one."""
    if room.get("kind") == "private":
        return f"\U0001f512 {room['name']} (private)"
    return f"# {room['name']}"
