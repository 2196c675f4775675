"""Socket.IO: the realtime transport over the same domain layer as REST.

Handlers parse, call an action and ack; the bus subscriber in ``fanout`` turns every
committed change into Socket.IO events for the rooms and users it concerns.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Flask, abort

from ..actions.presence import Presence, PresenceTracker, Throttle, TypingThrottle
from ..extensions import socketio

SOCKETIO_PATH = "socket.io"


def _answered_by_socketio() -> NoReturn:
    abort(404)


def init_realtime(app: Flask) -> None:
    from ..video.views import ViewGuard, Views
    from . import handlers, reserved, video  # noqa: F401  (register the event handlers)
    from .bus_relay import BusRelay
    from .connection_limits import init_connection_limits
    from .fanout import NAMESPACE, Fanout
    from .packets import Packet
    from .polling import fit_long_polling
    from .presence_batches import BATCH_EVENT, PRESENCE_BATCHED, PresenceBatches
    from .sessions import OncePerEnvironSessionInterface
    from .sockets import SocketRegistry
    from .video import Watches
    from .websocket_close import tolerate_closed_websockets

    config = app.config
    origins = config["PARLEY_CORS_ORIGINS"].strip()
    bus = app.extensions["parley.bus"]
    relay = None
    if config["PARLEY_MESSAGE_QUEUE"]:
        relay = BusRelay(
            app,
            config["PARLEY_MESSAGE_QUEUE"],
            f"{config['PARLEY_REDIS_PREFIX']}:socketio",
            config["PARLEY_BUS_ACK_SECONDS"],
        )
    socketio.init_app(
        app,
        async_mode=config["PARLEY_ASYNC_MODE"],
        # Always given: Flask-SocketIO keeps the options of an earlier init_app, and a
        # manager left from another app must not serve this one. None: one process.
        client_manager=relay,
        cors_allowed_origins=(
            None
            if not origins
            else "*"
            if origins == "*"
            else [o.strip() for o in origins.split(",") if o.strip()]
        ),
        max_http_buffer_size=config["PARLEY_SOCKET_MAX_PAYLOAD"],
        ping_interval=config["PARLEY_SOCKET_PING_INTERVAL"],
        ping_timeout=config["PARLEY_SOCKET_PING_TIMEOUT"],
        manage_session=False,
        serializer=Packet,
        # A client's events are handled one at a time, in the order it sent them, on the
        # thread or greenlet that reads its connection: its messages are stored in the
        # order it sent them, and no thread is started per event in threading mode.
        # Different clients are still served concurrently.
        async_handlers=False,
    )
    reserved.guard_reserved_events(socketio.server)
    tolerate_closed_websockets(socketio.server)
    fit_long_polling(socketio.server)
    init_connection_limits(app)
    # Flask-SocketIO runs every event inside a request context made from the socket's
    # handshake request. With no route for that path (a WebSocket route for a
    # WebSocket's), each event raised and kept a NotFound whose traceback tied the
    # context into reference cycles: most of the garbage the cyclic collector had to
    # find under load. The Socket.IO middleware answers this path before Flask would,
    # so the view never runs.
    path = f"/{SOCKETIO_PATH}/"
    for websocket in (False, True):
        app.add_url_rule(
            path,
            "socketio",
            _answered_by_socketio,
            methods=["GET"] if websocket else ["GET", "POST"],
            websocket=websocket,
            strict_slashes=False,
        )
    app.session_interface = OncePerEnvironSessionInterface()
    bus.relay = None if relay is None else relay.relay
    if relay is not None:
        relay.on_live_processes = app.extensions["parley.message_writer"].share_with
    app.extensions["parley.sockets"] = SocketRegistry()
    app.extensions["parley.watches"] = Watches()
    _init_presence(app)
    app.extensions["parley.presence_batches"] = PresenceBatches(
        # Every process hears every presence change (the bus relays them) and batches
        # them for its own sockets.
        lambda changes: socketio.emit(
            BATCH_EVENT,
            {"changes": changes},
            to=PRESENCE_BATCHED,
            namespace=NAMESPACE,
            ignore_queue=True,
        ),
        spawn=socketio.start_background_task,
        sleep=socketio.sleep,
        interval=lambda: float(app.config["PARLEY_PRESENCE_BATCH_SECONDS"]),
    )
    bus.subscribe(Fanout(app))
    app.extensions["parley.views"] = Views()
    bus.subscribe(ViewGuard(app))


def _init_presence(app: Flask) -> None:
    """Presence and the typing throttle: in Redis for every process when the message
    queue is a Redis, else in this process alone."""
    from ..actions.presence_cluster import cluster_presence, is_redis_url

    bus = app.extensions["parley.bus"]
    queue = app.config["PARLEY_MESSAGE_QUEUE"]
    presence: Presence
    throttle: Throttle
    if is_redis_url(queue):
        presence, throttle = cluster_presence(
            app, bus, queue, spawn=socketio.start_background_task, sleep=socketio.sleep
        )
    else:
        presence = PresenceTracker(
            app, bus, spawn=socketio.start_background_task, sleep=socketio.sleep
        )
        throttle = TypingThrottle()
    app.extensions["parley.presence"] = presence
    app.extensions["parley.typing"] = throttle
