"""The event bus: actions queue events, and the bus publishes them once the commit lands.

The bus calls this process's subscribers directly. With a message queue, a relay
(realtime/bus_relay.py) carries each publication to every other process, whose bus
delivers it to that process's subscribers: each process applies every change to its own
sockets, caches and views.
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

    def to_wire(self) -> list[Any]:
        """The event as JSON-ready data, for another process (`from_wire` reads it)."""
        return [
            self.type,
            self.payload,
            self.room_id,
            list(self.user_ids),
            self.broadcast,
            list(self.exclude_user_ids),
        ]

    @classmethod
    def from_wire(cls, data: list[Any]) -> Event:
        kind, payload, room_id, user_ids, broadcast, exclude = data
        return cls(
            str(kind),
            dict(payload),
            None if room_id is None else int(room_id),
            tuple(int(u) for u in user_ids),
            bool(broadcast),
            tuple(int(u) for u in exclude),
        )


Subscriber = Callable[[Event], None]
# Carries a publication to the other processes: its events and the kinds of kept access
# checks its commit made stale (store/access_cache.py).
Relay = Callable[[list[Event], frozenset[str]], None]


class EventBus:
    """Synchronous publish/subscribe in this process, and through `relay` (when set)
    to every other process."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.relay: Relay | None = None

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: Iterable[Event], stale: frozenset[str] = frozenset()) -> None:
        """Delivers the events here, then relays them (and what the commit made stale,
        already dropped here) to the other processes."""
        pending = list(events)
        self.deliver(pending)
        relay = self.relay
        if relay is not None and (pending or stale):
            try:
                relay(pending, stale)
            except Exception:
                # As for a subscriber: the change is committed and applied here.
                log.exception("relaying %d events failed", len(pending))

    def deliver(self, events: Iterable[Event]) -> None:
        """To this process's subscribers only."""
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
    stale = drop_stale(session)
    pending: list[Event] = session.info.pop(PENDING_KEY, [])
    if (pending or stale) and has_app_context():
        get_bus().publish(pending, stale)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
