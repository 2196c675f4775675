"""Every live view of this process, ended the moment its right to watch is gone.

A view is an MJPEG stream, a socket's watch, or a broadcast itself (its broadcaster
must keep the right to read the room). Views end:
- at once, when this process commits or hears a change that may take the right away
  (a token revoked, a user deactivated or given another role, a member removed, banned
  or leaving, a room changed): the guard, a bus subscriber, checks the views it concerns;
- within RECHECK_SECONDS otherwise: while any view is live, a task checks them all
  against the database, so a change made by another process (or the command line),
  which this one never hears of, ends the views too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.orm import Session

from ..actions.access_live import Viewer, allowed_viewers
from ..events import Event
from ..extensions import db, socketio
from .broadcasts import Broadcast

log = logging.getLogger(__name__)

# How often every live view's right is read again from the database.
RECHECK_SECONDS = 1.0
# Why a view ended, as told to a socket watcher and a broadcast's room.
NOT_ALLOWED = "not_allowed"
# Changes after which the views of their users (or room) are checked at once.
RECHECKED_EVENTS = frozenset({"room:member_leave", "room:update", "user:update"})


@dataclass(eq=False)
class View:
    viewer: Viewer
    broadcast: Broadcast
    # Called once, with an app context, when the right is gone (not when the view ends
    # on its own).
    on_lost: Callable[[], object] = lambda: None
    ended: threading.Event = field(default_factory=threading.Event)

    def lose_right(self) -> None:
        if self.ended.is_set():
            return
        self.ended.set()
        try:
            self.on_lost()
        except Exception:
            log.exception("ending a view of room %s failed", self.viewer.room_id)
        finally:
            self.broadcast.hub.wake()


class Views:
    """The live views of this process. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: set[View] = set()
        self._checking = False

    def add(self, view: View) -> View:
        with self._lock:
            self._views.add(view)
        return view

    def discard(self, view: View) -> None:
        with self._lock:
            self._views.discard(view)

    def live(self) -> list[View]:
        """The views still open; those of ended broadcasts are dropped."""
        with self._lock:
            self._views = {
                v for v in self._views if not (v.ended.is_set() or v.broadcast.hub.closed)
            }
            return list(self._views)

    def claim_checker(self) -> bool:
        """True for the one caller that should start the periodic check now."""
        with self._lock:
            if self._checking or not self._views:
                return False
            self._checking = True
            return True

    def release_checker_if_empty(self) -> bool:
        with self._lock:
            if self._views:
                return False
            self._checking = False
            return True


def views() -> Views:
    found: Views = current_app.extensions["parley.views"]
    return found


def open_view(view: View) -> View:
    """Registers a view that just began (its right checked by the caller) and makes
    sure the periodic check runs."""
    views().add(view)
    _ensure_checker(current_app._get_current_object())  # type: ignore[attr-defined]
    return view


def check(checked: Iterable[View]) -> None:
    """Ends those of the views whose right is gone, as the database says now."""
    pending = [view for view in checked if not view.ended.is_set()]
    if not pending:
        return
    # A session of its own: this may run in an after-commit hook, where the request's
    # session may not query.
    with Session(db.engine) as session:
        allowed = allowed_viewers(session, {view.viewer for view in pending})
    for view in pending:
        if view.viewer not in allowed:
            view.lose_right()


def _ensure_checker(app: Flask) -> None:
    registry: Views = app.extensions["parley.views"]
    if registry.claim_checker():
        socketio.start_background_task(_check_periodically, app, registry)


def _check_periodically(app: Flask, registry: Views) -> None:
    while True:
        socketio.sleep(RECHECK_SECONDS)
        try:
            with app.app_context():
                check(registry.live())
        except Exception:
            log.exception("checking the live views' rights failed")
        registry.live()
        if registry.release_checker_if_empty():
            return


class ViewGuard:
    """The bus subscriber that ends views as soon as a committed change concerns them."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    @property
    def _views(self) -> Views:
        found: Views = self._app.extensions["parley.views"]
        return found

    def __call__(self, event: Event) -> None:
        if event.type == "token:revoked":
            token_id = int(event.payload["token_id"])
            for view in self._views.live():
                if view.viewer.token_id == token_id:
                    view.lose_right()
        elif event.type == "user:deactivated":
            users = set(event.user_ids)
            for view in self._views.live():
                if view.viewer.user_id in users:
                    view.lose_right()
        elif event.type in RECHECKED_EVENTS:
            users = set(event.user_ids)
            check(
                view
                for view in self._views.live()
                if view.viewer.user_id in users or view.viewer.room_id == event.room_id
            )
