"""Long-polling batches of packets as large as the clients send and no larger than they read.

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

The other way, python-engineio's server applies the same limit of 16 to the packets of a
POST, and a POST over it is answered 200 with none of its packets handled (a traceback
in the log, nothing to the client): the sends in it were neither stored nor refused, and
never acknowledged. Here a POST over the limit is a 400 that ends the session.

Both clients put every packet they have buffered in one POST:
engine.io-client up to the maxPayload bytes the server announced, python-engineio's
client with no bound, and a client buffers many while its previous POST is under way
(a starved CPU) or while it is offline (socket.io-client sends its whole buffer after
the reconnect). So a POST may carry up to MAX_POST_PACKETS packets here; the count stays
bounded because one request makes the server decode, handle and answer every one.

And python-engineio's server takes only a pong as the answer to its ping. A long-polling
client's pong waits behind its POST in flight, which the server handles whole before
answering it: when a starved server takes longer than the ping timeout over one POST,
it closed the session in the middle of it, and the acks of the rest of that POST were
lost (their messages stored). Here any packet from the client restarts the wait for its
pong, as the reference server (socket.io's engine.io) does: the packets being handled
show the client alive. A client that sends nothing and answers no ping is still dropped
after the ping timeout. Upstream's advice for a busy server is handlers that return
quickly (https://github.com/miguelgrinberg/python-engineio/pull/24), which ordered
handling (async_handlers=False) rules out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import socketio as python_socketio
from engineio import exceptions as engineio_exceptions
from engineio.payload import Payload

from .arrivals import arriving, timed_websocket

# python-engineio's client default (Payload.max_decode_packets), not the server
# process's own value: a client decodes with its own library's default.
MAX_POLL_PACKETS = 16

# Packets one long-polling POST may carry: well over what a person or a bot sends in the
# seconds a starved POST takes, or types while offline, in bytes (a few hundred each)
# far under the request size limit (PARLEY_SOCKET_MAX_PAYLOAD).
MAX_POST_PACKETS = 256

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


def alive_on_every_packet(session: Any) -> Callable[[Any], Any]:
    """The session's `receive`, restarting the wait for a pong first when one is due.

    `last_ping` is when the unanswered ping went out (None once answered);
    python-engineio closes the session when a packet is sent to it later than the ping
    timeout after that.
    """
    receive = session.receive

    def receive_alive(packet: Any) -> Any:
        if session.last_ping:
            session.last_ping = time.time()
        return receive(packet)

    return receive_alive


def refuse_oversized_posts(session: Any) -> Callable[[dict[str, Any]], None]:
    """python-engineio's POST handling, except that a POST it cannot decode (over
    MAX_POST_PACKETS packets, or not a payload) is a bad request: the client gets a 400
    and the session ends, so that it reconnects and sends again, where upstream answers
    200 having handled none of the packets and logs a traceback."""

    def handle_post_request(environ: dict[str, Any]) -> None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > session.server.max_http_buffer_size:
            raise engineio_exceptions.ContentTooLongError()
        body = environ["wsgi.input"].read(length).decode("utf-8")
        try:
            packets = Payload(encoded_payload=body).packets
        except ValueError as exc:
            # Closed here without waiting: python-engineio's own close on a bad POST
            # waits for a poll to take the close packet, holding this request meanwhile.
            session.close(wait=False)
            raise engineio_exceptions.ContentTooLongError(str(exc)) from exc
        # Its packets arrived with it: a send's deadline counts from here.
        with arriving(time.monotonic()):
            for packet in packets:
                session.receive(packet)

    return handle_post_request


def fit_long_polling(server: python_socketio.Server) -> None:
    """Give every Engine.IO session of this server a BoundedPoll and a `receive` that
    takes any packet as a sign of life, let POSTs carry up to MAX_POST_PACKETS
    packets, and time the packets each session receives (arrivals.py).

    The Engine.IO connect event runs once a session exists and before its first poll;
    python-engineio has no other hook into the sessions it creates. Its POST limit is a
    class attribute, read by every payload it decodes in this process: the server's
    POSTs, and the responses of any python-engineio client here (which then accepts
    more than 16 too).
    """
    Payload.max_decode_packets = max(Payload.max_decode_packets, MAX_POST_PACKETS)
    eio = server.eio
    on_connect = eio.handlers["connect"]

    def bound_then_connect(eio_sid: str, environ: dict[str, Any]) -> Any:
        session = eio.sockets.get(eio_sid)
        if session is not None:
            session.poll = BoundedPoll(session.poll)
            session.receive = alive_on_every_packet(session)
            session.handle_post_request = refuse_oversized_posts(session)
            session._websocket_handler = timed_websocket(session._websocket_handler)
        return on_connect(eio_sid, environ)

    eio.on("connect", bound_then_connect)
