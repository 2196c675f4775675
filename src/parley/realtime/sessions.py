"""The web session cookie, opened once per Socket.IO connection."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

OPENED_KEY = "parley.opened_session"


class OncePerEnvironSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened at most once for each WSGI environ.

    Flask-SocketIO runs every Socket.IO event in a request context made from the socket's
    handshake environ, and Flask opens the session for each: it parses the cookie and
    checks its signature again for every message a client sends. The handshake's cookie
    never changes, so the session opened for the socket's first event is the one every
    later event would open. An HTTP request has an environ of its own and opens its
    session once, as before.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        environ = request.environ
        opened: SecureCookieSession | None = environ.get(OPENED_KEY)
        if opened is None:
            opened = super().open_session(app, request)
            environ[OPENED_KEY] = opened
        return opened
