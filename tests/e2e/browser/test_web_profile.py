"""A person's profile in the page: their name and picture changed in the settings and seen
live by someone else, a new password logging out their other page, and the card that
opens from a member or an author, with "Message" opening the direct room."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from api_client import Api
from people import Person
from PIL import Image
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect
from servers import LiveServer
from views import check_view

OLD_PASSWORD = "e2e-password-1"
NEW_PASSWORD = "plum violet harbour lantern 42"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def png(colour: tuple[int, int, int], width: int = 600, height: int = 400) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def framed(centre: tuple[int, int, int], frame: tuple[int, int, int]) -> bytes:
    """A 600x400 PNG: its centred 200x200 square one colour, the rest another."""
    image = Image.new("RGB", (600, 400), frame)
    image.paste(Image.new("RGB", (200, 200), centre), (200, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def open_settings(page: Page) -> Locator:
    page.get_by_role("button", name="profile and account").click()
    dialog = page.get_by_role("dialog", name="Settings")
    expect(dialog).to_be_visible()
    return dialog


def show_members(someone: Person) -> Locator:
    someone.page.get_by_role("button", name="Members").click()
    panel = someone.page.locator("#members-panel")
    expect(panel).to_be_visible()
    return panel


def test_a_new_name_and_picture_show_live_on_the_other_persons_page(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]], size: str
) -> None:
    width, height = SIZES[size]
    ann, bob = person("ann", width=width, height=height), person("bob", width=width, height=height)
    room = room_of(ann, bob, name="faces")
    ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "hello from ann"})
    ann.open_room(room)
    bob.open_room(room)
    author = bob.message("hello from ann").locator(".author")
    expect(author).to_have_text(ann.username)
    if size == "desktop":
        members = show_members(bob)
        expect(members.get_by_text(ann.username)).to_be_visible()

    dialog = open_settings(ann.page)
    name = dialog.get_by_label("Display name")
    expect(name).to_have_value(ann.username)
    name.fill("Ann Example")
    dialog.get_by_role("button", name="Save name").click()
    expect(dialog.locator("#profile-status")).to_have_text("Saved.")

    picture: FilePayload = {
        "name": "me.png",
        "mimeType": "image/png",
        "buffer": framed(centre=(20, 160, 90), frame=(240, 200, 20)),
    }
    dialog.locator("#avatar-file").set_input_files(files=[picture])
    expect(dialog.get_by_role("img", name="Your new picture, as it will show")).to_be_visible()
    dialog.get_by_label("Zoom").fill("2")
    check_view(ann.page, f"settings-dialog-crop-{size}")
    dialog.get_by_role("button", name="Use this picture").click()
    expect(dialog.locator("#avatar-crop")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Remove picture")).to_be_visible()

    url = ann.api.call("GET", "/users/me", 200)["avatar_url"]
    assert url and url.startswith(f"/api/v1/users/{ann.api.call('GET', '/users/me')['id']}/avatar")
    # Zoomed twice, the square kept is the centred 200 of the 600x400 picture: all green.
    served = bob.api.http.get(bob.api.base.removesuffix("/api/v1") + url, timeout=30)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
    kept = Image.open(io.BytesIO(served.content)).convert("RGB")
    for corner in ((3, 3), (252, 3), (3, 252), (252, 252)):
        pixel = kept.getpixel(corner)
        assert isinstance(pixel, tuple)
        assert all(abs(a - b) < 16 for a, b in zip(pixel, (20, 160, 90), strict=True))
    # Everywhere the other person sees ann, without a reload.
    expect(author).to_have_text("Ann Example")
    expect(bob.message("hello from ann").locator(".avatar img")).to_have_attribute("src", url)
    if size == "desktop":
        expect(members.get_by_text("Ann Example")).to_be_visible()
        expect(members.locator(".avatar img")).to_have_count(1)
        expect(members.locator(".avatar img")).to_have_attribute("src", url)
    # The picture loads: it is served to a logged-in page.
    bob.page.wait_for_function(
        "(url) => [...document.querySelectorAll('.avatar img')]"
        ".some((img) => img.getAttribute('src') === url && img.naturalWidth === 256)",
        arg=url,
    )
    # And on ann's own page: the top bar and her message.
    expect(ann.page.locator("#me-avatar img")).to_have_attribute("src", url)
    if size == "desktop":
        expect(ann.page.locator("#me-name")).to_have_text("Ann Example")
    expect(ann.message("hello from ann").locator(".author")).to_have_text("Ann Example")
    check_view(ann.page, f"settings-dialog-{size}")

    dialog.get_by_role("button", name="Remove picture").click()
    expect(dialog.get_by_role("button", name="Remove picture")).to_be_hidden()
    expect(bob.message("hello from ann").locator(".avatar img")).to_have_count(0)
    expect(bob.message("hello from ann").locator(".avatar")).to_have_text("A")


def second_page(browser: Browser, server: LiveServer, someone: Person, size: str) -> Page:
    """Another browser of the same person, logged in with their password."""
    width, height = SIZES[size]
    context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height})
    login = context.request.post(
        "/api/v1/auth/session", data={"username": someone.username, "password": OLD_PASSWORD}
    )
    assert login.status == 200, login.text()
    page = context.new_page()
    page.goto("/")
    expect(page.locator("#app-screen")).to_be_visible()
    return page


def test_a_new_password_logs_out_the_persons_other_page_at_once(
    person: Callable[..., Person],
    room_of: Callable[..., dict[str, Any]],
    browser: Browser,
    web_server: LiveServer,
    size: str,
) -> None:
    width, height = SIZES[size]
    ann = person("ann", width=width, height=height)
    room = room_of(ann, name="locks")
    bot_token = ann.api.call("POST", "/auth/tokens", 201, json={"name": "ci-bot"})["token"]
    bot = Api(web_server.url, bot_token)
    other = second_page(browser, web_server, ann, size)
    ann.open_room(room)
    dialog = open_settings(ann.page)
    expect(dialog.locator("#sessions-list li")).to_have_count(3)  # two pages, one API login
    expect(dialog.locator("#tokens-list li")).to_have_count(1)
    expect(dialog.locator("#tokens-list")).to_contain_text("ci-bot")

    dialog.get_by_label("Current password").fill("not my password")
    dialog.get_by_label("New password").fill(NEW_PASSWORD)
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.locator("#password-error")).to_have_text("Your current password is not right.")
    expect(other.locator("#app-screen")).to_be_visible()

    dialog.get_by_label("Current password").fill(OLD_PASSWORD)
    dialog.get_by_label("New password").fill(NEW_PASSWORD)
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.locator("#password-status")).to_have_text(
        "Password changed. You were logged out everywhere else."
    )
    # The other page is logged out live, and says why.
    expect(other.locator("#auth-screen")).to_be_visible()
    expect(other.locator("#login-error")).to_have_text(
        "Your session has ended. Please log in again."
    )
    # So is the API login the test's client made; this page stays, and lists only itself.
    ann.api.call("GET", "/users/me", 401)
    expect(dialog.locator("#sessions-list li")).to_have_count(1)
    expect(dialog.locator("#sessions-list")).to_contain_text("(this device)")
    # A hand-made API token outlives the new password, until revoked here.
    bot.call("GET", "/users/me", 200)
    dialog.get_by_role("button", name="Revoke token ci-bot").click()
    expect(dialog.locator("#tokens-list")).to_have_text("No API tokens.")
    bot.call("GET", "/users/me", 401)
    bot.close()
    dialog.get_by_role("button", name="Close").click()
    ann.send("still here")
    expect(ann.message("still here")).to_be_visible()
    # The new password works for a new login.
    other.locator("#login-username").fill(ann.username)
    other.locator("#login-password").fill(NEW_PASSWORD)
    other.get_by_role("button", name="Log in").click()
    expect(other.locator("#app-screen")).to_be_visible()
    other.context.close()


def test_a_persons_card_opens_from_the_members_and_messages_them(
    person: Callable[..., Person], room_of: Callable[..., dict[str, Any]], size: str
) -> None:
    width, height = SIZES[size]
    ann, bob = person("ann", width=width, height=height), person("bob", width=width, height=height)
    room = room_of(ann, bob, name="cards")
    ann.api.call("PATCH", "/users/me", 200, json={"display_name": "Ann Card"})
    ann.api.call(
        "PUT",
        "/users/me/avatar",
        200,
        data=png((200, 60, 40), 300, 300),
        headers={"Content-Type": "image/png"},
    )
    ann.api.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "card me"})
    ann.open_room(room)
    bob.open_room(room)

    members = show_members(bob)
    members.get_by_role("button", name="Ann Card").click()
    card = bob.page.get_by_role("dialog", name="Ann Card")
    expect(card).to_be_visible()
    expect(card).to_contain_text(f"@{ann.username}")
    expect(card.locator("#profile-card-status")).to_have_text("Online")
    expect(card.locator(".avatar img")).to_have_count(1)
    check_view(bob.page, f"profile-card-{size}")
    bob.page.keyboard.press("Escape")
    expect(card).to_be_hidden()

    # From the author of a message, by keyboard: the card, then "Message" opens the DM.
    author = bob.message("card me").get_by_role("button", name="Ann Card")
    author.focus()
    bob.page.keyboard.press("Enter")
    expect(card).to_be_visible()
    expect(card.get_by_role("button", name="Message Ann Card")).to_be_focused()
    card.get_by_role("button", name="Message Ann Card").click()
    expect(card).to_be_hidden()
    expect(bob.page.locator("#room-title")).to_have_text("Ann Card")
    expect(bob.page.locator("#room-topic")).to_have_text(f"Direct message with @{ann.username}")

    # One's own card offers the settings.
    ann.page.locator(
        f"#message-list .author[data-profile='{ann.api.call('GET', '/users/me')['id']}']"
    ).first.click()
    own = ann.page.get_by_role("dialog", name="Ann Card")
    expect(own.get_by_role("button", name="Message Ann Card")).to_be_hidden()
    own.get_by_role("button", name="Edit profile").click()
    expect(ann.page.get_by_role("dialog", name="Settings")).to_be_visible()
