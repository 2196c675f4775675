"""The servers `parley run` serves with: gevent's WSGI server (the default, the same
greenlets, simple-websocket and HTTP timeouts as gunicorn's gevent worker) or Werkzeug's
threaded server, for stepping through code in a debugger.

gevent must patch the standard library before anything imports socket or threading, and
importing the `parley` command has done that long before it knows the mode; so
`parley run` in gevent mode starts the command again in a fresh interpreter that patches
first (``relaunch_patched``), as gunicorn's worker patches before it loads the app.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from flask import Flask

from .shutdown import Shutdown
from .tcp import PARLEY_SOCKET_KEY

if TYPE_CHECKING:
    from gevent.pywsgi import WSGIServer

# The fresh interpreter's program: patch, then run the same command line.
PATCHED_LAUNCH = (
    "from gevent import monkey; monkey.patch_all(); from parley.cli import main; main()"
)


def is_patched() -> bool:
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def relaunch_patched() -> NoReturn:
    """Replace this process (same pid, so signals still reach the server) with one that
    patches the standard library for gevent first."""
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: the working directory is not put first on sys.path, as it is not for `parley`.
    os.execv(sys.executable, [sys.executable, "-P", "-c", PATCHED_LAUNCH, *sys.argv[1:]])


def gevent_handler(header_seconds: float) -> type[Any]:
    """gevent's request handler with what gunicorn's worker adds: TCP_NODELAY on every
    connection, a deadline for each request head, and the client socket in the environ
    (for the idle timeout and the connection limits)."""
    import gevent
    from gevent.pywsgi import WSGIHandler

    class ParleyHandler(WSGIHandler):  # type: ignore[misc]  # gevent.pywsgi is untyped
        _head_deadline: gevent.Timeout | None = None

        def handle(self) -> None:
            try:
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                return  # the client is gone already
            super().handle()

        def handle_one_request(self) -> Any:
            # A byte now and then buys no more time: the whole head has one deadline.
            deadline = gevent.Timeout(header_seconds)
            self._head_deadline = deadline
            deadline.start()
            try:
                return super().handle_one_request()
            except gevent.Timeout as late:
                if late is not deadline:
                    raise
                return None  # close the connection
            finally:
                deadline.close()

        def get_environ(self) -> dict[str, Any]:
            # The head is in: from here the idle timeout (timeouts.IdleTimeouts) applies.
            if self._head_deadline is not None:
                self._head_deadline.close()
            environ: dict[str, Any] = super().get_environ()
            environ[PARLEY_SOCKET_KEY] = self.socket
            return environ

    return ParleyHandler


def serve_gevent(app: Flask, host: str, port: int) -> None:
    from gevent.pool import Pool
    from gevent.pywsgi import WSGIServer

    from .logs import gevent_logs
    from .production import SPARE_FILES, raise_open_file_limit, worker_connections

    # Connections at once, and the files they need, sized as for gunicorn's worker.
    connections = worker_connections(app.config)
    if raise_open_file_limit(connections + SPARE_FILES) < connections + SPARE_FILES:
        print(
            f"parley: the open-file limit (ulimit -n) is under the {connections + SPARE_FILES} "
            "that PARLEY_MAX_CONNECTIONS needs: raise it or lower PARLEY_MAX_CONNECTIONS.",
            file=sys.stderr,
        )
    server: WSGIServer = WSGIServer(
        (host, port),
        app,
        spawn=Pool(connections),
        handler_class=gevent_handler(app.config["PARLEY_HTTP_HEADER_SECONDS"]),
        **gevent_logs(app),
    )

    def stop_accepting() -> None:
        server.close()

    shutdown = Shutdown(app, stop_accepting)
    shutdown.on_signals_gevent()
    server.start()
    shutdown.done.wait()
    # The sessions are closed: wait for what is left of their connections.
    server.stop(timeout=shutdown.seconds_left())


def serve_threading(app: Flask, host: str, port: int) -> None:
    import threading

    from werkzeug.serving import make_server

    from .timeouts import timed_request_handler

    server = make_server(
        host,
        port,
        app,
        threaded=True,
        # A deadline for the request head, and the errors the server finds itself (a
        # 431, a 414) in the JSON shape too.
        request_handler=timed_request_handler(app.config["PARLEY_HTTP_HEADER_SECONDS"]),
    )

    def stop_accepting() -> None:
        # From the shutdown's thread: serve_forever returns once its loop sees this.
        server.shutdown()
        server.socket.close()

    shutdown = Shutdown(app, stop_accepting)
    shutdown.on_signals_threading()
    try:
        server.serve_forever()
    finally:
        shutdown.wait()
        # Each connection has a daemon thread: their sockets are closed; let them end.
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join(timeout=shutdown.seconds_left())
