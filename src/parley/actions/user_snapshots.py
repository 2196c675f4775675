"""The user behind a socket's token, kept between the socket's events while nothing that
decides access has changed.

A socket's token is checked on every event: a revoked token, a deactivated account or a
changed role takes effect at its next event. Loading the user and role for each event
was about a sixth of the server's time per message under load, so a socket keeps a
detached copy of its user and merges it into each event's session without a query.

A copy is dropped:
- when this process commits any change to a user, token or role, other than the
  last-used and last-seen times that every login touches;
- at the latest `PARLEY_SOCKET_RECHECK_SECONDS` after it was loaded. That bounds how long
  a change made by another process (a second server process, the `parley` command line)
  takes to reach this one's sockets. 0 loads the user for every event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from ..extensions import db
from ..models import ApiToken, Role, User
from .tokens import ACTIVE_USER_OF_TOKEN, active_user_of_token

ACCESS_MODELS = (User, ApiToken, Role)
ACCESS_TABLES = frozenset(model.__table__ for model in ACCESS_MODELS)
# Written on every login and once a minute by a busy token; they decide nothing.
TOUCH_ONLY = frozenset({"last_used_at", "last_seen_at"})
CHANGED_KEY = "parley.access_changed"


@dataclass(frozen=True)
class UserSnapshot:
    user: User  # detached from every session, with its role loaded
    generation: int
    taken_at: float


class UserSnapshots:
    """Hands out each socket's user, loading it only when its copy may be stale."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._clock = clock
        self._generation = 0

    def invalidate(self) -> None:
        """Every copy taken so far is stale: the next event of each socket loads again."""
        self._generation += 1

    def user_of_token(
        self, token_id: int, held: UserSnapshot | None
    ) -> tuple[User | None, UserSnapshot | None]:
        """The token's user in the current session, or None once the token is revoked or
        the user deactivated; and the copy the socket should hold from now on."""
        now = self._clock()
        if (
            held is not None
            and held.generation == self._generation
            and now - held.taken_at < self.max_age
        ):
            return db.session.merge(held.user, load=False), held
        if self.max_age <= 0:
            return active_user_of_token(token_id), None
        generation = self._generation
        # Loaded in a session of its own, so the copy kept is never the object that this
        # event's session changes or expires.
        with Session(db.engine) as own:
            loaded: User | None = own.scalar(ACTIVE_USER_OF_TOKEN, {"token_id": token_id})
        if loaded is None:
            return None, None
        return db.session.merge(loaded, load=False), UserSnapshot(loaded, generation, now)


def user_snapshots() -> UserSnapshots:
    found: UserSnapshots = current_app.extensions["parley.user_snapshots"]
    return found


def _changes_access(obj: Any) -> bool:
    state = inspect(obj)
    return any(attr.key not in TOUCH_ONLY and attr.history.has_changes() for attr in state.attrs)


@sa_event.listens_for(Session, "after_flush")
def _note_access_changes(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(CHANGED_KEY):
        return
    changed = any(isinstance(obj, ACCESS_MODELS) for obj in (*session.new, *session.deleted))
    changed = changed or any(
        isinstance(obj, ACCESS_MODELS) and _changes_access(obj) for obj in session.dirty
    )
    if changed:
        session.info[CHANGED_KEY] = True


@sa_event.listens_for(Session, "do_orm_execute")
def _note_bulk_access_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table in ACCESS_TABLES:
        state.session.info[CHANGED_KEY] = True


@sa_event.listens_for(Session, "after_commit")
def _drop_stale_snapshots(session: Session) -> None:
    if session.info.pop(CHANGED_KEY, False) and has_app_context():
        snapshots = current_app.extensions.get("parley.user_snapshots")
        if snapshots is not None:
            snapshots.invalidate()


@sa_event.listens_for(Session, "after_rollback")
def _forget_access_changes(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)
