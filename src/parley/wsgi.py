"""The WSGI entry point for production servers.

    gunicorn --worker-class gevent --workers 1 --bind 127.0.0.1:8000 parley.wsgi:app

Socket.IO needs one worker per process (run more processes behind Nginx with sticky
sessions and PARLEY_MESSAGE_QUEUE pointing at Redis to scale out).
"""

from . import create_app

app = create_app()
