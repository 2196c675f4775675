"""Access checks kept between requests while nothing that decides them has changed.

Two kinds are kept:
- a socket's user: its token's user and role, as a detached copy that the socket holds
  and merges into each event's session without a query;
- whether a user may post to a room: the room's kind and archived flag and the user's
  membership, as plain values, for the send path.

Reading them again for every message was about a third of the server's time per send
under load (docs/performance.md). What is kept is dropped:
- when this process commits a change to what it was read from (users, tokens and roles
  for the first; rooms and memberships for the second), other than the columns written
  all the time that decide nothing (last used, last seen, a room's last sequence number,
  a member's read mark);
- when another server process commits such a change: the bus relay (with a message
  queue) drops it here before that process answers (realtime/bus_relay.py);
- at the latest `PARLEY_ACCESS_RECHECK_SECONDS` after it was read. That bounds how long
  a change this process never hears of (the `parley` command line without the message
  queue, a process cut off from Redis) takes to reach it. 0 keeps nothing: every check
  reads the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from ..extensions import db
from ..models import ApiToken, Membership, Role, Room, User

ACCOUNTS = "accounts"
ROOMS = "rooms"
KIND_OF_MODEL: dict[type[Any], str] = {
    User: ACCOUNTS,
    ApiToken: ACCOUNTS,
    Role: ACCOUNTS,
    Room: ROOMS,
    Membership: ROOMS,
}
KIND_OF_TABLE = {inspect(model).local_table: kind for model, kind in KIND_OF_MODEL.items()}
TOUCH_ONLY = frozenset({"last_used_at", "last_seen_at", "last_seq", "last_read_message_id"})
# A bulk UPDATE that sets only such columns says so with this execution option.
TOUCH_ONLY_OPTION = "parley_touch_only"
CHANGED_KEY = "parley.access_changed"
# Past this many kept posting rights, they are all dropped and kept afresh.
MAX_KEPT_RIGHTS = 50_000

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    generation: int
    taken_at: float


class PostingRights(NamedTuple):
    """What deciding a post needs of a room and of the poster's membership; `banned`
    is None when the poster is not a member."""

    kind: str
    archived: bool
    banned: bool | None
    muted_until: datetime | None


class AccessCache:
    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._clock = clock
        self._generations = {ACCOUNTS: 0, ROOMS: 0}
        self._rights: dict[tuple[int, int], Kept[PostingRights]] = {}
        # Two threads bumping at once must not make one number of the two: a copy read
        # between them would then pass for fresh after the second change.
        self._lock = threading.Lock()

    def changed(self, kinds: Iterable[str]) -> None:
        """What was read before of these kinds is stale."""
        with self._lock:
            # Another process may name a kind this one does not keep.
            known = set(kinds) & self._generations.keys()
            for kind in known:
                self._generations[kind] += 1
            if ROOMS in known:
                self._rights.clear()

    def invalidate(self) -> None:
        self.changed({ACCOUNTS, ROOMS})

    def _fresh(self, kept: Kept[Any] | None, kind: str) -> bool:
        return (
            kept is not None
            and kept.generation == self._generations[kind]
            and self._clock() - kept.taken_at < self.max_age
        )

    def socket_user(
        self,
        held: Kept[User] | None,
        read: Callable[[Session], User | None],
        *,
        attached: bool = True,
    ) -> tuple[User | None, Kept[User] | None]:
        """A socket's user, as held or as `read` finds it in the session given (None: the
        token is revoked or the user deactivated); and the copy for the socket to hold
        from now on.

        The user is in the current session, unless `attached` is False: then it is the
        held copy itself, in no session, for an action that only reads it (its id, role
        and names) and never adds it to a session: merging the copy into each event's
        session was a large share of a message's cost (docs/performance.md).
        """
        if self._fresh(held, ACCOUNTS):
            assert held is not None
            return self._in_session(held.value, attached), held
        if self.max_age <= 0:
            return read(db.session()), None
        generation, now = self._generations[ACCOUNTS], self._clock()
        # Read in a session of its own, so the copy kept is never the object that this
        # event's session changes or expires.
        with Session(db.engine) as own:
            loaded = read(own)
        if loaded is None:
            return None, None
        return self._in_session(loaded, attached), Kept(loaded, generation, now)

    @staticmethod
    def _in_session(copy: User, attached: bool) -> User:
        return db.session.merge(copy, load=False) if attached else copy

    def posting_rights(
        self, user_id: int, room_id: int, read: Callable[[], PostingRights | None]
    ) -> PostingRights | None:
        """The user's rights in the room as kept, or as `read` finds them (None: no room)."""
        key = (user_id, room_id)
        kept = self._rights.get(key)
        if self._fresh(kept, ROOMS):
            assert kept is not None
            return kept.value
        generation, now = self._generations[ROOMS], self._clock()
        rights = read()
        # Kept only if nothing changed while it was read: a change committed meanwhile
        # may not be in what was read.
        if rights is not None and self.max_age > 0 and generation == self._generations[ROOMS]:
            if len(self._rights) >= MAX_KEPT_RIGHTS:
                self._rights.clear()
            self._rights[key] = Kept(rights, generation, now)
        return rights


def access_cache() -> AccessCache:
    found: AccessCache = current_app.extensions["parley.access_cache"]
    return found


def _note(session: Session, kind: str) -> None:
    session.info.setdefault(CHANGED_KEY, set()).add(kind)


def _changes_access(obj: Any) -> bool:
    state = inspect(obj)
    return any(attr.key not in TOUCH_ONLY and attr.history.has_changes() for attr in state.attrs)


@sa_event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.deleted):
        kind = KIND_OF_MODEL.get(type(obj))
        if kind is not None:
            _note(session, kind)
    for obj in session.dirty:
        kind = KIND_OF_MODEL.get(type(obj))
        if kind is not None and _changes_access(obj):
            _note(session, kind)


@sa_event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get(TOUCH_ONLY_OPTION):
        return
    kind = KIND_OF_TABLE.get(getattr(state.statement, "table", None))
    if kind is not None:
        _note(state.session, kind)


def drop_stale(session: Session) -> frozenset[str]:
    """The commit landed: what was kept of the kinds it changed is stale. Called by the
    bus's after-commit listener (events.py) before it publishes, so a subscriber never
    acts on a right the commit took away. Returns those kinds, for the bus to drop them
    in the other processes too."""
    kinds: set[str] | None = session.info.pop(CHANGED_KEY, None)
    if not kinds or not has_app_context():
        return frozenset()
    cache = current_app.extensions.get("parley.access_cache")
    if cache is not None:
        cache.changed(kinds)
    return frozenset(kinds)


@sa_event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)
