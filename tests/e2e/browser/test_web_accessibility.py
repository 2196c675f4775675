"""axe-core (from npm) finds no serious or critical accessibility violation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from people import Person
from playwright.sync_api import Browser, Page, expect
from servers import IN_CI, LiveServer

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        reason = f"{AXE} is missing: run `make web` (npm ci)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text()


def serious_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol, so the page's CSP stays as it is.
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_login_page_has_no_serious_accessibility_violations(
    browser: Browser, web_server: LiveServer, axe_source: str
) -> None:
    context = browser.new_context(base_url=web_server.url)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    assert serious_violations(page, axe_source) == []
    page.get_by_role("tab", name="Create account").click()
    expect(page.locator("#register-form")).to_be_visible()
    assert serious_violations(page, axe_source) == []
    context.close()


def test_room_view_has_no_serious_accessibility_violations(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]], axe_source: str
) -> None:
    ann, bob = person("ann"), person("bob")
    room = room_of(ann, bob, name="a11y")
    ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "Hello *all*"})
    bob.api.call(
        "POST",
        f"/rooms/{room['id']}/messages",
        201,
        json={"body": "`code` and a list:\n\n- one\n- two"},
    )
    ann.open_room(room)
    ann.page.get_by_role("button", name="Members").click()
    expect(ann.page.locator("#member-list li")).to_have_count(2)
    assert serious_violations(ann.page, axe_source) == []

    ann.page.get_by_role("button", name="Create a room").click()
    expect(ann.page.get_by_role("dialog", name="Create a room")).to_be_visible()
    assert serious_violations(ann.page, axe_source) == []
    ann.page.keyboard.press("Escape")

    ann.open("#/directory")
    expect(ann.page.locator("#directory-list li")).not_to_have_count(0)
    assert serious_violations(ann.page, axe_source) == []
