"""The production server: gunicorn's gevent worker, sized from Parley's settings.

`parley serve` runs gunicorn with these options in its own place (exec), so gunicorn's
master imports nothing of Parley before its worker patches the standard library for
gevent (a config module inside this package would have imported all of it first).
"""

from __future__ import annotations

import math
import resource
import sys
from pathlib import Path
from typing import Any

# Beside the Socket.IO sessions: HTTP requests, MJPEG viewers, handshakes being refused
# and half-open connections until their header timeout. A full gevent pool accepts no
# one, /healthz included.
HTTP_CONNECTIONS = 1000
# Sessions when PARLEY_MAX_CONNECTIONS is 0 (no cap, for load tests).
UNCAPPED_SESSIONS = 10_000
# Beside the connections: the database pool, the log, the listening socket.
SPARE_FILES = 200


def worker_connections(config: dict[str, Any]) -> int:
    return int(config["PARLEY_MAX_CONNECTIONS"] or UNCAPPED_SESSIONS) + HTTP_CONNECTIONS


# gunicorn's own lines in JSON mode, formatted like Parley's (see parley.logs); a file,
# read by the master, which imports nothing of Parley.
GUNICORN_LOG_CONFIG = Path(__file__).parent / "gunicorn_logging.json"


def gunicorn_command(config: dict[str, Any], bind: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The gunicorn command line; `extra` options come last, so they win."""
    log_options = (
        ["--log-config-json", str(GUNICORN_LOG_CONFIG)]
        if config["PARLEY_LOG_FORMAT"] == "json"
        else []
    )
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "gevent",
        # Socket.IO keeps a session in the process that opened it.
        "--workers",
        "1",
        "--worker-connections",
        str(worker_connections(config)),
        # The gevent worker gives each request head this long, the first of a connection
        # and the next one on a kept-alive connection alike.
        "--keep-alive",
        str(max(1, math.ceil(config["PARLEY_HTTP_HEADER_SECONDS"]))),
        # A worker whose event loop is stuck this long is restarted.
        "--timeout",
        "30",
        # On a stop, the worker closes its sockets so that clients reconnect, after the
        # sends being written are acknowledged (see parley.shutdown); it has this long.
        "--graceful-timeout",
        str(max(1, math.ceil(config["PARLEY_SHUTDOWN_SECONDS"]))),
        "--bind",
        bind,
        *log_options,
        *extra,
        "parley.wsgi:app",
    ]


def raise_open_file_limit(needed: int) -> int:
    """Raise the soft open-file limit toward `needed`, as far as the hard limit allows;
    the soft limit it leaves."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target
