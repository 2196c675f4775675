"""Client events named like Socket.IO's own are refused before the library dispatches them.

python-socketio looks a client event up by its name alone, so an event a client names
"disconnect" ran the server's disconnect handler (the socket stayed connected and Parley
forgot it, so logging out no longer dropped it), one named "connect" ran the connect
handler (and could swap the socket's user for another token's), and one named "*" reached
the catch-all handler with its arguments shifted. Names the Socket.IO clients keep for
themselves, and the ones Flask-SocketIO's `send()` uses, are refused as well, so no
server-side meaning can ever be attached to them. An event with no name, or one that is not
a string, is refused here too: the library would fail looking it up.

Every refusal is counted against the socket user's event budget, and answered with an
error ack when the client asked for one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import socketio as python_socketio
from flask import request

from ..errors import ApiError
from ..extensions import socketio
from ..ratelimits import event_limiter
from .handlers import error_ack
from .sockets import registry

log = logging.getLogger(__name__)

# The handler every refused event is routed to; clients cannot reach it by its name,
# which is itself refused.
REFUSED_EVENT = "parley:refused"
RESERVED_EVENTS = frozenset(
    {
        # The server's own lifecycle events (python-socketio's Server.reserved_events).
        "connect",
        "disconnect",
        # The clients' lifecycle events (python-socketio's and socket.io-client's).
        "connect_error",
        "disconnecting",
        "__disconnect_final",
        "newListener",
        "removeListener",
        # Flask-SocketIO's send() and its handlers for it.
        "message",
        "json",
        # The catch-all handler's registration name.
        "*",
        REFUSED_EVENT,
    }
)

Dispatch = Callable[[str, str | None, int | None, Any], None]


def refused_name(data: Any) -> str | None:
    """The name to refuse the event with (its own, or "" when it has none usable), or None
    when the event may be dispatched."""
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        return ""
    name: str = data[0]
    return name if name in RESERVED_EVENTS else None


def guard_reserved_events(server: python_socketio.Server) -> None:
    """Routes refused events to REFUSED_EVENT in place of their own handler.

    `_handle_event` is where python-socketio takes every client event (text or binary,
    from a real transport or from the test client) before looking its handler up.
    """
    dispatch: Dispatch = server._handle_event

    def handle_event(eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        name = refused_name(data)
        if name is not None:
            data = [REFUSED_EVENT, name]
        dispatch(eio_sid, namespace, id, data)

    server._handle_event = handle_event


@socketio.on(REFUSED_EVENT)  # type: ignore[untyped-decorator]  # Flask-SocketIO is untyped
def refused_event(name: str = "") -> dict[str, Any]:
    found = registry().get(request.sid)  # type: ignore[attr-defined]
    if found is not None:
        wait = event_limiter().retry_after(f"user:{found.user_id}")
        if wait is not None:
            return error_ack(
                ApiError(
                    "Too many events; slow down.",
                    code="rate_limited",
                    status=429,
                    details={"retry_after": round(wait, 3)},
                )
            )
    if not name:
        return error_ack(
            ApiError(
                "An event is a list whose first item, its name, is a non-empty string.",
                code="invalid_event",
                status=400,
                details={},
            )
        )
    return error_ack(
        ApiError(
            f"{name!r} is reserved by Socket.IO; no client event may use that name.",
            code="reserved_event",
            status=400,
            details={"event": name},
        )
    )
