"""Browser tests: Debian's Chromium, driven by Playwright, against a real `parley run`.

Never a downloaded browser: without /usr/bin/chromium these tests skip, and fail under
CI=true, where `make test` must have installed it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_client import Api
from people import Person
from playwright.sync_api import Browser, BrowserType, Page, expect
from servers import IN_CI, SHARED_SERVER_ENV, LiveServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
HERE = Path(__file__).parent

# What the page shows is waited for up to 15 s, not Playwright's 5: three test workers,
# their servers and their browsers share two cores, and a search or a room's history
# has taken longer than 5 s to show there while being right.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (make test installs Debian's chromium with apt-get)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per module on SQLite; a fast ping so a cut link is noticed in seconds."""
    yield from start_server(
        tmp_path_factory.mktemp("web"), database_url=None, extra_env=SHARED_SERVER_ENV
    )


_names = itertools.count(1)


@pytest.fixture(scope="module")
def camera_browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    """Chromium with a fake camera whose permission prompt answers yes."""
    args = [*browser_type_launch_args["args"], *FAKE_CAMERA_ARGS]
    launched = browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield launched
    launched.close()


def people_on(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Person]]:
    """Makes people: each an account, its REST client and a logged-in browser page."""
    made: list[Person] = []

    def make(
        name: str = "user",
        *,
        width: int = 1200,
        height: int = 800,
        locale: str | None = None,
        timezone_id: str | None = None,
    ) -> Person:
        username = f"{name}{os.getpid()}x{next(_names)}"
        api, _ = Api.register(server.url, username)
        context = browser.new_context(
            base_url=server.url,
            viewport={"width": width, "height": height},
            locale=locale,
            timezone_id=timezone_id,
        )
        login = context.request.post(
            "/api/v1/auth/session", data={"username": username, "password": "e2e-password-1"}
        )
        assert login.status == 200, login.text()
        someone = Person(username, api, context, context.new_page())
        made.append(someone)
        return someone

    yield make
    try:
        for someone in made:
            someone.assert_no_page_errors()
    finally:
        for someone in made:
            someone.context.close()
            someone.api.close()


@pytest.fixture
def person(browser: Browser, web_server: LiveServer) -> Iterator[Callable[..., Person]]:
    yield from people_on(browser, web_server)


@pytest.fixture
def person_with_camera(
    camera_browser: Browser, web_server: LiveServer
) -> Iterator[Callable[..., Person]]:
    yield from people_on(camera_browser, web_server)


@pytest.fixture
def screenshot() -> Callable[..., None]:
    """Saves a screenshot of a main view into test-artifacts/ (git-ignored) for a look."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return save


@pytest.fixture
def room_of(person: Callable[..., Person]) -> Callable[..., dict[str, Any]]:
    """A public room made over REST by its first person, joined by the others."""

    def make(owner: Person, *others: Person, name: str = "room") -> dict[str, Any]:
        room = owner.api.call(
            "POST", "/rooms", 201, json={"name": f"{name}-{next(_names)}-{os.getpid()}"}
        )
        for other in others:
            other.api.call("POST", f"/rooms/{room['id']}/join", 201)
        return dict(room)

    return make
