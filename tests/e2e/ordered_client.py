"""A python-socketio client that reads packets in the order they came off the wire.

python-engineio's client hands each message to python-socketio on a thread of its own.
A binary event comes as two messages (its header, then its attachment), and when the
attachment's thread ran first, python-socketio took the attachment for a packet of its
own and failed to decode it (an exception in a client thread, seen with video frames).
Here the messages are decoded in the read loop, in order, and only the event handlers
run on threads of their own, as before (a handler may wait without holding the loop).
"""

from __future__ import annotations

import threading
from typing import Any

import engineio
import socketio


class OrderedEngineIO(engineio.Client):  # type: ignore[misc]  # python-engineio: no type hints
    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class OrderedClient(socketio.Client):  # type: ignore[misc]  # python-socketio: no type hints
    def _engineio_client_class(self) -> type[engineio.Client]:
        return OrderedEngineIO

    def _handle_event(self, namespace: str, id: Any, data: Any) -> None:
        handle = super()._handle_event
        threading.Thread(target=handle, args=(namespace, id, data), daemon=True).start()
