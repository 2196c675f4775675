"""Live video in the browser: going live from a (fake) camera, watched in another context."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from people import Person
from PIL import Image
from playwright.sync_api import expect

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


def test_a_member_goes_live_from_the_camera_and_another_watches_beside_the_chat(
    person_with_camera: MakePerson,
    person: MakePerson,
    room_of: MakeRoom,
    screenshot: Callable[..., None],
) -> None:
    ann = person_with_camera("ann")
    bob = person("bob")
    room = room_of(ann, bob, name="studio")
    ann.open_room(room)
    bob.open_room(room)

    ann.page.get_by_role("button", name="Go live").click()
    expect(ann.page.locator("#video-title")).to_have_text("You are live")
    expect(bob.page.locator("#video-title")).to_have_text(f"{ann.username} is live")
    expect(bob.room_link(room).locator(".live-tag")).to_have_text("LIVE")

    video = bob.page.get_by_role("img", name=f"Live video from {ann.username}")
    expect(video).to_be_visible()
    bob.page.wait_for_function(
        "document.getElementById('video-live').naturalWidth > 0", timeout=15_000
    )
    assert video.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [640, 480]
    expect(ann.page.locator("#video-viewers")).to_have_text("1 watching")

    first = latest_frame(bob, room)
    bob.page.wait_for_timeout(500)
    second = latest_frame(bob, room)
    assert second[0] > first[0]  # frames keep coming
    assert Image.open(io.BytesIO(second[1])).size == (640, 480)
    screenshot(bob.page, "room-live")

    bob.send("nice picture")
    expect(ann.message("nice picture")).to_be_visible()

    ann.page.get_by_role("button", name="Stop").click()
    expect(bob.page.locator("#video-panel")).to_be_hidden()
    expect(bob.room_link(room).locator(".live-tag")).to_have_count(0)
    expect(ann.page.get_by_role("button", name="Go live")).to_be_visible()


def latest_frame(someone: Person, room: dict[str, Any]) -> tuple[int, bytes]:
    response = someone.api.http.get(
        someone.api.base.removesuffix("/api/v1") + f"/rooms/{room['id']}/live.jpg", timeout=10
    )
    assert response.status_code == 200, response.text
    return int(response.headers["X-Frame-Seq"]), response.content


def test_a_denied_camera_gets_a_clear_message(person: MakePerson, room_of: MakeRoom) -> None:
    ann = person("ann")
    room = room_of(ann, name="nocam")
    ann.open_room(room)
    ann.page.get_by_role("button", name="Go live").click()
    expect(ann.page.locator("#video-status")).to_contain_text("camera", ignore_case=True)
    expect(ann.page.get_by_role("button", name="Go live")).to_be_visible()
    assert ann.api.call("GET", f"/rooms/{room['id']}", 200)["live"] is None
