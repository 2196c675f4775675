"""The event bus: actions queue events, and the bus publishes them once the commit lands.

In one process the bus calls its subscribers directly. The realtime layer subscribes to
fan events out to Socket.IO rooms (and, at scale, through Redis to other processes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .extensions import db
from .store.access_cache import drop_stale

log = logging.getLogger(__name__)

PENDING_KEY = "parley.pending_events"


@dataclass(frozen=True)
class Event:
    """One change, told to the clients that may see it.

    ``room_id`` addresses the room's members; ``user_ids`` addresses those users wherever
    they are connected (an event can have both); ``broadcast`` addresses everyone
    connected. ``exclude_user_ids`` are left out (a typist does not hear their own typing).
    """

    type: str
    payload: dict[str, Any]
    room_id: int | None = None
    user_ids: tuple[int, ...] = field(default_factory=tuple)
    broadcast: bool = False
    exclude_user_ids: tuple[int, ...] = field(default_factory=tuple)


Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous in-process publish/subscribe."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: Iterable[Event]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for subscriber in subscribers:
                try:
                    subscriber(event)
                except Exception:
                    # The change is committed; one broken listener must not hide it from
                    # the others or turn the caller's success into an error.
                    log.exception("event subscriber failed on %s", event.type)


def get_bus() -> EventBus:
    bus: EventBus = current_app.extensions["parley.bus"]
    return bus


def emit_after_commit(*events: Event) -> None:
    """Queue events on the current session; they are published only if its commit lands."""
    db.session.info.setdefault(PENDING_KEY, []).extend(events)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """The one after-commit step, in the order it needs: first the access checks kept
    from before the commit are dropped, then its events are published. Two listeners
    would run in the order their modules were imported, and a subscriber could then see a
    member's removal while that member could still post on a kept right."""
    drop_stale(session)
    pending: list[Event] = session.info.pop(PENDING_KEY, [])
    if pending and has_app_context():
        get_bus().publish(pending)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
