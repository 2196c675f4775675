"""Unread messages show on the browser tab: the icon carries a dot and the title the
count ("(2) ..."), both gone once the messages are read; /favicon.ico is the icon."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from people import Person
from playwright.sync_api import expect

MakePerson = Callable[..., Person]
MakeRoom = Callable[..., dict[str, Any]]


def test_the_tab_shows_unread_messages_until_they_are_read(
    person: MakePerson, room_of: MakeRoom
) -> None:
    ann, bob = person("ann"), person("bob")
    here = room_of(ann, bob, name="here")
    there = room_of(ann, bob, name="there")
    ann.open_room(here)
    page = ann.page
    icon = page.locator("link#page-icon")
    expect(page).to_have_title(f"{here['name']} · Parley")
    expect(icon).to_have_attribute("href", re.compile(r"/icon\.svg$"))

    for n in range(2):
        bob.api.call("POST", f"/rooms/{there['id']}/messages", 201, json={"body": f"psst {n}"})
    expect(page).to_have_title(f"(2) {here['name']} · Parley")
    expect(icon).to_have_attribute("href", re.compile(r"/icon-unread\.svg$"))
    assert page.request.get(icon.get_attribute("href") or "").status == 200

    # Read where one is looking: no count for the open room.
    bob.api.call("POST", f"/rooms/{here['id']}/messages", 201, json={"body": "in sight"})
    expect(ann.message("in sight")).to_be_visible()
    expect(page).to_have_title(f"(2) {here['name']} · Parley")

    ann.room_link(there).click()
    expect(ann.message("psst 1")).to_be_visible()
    expect(page).to_have_title(f"{there['name']} · Parley")
    expect(icon).to_have_attribute("href", re.compile(r"/icon\.svg$"))


def test_favicon_ico_answers_with_the_icon(person: MakePerson) -> None:
    ann = person("ann")
    response = ann.page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.body()
