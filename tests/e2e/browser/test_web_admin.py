"""The admin console at /admin, in Chromium against a real server, at desktop and phone
sizes: an administrator deactivates someone whose open page logs out at once, and
everyone else finds no console there at all."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest
from people import Person
from playwright.sync_api import Page, expect
from servers import BIN, LiveServer
from views import check_view

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def make_admin(server: LiveServer, someone: Person) -> None:
    """`parley create-admin` promotes an existing account (its password then goes unused)."""
    subprocess.run(
        [
            BIN / "parley",
            "create-admin",
            "--username",
            someone.username,
            "--password",
            "e2e-password-1",
        ],
        env=server.env,
        check=True,
        capture_output=True,
    )


def open_console(page: Page, section: str = "users") -> None:
    page.goto(f"/admin#/{section}")
    expect(page.locator(f"#{section}-view")).to_be_visible()
    expect(page.locator(f"#{section}-status")).not_to_have_text("Loading…")


@pytest.mark.parametrize("size", SIZES)
def test_an_admin_deactivates_a_user_whose_open_page_logs_out_at_once(
    person: Callable[..., Person], web_server: LiveServer, size: str
) -> None:
    width, height = SIZES[size]
    root = person("root", width=width, height=height)
    make_admin(web_server, root)
    ann = person("ann", width=width, height=height)
    ann.open()

    page = root.page
    page.goto("/admin")
    search = page.get_by_role("searchbox", name="Find users")
    search.fill(ann.username)
    search.press("Enter")
    row = page.locator("#users-body tr", has_text=ann.username)
    expect(page.locator("#users-body tr")).to_have_count(1)
    expect(row).to_contain_text("Active")
    check_view(page, f"admin-users-{size}")

    role_button = row.get_by_role("button", name=f"Change role of {ann.username}")
    role_button.click()
    role_dialog = page.get_by_role("dialog", name="Change role")
    expect(role_dialog.get_by_label("Role")).to_be_focused()
    check_view(page, f"admin-role-dialog-{size}")
    role_dialog.get_by_label("Role").select_option("Moderator")
    role_dialog.get_by_role("button", name="Save").click()
    expect(role_dialog).to_be_hidden()
    expect(row).to_contain_text("Moderator")
    assert ann.api.call("GET", "/users/me", 200)["role"] == "Moderator"

    row.get_by_role("button", name=f"Deactivate {ann.username}").click()
    dialog = page.get_by_role("dialog", name=f"Deactivate {ann.username}?")
    expect(dialog).to_be_visible()
    check_view(page, f"admin-confirm-dialog-{size}")
    dialog.get_by_role("button", name="Deactivate").click()

    expect(row).to_contain_text("Deactivated")
    expect(ann.page.locator("#auth-screen")).to_be_visible(timeout=5000)
    expect(ann.page.locator("#app-screen")).to_be_hidden()
    expect(ann.page.locator("#login-error")).to_have_text(
        "An administrator deactivated your account, so you were logged out."
    )
    # Focus is on the changed row's button, which now reactivates.
    reactivate = row.get_by_role("button", name=f"Reactivate {ann.username}")
    expect(reactivate).to_be_focused()
    reactivate.click()
    expect(row).to_contain_text("Active")
    expect(row).not_to_contain_text("Deactivated")


@pytest.mark.parametrize("size", SIZES)
def test_the_console_shows_rooms_live_broadcasts_status_and_a_password_reset(
    person: Callable[..., Person], web_server: LiveServer, size: str
) -> None:
    width, height = SIZES[size]
    root = person("root", width=width, height=height)
    make_admin(web_server, root)
    bea = person("bea", width=width, height=height)
    secret = bea.api.call(
        "POST", "/rooms", 201, json={"name": f"secret-{bea.username}", "kind": "private"}
    )
    bea.api.call(
        "POST", f"/rooms/{secret['id']}/live", 201, json={"width": 64, "height": 48, "fps": 5}
    )
    page = root.page

    open_console(page, "rooms")
    page.get_by_role("searchbox", name="Find rooms").fill(secret["name"])
    page.get_by_role("searchbox", name="Find rooms").press("Enter")
    row = page.locator("#rooms-body tr", has_text=secret["name"])
    expect(page.locator("#rooms-body tr")).to_have_count(1)
    expect(row).to_contain_text("Private")
    check_view(page, f"admin-rooms-{size}")
    row.get_by_role("button", name=f"Archive {secret['name']}").click()
    expect(row).to_contain_text("Archived")
    expect(row.get_by_role("button", name=f"Unarchive {secret['name']}")).to_be_focused()
    assert bea.api.call("GET", f"/rooms/{secret['id']}", 200)["archived"] is True

    open_console(page, "live")
    live_row = page.locator("#live-body tr", has_text=secret["name"])
    expect(live_row).to_contain_text(bea.username)
    check_view(page, f"admin-live-{size}")
    live_row.get_by_role("button", name=f"End the broadcast in {secret['name']}").click()
    page.get_by_role("dialog").get_by_role("button", name="End broadcast").click()
    expect(live_row).to_have_count(0)
    assert bea.api.call("GET", f"/rooms/{secret['id']}", 200)["live"] is None

    bea.open()  # a socket connected to the one server process
    page.get_by_role("link", name="Status").click()
    status = page.locator("#status-list")
    expect(status).to_contain_text("sqlite: reachable")
    expect(status).to_contain_text("not configured (one process)")
    expect(status).to_contain_text(re.compile(r"Sockets connected\s*[1-9]\d* \(this process\)"))
    check_view(page, f"admin-status-{size}")

    page.get_by_role("link", name="Users").click()
    page.get_by_role("searchbox", name="Find users").fill(bea.username)
    page.get_by_role("searchbox", name="Find users").press("Enter")
    expect(page.locator("#users-body tr")).to_have_count(1)
    page.get_by_role("button", name=f"Reset password of {bea.username}").click()
    page.get_by_role("dialog").get_by_role("button", name="Reset password").click()
    shown = page.get_by_role("dialog", name="New password")
    expect(shown).to_be_visible()
    password = page.locator("#password-value").inner_text()
    assert len(password) >= 16
    check_view(page, f"admin-password-dialog-{size}")
    shown.get_by_role("button", name="Done").click()
    # The old password no longer logs in; the new one does.
    login = bea.context.request.post(
        "/api/v1/auth/session", data={"username": bea.username, "password": "e2e-password-1"}
    )
    assert login.status == 401
    login = bea.context.request.post(
        "/api/v1/auth/session", data={"username": bea.username, "password": password}
    )
    assert login.status == 200, login.text()


def test_the_chat_links_to_the_console_for_administrators_only(
    person: Callable[..., Person], web_server: LiveServer
) -> None:
    root = person("root")
    make_admin(web_server, root)
    root.open()
    root.page.get_by_role("link", name="Admin").click()
    expect(root.page.locator("#users-view")).to_be_visible()
    ann = person("ann")
    ann.open()
    expect(ann.page.get_by_role("link", name="Admin")).to_have_count(0)


def test_anyone_but_an_administrator_gets_a_plain_404_at_admin(
    person: Callable[..., Person], web_server: LiveServer
) -> None:
    ann = person("ann")
    missing = ann.page.request.get("/no-such-page")
    for page in (ann.page, ann.context.browser.new_page() if ann.context.browser else None):
        assert page is not None
        response = page.goto(f"{web_server.url}/admin")
        assert response is not None
        assert response.status == 404
        assert response.body() == missing.body()
        expect(page.locator("#users-view")).to_have_count(0)
        if page is not ann.page:
            page.close()
