"""`/metrics`: this process's measures in the Prometheus text format (prometheus-client).

Each app has a registry of its own (never the library's global one), so every process
reports only itself and apps built side by side in a test do not collide. What is a
current value (sockets, the send queue, the database pool, broadcasts) is read when
Prometheus scrapes; only what happens on a hot path is counted as it happens (events
published, packets delivered, send latency), each with one counter update.

Not public: served to loopback with no proxy header naming another client, or to an
administrator's token; anyone else gets 403 `metrics_forbidden` (or the token's own 401
or 403, as on every route).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from .errors import Forbidden
from .extensions import db

if TYPE_CHECKING:
    from .events import Event

bp = Blueprint("metrics", __name__)

# Seconds from a send's start to its commit (the ack follows at once): a lone send takes
# milliseconds, a stalled database up to PARLEY_SEND_QUEUE_SECONDS and more.
SEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Headers by which a proxy in front names the client it forwards for.
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP")


class Metrics:
    """The measures of one app, on a registry of its own."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events_published = Counter(
            "parley_events_published",
            "Events published on this process's bus after their commit, by type.",
            ["type"],
            registry=self.registry,
        )
        self.packets_delivered = Counter(
            "parley_socketio_packets_delivered",
            "Socket.IO event packets handed to this process's sockets (one a recipient).",
            registry=self.registry,
        )
        self.send_seconds = Histogram(
            "parley_send_seconds",
            "Seconds from a message send's start to the commit that stored it.",
            buckets=SEND_BUCKETS,
            registry=self.registry,
        )
        self._by_type: dict[str, Any] = {}
        self.registry.register(CurrentValues(app))
        ProcessCollector(registry=self.registry)

    def count_event(self, event: Event) -> None:
        """A bus subscriber: one more event of its type."""
        counter = self._by_type.get(event.type)
        if counter is None:
            counter = self._by_type[event.type] = self.events_published.labels(event.type)
        counter.inc()

    def count_deliveries(self, send: Callable[..., Any]) -> Callable[..., Any]:
        """Socket.IO's per-recipient send, counted."""
        delivered = self.packets_delivered

        def counted(*args: Any) -> Any:
            delivered.inc()
            return send(*args)

        return counted


class CurrentValues(Collector):
    """Gauges read at scrape time from the app's own state."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        extensions = self.app.extensions
        sockets = extensions.get("parley.sockets")
        yield _gauge(
            "parley_sockets_connected",
            "Socket.IO sockets connected to this process and authenticated.",
            len(sockets) if sockets is not None else 0,
        )
        writer = extensions["parley.message_writer"]
        yield _gauge(
            "parley_send_queue_depth",
            "Message sends waiting for their commit: queued, and in the batch being written.",
            writer.queue.depth,
        )
        yield _gauge(
            "parley_send_gather_seconds",
            "How long the writer waits to gather a batch under steady load: "
            "PARLEY_SEND_GATHER_SECONDS times the live processes sharing the sends.",
            writer.queue.gather_seconds,
        )
        yield from _pool_gauges(self.app)
        broadcasts = extensions["parley.video"]
        live = [broadcasts.get(room_id) for room_id in broadcasts.live_room_ids()]
        yield _gauge("parley_video_broadcasts", "Live video broadcasts on this process.", len(live))
        yield _gauge(
            "parley_video_viewers",
            "Viewers of this process's live broadcasts (MJPEG and Socket.IO).",
            sum(broadcast.viewers for broadcast in live if broadcast is not None),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _pool_gauges(app: Flask) -> Iterator[Metric]:
    with app.app_context():
        pool = db.engine.pool
    # SQLite in memory has a pool of one connection, without these counts.
    for name, read, documentation in (
        ("parley_db_pool_size", "size", "Connections the database pool keeps open."),
        (
            "parley_db_pool_checked_out",
            "checkedout",
            "Database connections in use by requests, sockets and the writer.",
        ),
        ("parley_db_pool_overflow", "overflow", "Connections opened past the pool's size."),
    ):
        method = getattr(pool, read, None)
        if callable(method):
            yield _gauge(name, documentation, method())


def init_metrics(app: Flask) -> None:
    """Measure the app (after its bus and Socket.IO are set up) and serve /metrics."""
    from .extensions import socketio

    metrics = Metrics(app)
    app.extensions["parley.metrics"] = metrics
    app.extensions["parley.bus"].subscribe(metrics.count_event)
    server = socketio.server
    server._send_eio_packet = metrics.count_deliveries(server._send_eio_packet)


def metrics() -> Metrics:
    found: Metrics = current_app.extensions["parley.metrics"]
    return found


def observe_send(started: float) -> None:
    """A send committed: its seconds since `started` (time.perf_counter)."""
    found: Metrics | None = current_app.extensions.get("parley.metrics")
    if found is not None:
        found.send_seconds.observe(time.perf_counter() - started)


@bp.get("/metrics")
def metrics_view() -> Response:
    require_scraper()
    return Response(generate_latest(metrics().registry), content_type=CONTENT_TYPE_LATEST)


def require_scraper() -> None:
    """Loopback (Prometheus on the same machine), or an administrator's token."""
    if from_loopback():
        return
    from .actions.access import require_permission
    from .identity import current_token, require_enrolled
    from .models import Permission

    token = current_token()
    if token is None:
        raise Forbidden(
            "Metrics are served to loopback, or to an administrator's token.",
            code="metrics_forbidden",
        )
    require_enrolled(token)
    require_permission(token.user, Permission.ADMIN)


def from_loopback() -> bool:
    """The connection comes from this machine, and no proxy header names a client that
    is not on it: a local Nginx's requests come from loopback too, on behalf of anyone."""
    environ = request.environ
    original = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    peers = [request.remote_addr or "", *([original] if original else [])]
    for header in PROXY_HEADERS:
        if header in request.headers:
            peers += request.headers[header].split(",")
    if "Forwarded" in request.headers:
        peers += _forwarded_for(request.headers["Forwarded"])
    return all(_is_loopback(peer) for peer in peers)


def _forwarded_for(header: str) -> list[str]:
    """The for= addresses of an RFC 7239 Forwarded header; a node given no address
    (no for=) counts as unknown, hence not loopback."""
    found = []
    for element in header.split(","):
        pairs = [pair.strip().partition("=") for pair in element.split(";")]
        values = [value for key, _, value in pairs if key.strip().lower() == "for"]
        found.append(values[0] if values else "unknown")
    return found


def _is_loopback(peer: str) -> bool:
    text = peer.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # an IPv4 address with its port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
