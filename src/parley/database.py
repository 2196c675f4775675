"""Per-connection database settings, and helpers for the sessions' queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while one writer commits; foreign keys are off by default in
    # SQLite; a busy writer is waited for rather than failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def commit_keeping_loaded_objects(session: Session) -> None:
    """Commit, and give the connection back to the pool, without expiring the objects
    the session has loaded: the caller goes on using them and knows which rows it
    changed behind the ORM's back (expiring all would read each one again)."""
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


# Ids per IN list: far below any database's limit on bound parameters.
IN_LIST_SIZE = 500


def in_chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """The ids, sorted, in lists short enough for one IN clause each."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), IN_LIST_SIZE):
        yield ordered[start : start + IN_LIST_SIZE]
