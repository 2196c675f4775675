"""Flask-SocketIO, with the events sent most often run in an app context alone.

Flask-SocketIO runs every event in a request context made from the socket's handshake
request: a request object, URL matching, the session, and their teardown, for every
event. Most events need none of it, only the app (its config, extensions and database
session) and the socket's sid. The events named with `handle_in_app_context` get just
that; every other event, connect and disconnect among them, keeps its request context.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import flask_socketio
from flask import request

_event_sid: ContextVar[str | None] = ContextVar("parley_event_sid", default=None)


class SocketIO(flask_socketio.SocketIO):  # type: ignore[misc]  # Flask-SocketIO is untyped
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app_context_events: set[str] = set()

    def handle_in_app_context(self, *names: str) -> None:
        """These events' handlers read nothing of the handshake request (the sid aside,
        through `event_sid`), nor the web session."""
        self.app_context_events.update(names)

    def _handle_event(
        self, handler: Callable[..., Any], message: str, namespace: str, sid: str, *args: Any
    ) -> Any:
        if message not in self.app_context_events:
            return super()._handle_event(handler, message, namespace, sid, *args)
        environ = self.server.get_environ(sid, namespace=namespace)
        if not environ:
            # As Flask-SocketIO answers an event from a socket it no longer knows.
            return "", 400
        token = _event_sid.set(sid)
        try:
            with environ["flask.app"].app_context():
                return handler(*args)
        finally:
            _event_sid.reset(token)


def event_sid() -> str:
    """The sid of the socket whose event is being handled, in either kind of context."""
    sid = _event_sid.get()
    if sid is not None:
        return sid
    found: str = request.sid  # type: ignore[attr-defined]
    return found
