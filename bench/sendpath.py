"""The send path alone, in one process: CPU time per `message:send`, Parley's or the relay's.

    python -m bench.sendpath parley           # sends one after another: batches of one
    python -m bench.sendpath parley --group 3 # three at once, as under load: shared commits
    python -m bench.sendpath relay

Rooms of ten as in the fan-out, on gevent. Each send goes through the Socket.IO server
from its encoded packet to the encoded event for the room and the sender's ack; the
transport's writes to each socket are left out (counted, not sent), so what is measured
is the part a server does per message on top of its transport, with no load generator
on the same cores. The process's CPU time is the figure: the median and the least of a
few rounds, the least being the one other work on the machine disturbed least.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from socketio import packet  # noqa: E402

PASSWORD = "correct horse battery staple"
Senders = list[tuple[str, int]]
# Every send's client_id is new, across rounds too: a repeated one is a resend, which
# stores nothing and sends no event.
NUMBERS = itertools.count()


def parley_server(rooms: int, per_room: int) -> tuple[Any, Senders]:
    """A Parley app on a fresh SQLite file, its users in rooms, each user's socket open."""
    from flask_migrate import upgrade

    from parley import create_app
    from parley.extensions import socketio

    folder = tempfile.mkdtemp(prefix="parley-sendpath-")
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/parley.db",
            "PARLEY_ASYNC_MODE": "gevent",
            "PARLEY_RATE_LIMITS": False,
            "PARLEY_MAX_CONNECTIONS": 0,
            "PARLEY_MAX_SOCKETS_PER_ADDRESS": 0,
            "PARLEY_MAX_SOCKETS_PER_USER": 0,
        },
    )
    with app.app_context():
        upgrade()
    web = app.test_client()
    senders: Senders = []
    for r in range(rooms):
        tokens = []
        for k in range(per_room):
            body = {"username": f"user{r}x{k}", "password": PASSWORD}
            tokens.append(web.post("/api/v1/auth/register", json=body).get_json()["token"])
        headers = [{"Authorization": f"Bearer {token}"} for token in tokens]
        made = web.post("/api/v1/rooms", json={"name": f"room {r}"}, headers=headers[0])
        room_id = made.get_json()["id"]
        for each in headers[1:]:
            web.post(f"/api/v1/rooms/{room_id}/join", headers=each)
        clients = [socketio.test_client(app, auth={"token": token}) for token in tokens]
        senders.append((clients[0].eio_sid, room_id))
    return socketio.server, senders


def relay_server(rooms: int, per_room: int) -> tuple[Any, Senders]:
    """The fan-out's bare relay (bench/baseline.py), its sockets connected in rooms."""
    from .baseline import build

    server = build("gevent").engineio_app
    # As Parley handles them: on the socket's own greenlet, not a task per event.
    server.async_handlers = False
    senders: Senders = []
    for r in range(rooms):
        for k in range(per_room):
            sid = f"socket-{r}-{k}"
            server._handle_eio_connect(sid, {})
            server._handle_eio_message(sid, "0" + json.dumps({"rooms": [r]}))
            if k == 0:
                senders.append((sid, r))
    return server, senders


def measure(server: Any, senders: Senders, sends: int, group: int) -> float:
    """CPU seconds per send for `sends` sends, `group` of them handled at once."""

    def encoded(n: int) -> tuple[str, str]:
        sid, room_id = senders[n % len(senders)]
        data = {"room_id": room_id, "body": f"hello there number {n}", "client_id": f"c-{n}"}
        event = ["message:send", data]
        found = server.packet_class(packet.EVENT, data=event, id=1, namespace="/").encode()
        return sid, found

    handle: Callable[[str, str], Any] = server._handle_eio_message
    work = [encoded(next(NUMBERS)) for _ in range(sends)]
    started = time.process_time()
    for first in range(0, sends, group):
        batch = work[first : first + group]
        if group == 1:
            handle(*batch[0])
        else:
            gevent.joinall([gevent.spawn(handle, *each) for each in batch])
    return (time.process_time() - started) / sends


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sendpath", description=__doc__)
    parser.add_argument("server", choices=["parley", "relay"])
    parser.add_argument("--group", type=int, default=1, help="sends handled at once")
    parser.add_argument("--sends", type=int, default=3000, help="sends per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--per-room", type=int, default=10)
    args = parser.parse_args()
    build = parley_server if args.server == "parley" else relay_server
    server, senders = build(args.rooms, args.per_room)
    written = [0]

    def written_out(_sid: str, _packet: Any) -> None:
        written[0] += 1

    # Every packet for a socket ends here: the room's event once encoded, and the ack.
    server._send_eio_packet = written_out
    server._send_packet = lambda sid, pkt: written_out(sid, pkt.encode())
    measure(server, senders, 500, args.group)
    rounds = [measure(server, senders, args.sends, args.group) for _ in range(args.rounds)]
    per_send = args.sends * args.rounds + 500
    print(
        f"{args.server}, groups of {args.group}: CPU per send median "
        f"{1e6 * statistics.median(rounds):.1f} us, least {1e6 * min(rounds):.1f} us "
        f"({written[0] / per_send:.1f} packets written per send)"
    )


if __name__ == "__main__":
    main()
