"""The WSGI entry point for production servers.

    parley serve --bind 127.0.0.1:8000

which runs gunicorn's gevent worker on this app (see parley.production for its options).

Socket.IO needs one worker per process (run more processes behind Nginx with sticky
sessions and PARLEY_MESSAGE_QUEUE pointing at Redis to scale out).
"""

from __future__ import annotations

from . import create_app
from .extensions import socketio
from .memory import tune_garbage_collector
from .realtime.bus_relay import start_listening
from .shutdown import on_gunicorn_signals

app = create_app()
on_gunicorn_signals(app)
start_listening(socketio.server)
tune_garbage_collector()
