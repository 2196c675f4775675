"""Long-poll responses no larger than python-engineio's client reads.

python-engineio's server answers a long-poll with every packet queued for the socket,
however many, while its client refuses a response of more than 16 packets
(`engineio.payload.Payload.max_decode_packets`): it drops that response whole, acks and
events alike, and ends the connection. A socket's queue outgrows 16 packets whenever the
server answers a burst of sends before the client polls again: on gevent, which handles
a whole POST before the waiting poll runs, at every burst; in threading mode when the
CPU is starved. The sends were stored but their acks never reached the client. Upstream
keeps the limit on the client as a guard against oversized payloads and leaves the
server's batching as it is (https://github.com/miguelgrinberg/python-engineio/issues/142).

So each long-poll here takes at most MAX_POLL_PACKETS packets; the rest stay, in order,
for the client's next poll (or for the WebSocket the session upgrades to). Browsers'
engine.io-client decodes any number; for them this only splits a large batch in two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import socketio as python_socketio

# python-engineio's client default (Payload.max_decode_packets), not the server
# process's own value: a client decodes with its own library's default.
MAX_POLL_PACKETS = 16

Poll = Callable[[], list[Any]]


class BoundedPoll:
    """A session's `poll`, handing out at most `limit` packets at a time.

    Packets taken from the queue beyond the limit are held here and handed out first
    by the next poll, so they go out in the order the server queued them. The empty
    list that says the session closed is passed on only once nothing is held.
    """

    def __init__(self, poll: Poll, limit: int = MAX_POLL_PACKETS) -> None:
        self.poll = poll
        self.limit = limit
        self.held: list[Any] = []

    def __call__(self) -> list[Any]:
        if not self.held:
            self.held = self.poll()
        batch, self.held = self.held[: self.limit], self.held[self.limit :]
        return batch


def bound_long_polls(server: python_socketio.Server) -> None:
    """Give every Engine.IO session of this server a BoundedPoll.

    The Engine.IO connect event runs once a session exists and before its first poll;
    python-engineio has no other hook into the sessions it creates.
    """
    eio = server.eio
    on_connect = eio.handlers["connect"]

    def bound_then_connect(eio_sid: str, environ: dict[str, Any]) -> Any:
        session = eio.sockets.get(eio_sid)
        if session is not None:
            session.poll = BoundedPoll(session.poll)
        return on_connect(eio_sid, environ)

    eio.on("connect", bound_then_connect)
