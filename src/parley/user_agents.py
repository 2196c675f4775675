"""A login's device as the sessions list shows it: a User-Agent boiled down to a few words."""

from __future__ import annotations

import re

MAX_DEVICE_LENGTH = 64
# Order matters: Edge and Opera also name Chrome, Chrome also names Safari.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"[A-Za-z][\w.\-]{0,40}")


def summarize_user_agent(user_agent: str | None) -> str:
    """'Firefox on Linux', 'Chrome on Android', or the client's product name
    ('python-requests', 'curl'); 'Unknown device' when it sends none."""
    agent = (user_agent or "").strip()
    if not agent:
        return "Unknown device"
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return str(browser or system)
    product = _PRODUCT.match(agent)
    return product.group(0)[:MAX_DEVICE_LENGTH] if product else "Unknown device"
