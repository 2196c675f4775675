"""The theme: the system's until a person chooses Light or Dark in the settings dialog's
Appearance section; the choice outlasts a reload and System gives control back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from people import Person
from playwright.sync_api import expect
from views import check_view

MakePerson = Callable[..., Person]


@pytest.mark.parametrize(
    ("size", "suffix"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 390, "height": 844}, "phone")],
    ids=["desktop", "phone"],
)
def test_appearance_in_the_settings_chooses_the_theme_over_the_systems(
    person: MakePerson, size: dict[str, int], suffix: str
) -> None:
    ann = person("ann", **size)
    page = ann.page
    html = page.locator("html")
    page.emulate_media(color_scheme="light")
    ann.open()
    expect(html).to_have_attribute("data-theme", "light")

    page.get_by_role("button", name="your profile and account").click()
    appearance = page.get_by_role("group", name="Theme")
    appearance.scroll_into_view_if_needed()
    system = appearance.get_by_role("radio", name="System")
    dark = appearance.get_by_role("radio", name="Dark")
    light = appearance.get_by_role("radio", name="Light")
    expect(system).to_be_checked()
    check_view(page, f"settings-appearance-{suffix}")

    dark.check()
    expect(html).to_have_attribute("data-theme", "dark")
    page.keyboard.press("Escape")
    page.reload()
    expect(page.locator("#app-screen")).to_be_visible()
    expect(html).to_have_attribute("data-theme", "dark")  # the system still says light

    page.get_by_role("button", name="your profile and account").click()
    expect(dark).to_be_checked()
    page.emulate_media(color_scheme="dark")
    light.check()
    expect(html).to_have_attribute("data-theme", "light")

    # Back to the system's, which the page follows live again.
    system.check()
    expect(html).to_have_attribute("data-theme", "dark")
    page.emulate_media(color_scheme="light")
    expect(html).to_have_attribute("data-theme", "light")
    assert page.evaluate("localStorage.getItem('parley.theme')") is None
