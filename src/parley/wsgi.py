"""The WSGI entry point for production servers.

    parley serve --bind 127.0.0.1:8000

which runs gunicorn's gevent worker on this app (see parley.production for its options).

Socket.IO needs one worker per process (run more processes behind Nginx with sticky
sessions and PARLEY_MESSAGE_QUEUE pointing at Redis to scale out).
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from flask import Flask

from . import create_app
from .actions.video import end_all_broadcasts
from .extensions import socketio
from .memory import tune_garbage_collector

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def end_broadcasts_on_shutdown(app: Flask) -> None:
    """On the signals that stop a gunicorn worker, end every live broadcast first.

    A live MJPEG response never finishes by itself, so gunicorn would wait out its whole
    graceful timeout and then cut the viewers off; ending the broadcasts closes every
    stream with its final boundary and tells the rooms (video:stop, reason "shutdown").
    gunicorn installs its handlers before it loads this module, so they are chained.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def ending() -> None:
        with app.app_context():
            end_all_broadcasts("shutdown")

    for signum in SHUTDOWN_SIGNALS:
        previous = signal.getsignal(signum)

        def handler(sig: int, frame: FrameType | None, previous: object = previous) -> None:
            # Out of the signal handler: ending takes locks the interrupted code may hold.
            socketio.start_background_task(ending)
            if callable(previous):
                previous(sig, frame)
            elif previous == signal.SIG_DFL:
                signal.signal(sig, signal.SIG_DFL)
                os.kill(os.getpid(), sig)

        signal.signal(signum, handler)


app = create_app()
end_broadcasts_on_shutdown(app)
tune_garbage_collector()
