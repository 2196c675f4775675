"""gunicorn's settings for Parley in production:

    gunicorn -c python:parley.gunicorn_conf --bind 127.0.0.1:8000

One gevent worker (Socket.IO keeps a session in the process that opened it), its
connection count sized from PARLEY_MAX_CONNECTIONS and its timeouts from
PARLEY_HTTP_HEADER_SECONDS, read from the same environment as the app. Options given on
the command line win over these.
"""

from __future__ import annotations

import math
import os
import resource
from typing import Any

from parley.config import load_config

# Beside the Socket.IO sessions: HTTP requests, MJPEG viewers, handshakes being refused
# and half-open connections until their header timeout.
HTTP_CONNECTIONS = 1000
# Beside the connections: the database pool, the log, the listening socket.
SPARE_FILES = 200

_settings = load_config(None, os.getcwd())

wsgi_app = "parley.wsgi:app"
worker_class = "gevent"
workers = 1
worker_connections = (_settings["PARLEY_MAX_CONNECTIONS"] or 10_000) + HTTP_CONNECTIONS
# The gevent worker gives each request head this long to arrive, the first of a
# connection as well as the next one on a kept-alive connection.
keepalive = max(1, math.ceil(_settings["PARLEY_HTTP_HEADER_SECONDS"]))
# A worker whose event loop is stuck this long is restarted.
timeout = 30
# On a stop, WebSockets and video streams are ended at once (see parley.wsgi); the rest
# finish within this.
graceful_timeout = 10


def on_starting(server: Any) -> None:
    """Raise the open-file limit to what worker_connections needs, as far as the hard
    limit allows, and say so if that is not enough."""
    needed = server.cfg.worker_connections + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        server.log.warning(
            "The open-file limit (ulimit -n) is %s, under the %s that worker_connections=%s "
            "needs: raise it (systemd: LimitNOFILE=) or lower PARLEY_MAX_CONNECTIONS.",
            soft,
            needed,
            server.cfg.worker_connections,
        )
