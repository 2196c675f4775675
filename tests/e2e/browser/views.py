"""Every view of the page checked the same way: axe-core (from npm, injected through the
DevTools protocol so the page's CSP stays as it is) finds no violation of any impact, in
the light theme and in the dark one, and a screenshot of each lands in
test-artifacts/screenshots/<name>-<theme>.png.

The theme follows the system's unless the person chose one: the check switches the
browser's `prefers-color-scheme` and waits for the page to follow it (its <html> carries
`data-theme`), so it also proves that the default follows the system.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from servers import IN_CI

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
THEMES = ("light", "dark")


@cache
def axe_source() -> str:
    if not AXE.exists():
        reason = f"{AXE} is missing: run `make web` (npm ci)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text()


def violations(page: Page, *, impacts: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now, of the given impacts (all by default)."""
    # Once per document: a check runs axe in both themes, and its source is half a megabyte.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]],
        }
        for v in result["violations"]
        if impacts is None or v["impact"] in impacts
    ]


def check_view(page: Page, name: str) -> None:
    """axe in both themes and a screenshot of each; the page is left in the light one."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[dict[str, Any]]] = {}
    for theme in (*THEMES[1:], THEMES[0]):
        page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        # Colours ease between themes; axe reads the computed ones.
        page.wait_for_timeout(250)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{theme}.png"))
        found[theme] = violations(page)
    assert found == {theme: [] for theme in THEMES}, found
