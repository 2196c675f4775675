"""The broadcaster client behind `parley stream`: frame sources and the Socket.IO sender.

It is a client of the server's public API, kept apart from the server package so that
the server never imports its libraries (an HTTP client, a WebSocket client, OpenCV).
They come with Parley's `stream` extra. From the server it takes only the frame rules
(`parley.video.frames`), so a frame it sends is one the server takes.
"""

from __future__ import annotations

from importlib.util import find_spec

EXTRA = '"parley[stream]"'
# The import names of the libraries the extra brings that the client cannot start
# without (OpenCV is needed by camera sources alone, and they say so themselves).
REQUIRED = {"requests": "requests", "websocket": "websocket-client"}


def missing_libraries() -> list[str]:
    """The distributions of the extra that are not installed, by their pip names."""
    return [dist for module, dist in REQUIRED.items() if find_spec(module) is None]


def not_installed_message(missing: list[str]) -> str:
    return (
        f"parley stream needs the broadcaster client's libraries, and {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not installed: pip install {EXTRA}"
    )
