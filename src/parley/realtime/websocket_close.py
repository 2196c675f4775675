"""A WebSocket close that tolerates a connection already gone.

python-engineio's WebSocket writer ends by closing the connection. When the client's
end went away first (a reset, or a stop signal closing every session at once), the
close frame's send fails and simple-websocket lets that error out of the writer, which
logs a traceback for a connection that is closed either way.
"""

from __future__ import annotations

import contextlib
from typing import Any

import simple_websocket


def tolerate_closed_websockets(server: Any) -> None:
    """Make the Engine.IO server's WebSocket wrapper close quietly when the connection is
    gone. The wrapper class is python-engineio's per async mode choice, kept in its
    `_async` table (no public hook); a copy of the table is changed, not the module's."""
    eio = server.eio
    wrapper = eio._async.get("websocket")
    if wrapper is None or getattr(wrapper, "tolerates_closed", False):
        return
    eio._async = {**eio._async, "websocket": quiet_close(wrapper)}


def quiet_close(wrapper: type[Any]) -> type[Any]:
    class QuietClose(wrapper):  # type: ignore[misc]  # engineio: untyped
        tolerates_closed = True

        def close(self) -> None:
            with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
                super().close()

    QuietClose.__name__ = f"QuietClose{wrapper.__name__}"
    return QuietClose
