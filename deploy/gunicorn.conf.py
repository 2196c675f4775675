"""gunicorn's settings for Parley, for running gunicorn yourself:

    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8001 parley.wsgi:app

`parley serve` (which the systemd units run) gives gunicorn these same settings on its
command line, worked out by parley.production from the same variables;
tests/test_deploy.py keeps the two equal. gunicorn reads this file with the
environment the processes get (/etc/parley/parley.env), before importing anything of
Parley: its worker patches the standard library for gevent first.
"""

import math
import os


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# Socket.IO keeps a session in the process that opened it: one worker a process, and
# more processes behind Nginx for more cores.
worker_class = "gevent"
workers = 1
# PARLEY_MAX_CONNECTIONS Socket.IO sessions (0: no cap, counted as 10,000) beside 1,000
# HTTP requests, MJPEG viewers and half-open connections.
worker_connections = int(_setting("PARLEY_MAX_CONNECTIONS", 1000) or 10_000) + 1000
# The request head's deadline, on a new connection and a kept-alive one alike.
keepalive = max(1, math.ceil(_setting("PARLEY_HTTP_HEADER_SECONDS", 5)))
# A worker whose event loop is stuck this long is restarted.
timeout = 30
# On SIGTERM Parley acknowledges the sends being written and closes every socket so that
# clients reconnect elsewhere; it has PARLEY_SHUTDOWN_SECONDS.
graceful_timeout = max(1, math.ceil(_setting("PARLEY_SHUTDOWN_SECONDS", 10)))
# One path per user by default, which the processes of a machine would share.
control_socket_disable = True
wsgi_app = "parley.wsgi:app"
