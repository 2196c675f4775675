"""The baseline: a bare python-socketio server that relays each message to its room.

No Flask, no database, no checks: it is the transport's ceiling, run in the same async
mode as the Parley server it is compared with, with TCP_NODELAY on every connection.
It speaks the same events as Parley for what the benchmark uses: connect with
auth={"rooms": [ids]}, `message:send` {room_id, body, client_id} acked with
{ok, message}, and `message:new` {message, seq} to the room.

    python -m bench.baseline --mode gevent --port 8001
"""

from __future__ import annotations

import argparse
import itertools
import socket
from typing import Any


def build(mode: str) -> Any:
    import socketio

    server = socketio.Server(async_mode=mode, max_http_buffer_size=1024 * 1024)
    ids = itertools.count(1)

    @server.event  # type: ignore[untyped-decorator]  # python-socketio is untyped
    def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        for room_id in (auth or {}).get("rooms", []):
            server.enter_room(sid, f"room:{room_id}")

    @server.on("message:send")  # type: ignore[untyped-decorator]  # python-socketio is untyped
    def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        number = next(ids)
        message = {
            "id": number,
            "room_id": data["room_id"],
            "body": data["body"],
            "client_id": data.get("client_id"),
        }
        server.emit(
            "message:new", {"message": message, "seq": number}, to=f"room:{data['room_id']}"
        )
        return {"ok": True, "message": message, "created": True}

    def ping(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"pong"]

    return socketio.WSGIApp(server, ping)


def nodelay(environ: dict[str, Any]) -> None:
    for key in ("werkzeug.socket", "gunicorn.socket"):
        sock = environ.get(key)
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def serve_gevent(port: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    from gevent import pywsgi

    class NoDelayServer(pywsgi.WSGIServer):  # type: ignore[misc]  # gevent is untyped
        def handle(self, sock: Any, address: Any) -> None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    NoDelayServer(("127.0.0.1", port), build("gevent"), log=None, backlog=4096).serve_forever()


def serve_threading(port: int) -> None:
    from werkzeug.serving import make_server

    app = build("threading")

    def with_nodelay(environ: dict[str, Any], start_response: Any) -> Any:
        nodelay(environ)
        return app(environ, start_response)

    make_server("127.0.0.1", port, with_nodelay, threaded=True).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["gevent", "threading"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.mode == "gevent":
        serve_gevent(args.port)
    else:
        serve_threading(args.port)


if __name__ == "__main__":
    main()
