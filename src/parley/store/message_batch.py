"""The SQL of one batch of new messages: one transaction on a connection of its own.

One sequence update for up to 16 rooms, one multi-row insert, one read-mark update per
author and room; the events are published once the commit has landed, in batch order,
while the rooms' order is still held. The queue that gathers the batch and answers each
sender is message_writer's.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Insert,
    Integer,
    Update,
    bindparam,
    case,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement

from ..errors import NotFound
from ..events import Event, get_bus
from ..extensions import db
from ..models import Membership, Message, MessageMention, Room
from ..models.types import utcnow
from ..presenters import dump
from ..schemas.messages import MessageOut
from ..schemas.users import UserPublic
from .driver_sql import DriverStatement
from .sequence import room_order

# A batch is first written without looking up its client_ids: a resend of a stored
# message (or one that raced in from another process) fails the whole insert on the
# unique index, and the batch is written again after a lookup, where that send finds
# the earlier message. Resends are rare, and the lookup was a statement in every batch.
# After the first attempt, two more races with another process are survived.
ATTEMPTS = 4

messages_table = Message.__table__
rooms_table = Room.__table__
memberships_table = Membership.__table__
mentions_table = MessageMention.__table__

# Built once: constructing a statement costs more than running it on SQLite.
STORED_CLIENT_IDS = (
    select(messages_table.c.author_id, messages_table.c.client_id, messages_table.c.id)
    # Two IN lists, not a row-value IN: SQLite scans the whole table for the latter.
    # Both use the (author_id, client_id) unique index; the pairs are matched in Python.
    .where(messages_table.c.author_id.in_(bindparam("author_ids", expanding=True)))
    .where(messages_table.c.client_id.in_(bindparam("client_ids", expanding=True)))
)
# Rooms per statement that takes sequence numbers; one statement is built and kept for
# each count of rooms up to this.
SEQ_ROOMS_PER_STATEMENT = 16
# On PostgreSQL, taking the numbers locks the rooms' rows until commit; locking them
# first, in id order as every batch does, keeps two processes' batches from deadlocking.
# SQLite gives the whole database to one writer at a time: no rows to lock in order.
LOCK_ROOMS = (
    select(rooms_table.c.id)
    .where(rooms_table.c.id.in_(bindparam("room_ids", expanding=True)))
    .order_by(rooms_table.c.id)
    .with_for_update()
)
# Rows per statement that inserts messages; one statement is built and kept for each
# count of rows up to this.
INSERT_ROWS_PER_STATEMENT = 32
INSERTED_COLUMNS = (
    "room_id",
    "author_id",
    "body",
    "html",
    "client_id",
    "created_at",
    "seq",
    "mentions",
    "mentions_room",
)
# The parameters' names for row i: `<column>_<i>`.
INSERTED_NAMES = [
    tuple(f"{name}_{i}" for name in INSERTED_COLUMNS) for i in range(INSERT_ROWS_PER_STATEMENT)
]
_read_mark = memberships_table.c.last_read_message_id
MARK_READ = (
    update(memberships_table)
    .where(
        memberships_table.c.room_id == bindparam("b_room_id"),
        memberships_table.c.user_id == bindparam("b_user_id"),
    )
    .values(
        last_read_message_id=case(
            (_read_mark < bindparam("b_message_id"), bindparam("b_message_id")),
            else_=_read_mark,
        )
    )
)


@dataclass(eq=False)
class Draft:
    """One checked send on its way to the database, and what became of it.

    It carries plain values only: the batch may be written by another request (another
    thread, in threading mode), which must not touch this request's objects.
    """

    author: UserPublic
    room_id: int
    body: str
    html: str
    client_id: str | None
    created_at: datetime = field(default_factory=utcnow)
    # The users the body names, whether it called the room, and who is to be told.
    mentions: list[int] = field(default_factory=list)
    mentions_room: bool = False
    notify: tuple[int, ...] = ()
    # Set by the batch: the new message as written, or for a resend the id of the
    # message stored earlier with the same client_id, or this send's own error.
    out: MessageOut | None = None
    earlier_id: int | None = None
    error: BaseException | None = None
    # True once the transaction that decided the fields above has committed.
    committed: bool = False

    @property
    def key(self) -> tuple[int, str] | None:
        return None if self.client_id is None else (self.author.id, self.client_id)

    def reset(self) -> None:
        """Forget an attempt that did not commit, before the send is written again."""
        self.out, self.earlier_id, self.error, self.committed = None, None, None, False

    @property
    def message_id(self) -> int | None:
        return None if self.out is None else self.out.id

    def stored(self, message_id: int, seq: int) -> MessageOut:
        """The new message as written, shared by its event and its sender's answer."""
        self.out = MessageOut(
            id=message_id,
            room_id=self.room_id,
            author=self.author,
            body=self.body,
            html=self.html,
            client_id=self.client_id,
            created_at=self.created_at,
            edited_at=None,
            deleted=False,
            seq=seq,
            changed_seq=None,
            reactions=[],
            pinned=False,
            mentions=self.mentions,
            mentions_room=self.mentions_room,
        )
        return self.out


def write_batch(batch: list[Draft]) -> None:
    """Store the batch; each draft says what became of it. Raises what the database
    raised when the batch as a whole failed (and then nothing of it was stored)."""
    for attempt in range(ATTEMPTS):
        for draft in batch:
            draft.reset()
        try:
            _store(batch, look_up_stored=attempt > 0)
            return
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise


def room_gone(room_id: int) -> NotFound:
    return NotFound("No such room.", details={"room_id": room_id})


def _store(batch: list[Draft], *, look_up_stored: bool) -> None:
    """One transaction on a connection of its own, not on any request's session: the
    batch's statements need no objects, and the session's bookkeeping around them
    took about as long as running them on SQLite (profiled in-process). The events
    are published once it has committed, in batch order, while the rooms' order is
    still held."""
    room_ids = sorted({draft.room_id for draft in batch})
    events: list[Event] = []
    with ExitStack() as held:
        # In id order, as every batch takes them, so two batches never wait on each other.
        for room_id in room_ids:
            held.enter_context(room_order(room_id))
        with db.engine.begin() as connection:
            fresh = _fresh_drafts(connection, batch, look_up_stored=look_up_stored)
            firsts = {draft.key: draft for draft in fresh if draft.key is not None}
            fresh, seqs = _take_seqs(connection, fresh)
            ids = _insert(connection, fresh, seqs)
            _mark_read(connection, fresh, ids)
            _insert_mentions(connection, fresh, ids)
            for draft, seq, message_id in zip(fresh, seqs, ids, strict=True):
                out = draft.stored(message_id, seq)
                events.append(
                    Event(
                        "message:new",
                        {"message": dump(out), "seq": seq},
                        room_id=draft.room_id,
                    )
                )
                if draft.notify:
                    events.append(
                        Event(
                            "mention",
                            {"room_id": draft.room_id, "message_id": message_id},
                            user_ids=draft.notify,
                        )
                    )
            for draft in batch:
                if draft.message_id is None and draft.earlier_id is None and draft.error is None:
                    # The same send twice in one batch: the second is a resend of the first.
                    assert draft.key is not None
                    first = firsts[draft.key]
                    draft.earlier_id = first.message_id
                    if first.error is not None:
                        # Its own exception: one object raised in two senders' threads
                        # would share one traceback.
                        draft.error = room_gone(draft.room_id)
        for draft in batch:
            draft.committed = True
        get_bus().publish(events)


def _fresh_drafts(
    connection: Connection, batch: list[Draft], *, look_up_stored: bool
) -> list[Draft]:
    """The drafts to insert: not repeats in the batch, nor (when looked up) resends of
    a stored message."""
    keys = {draft.key for draft in batch if draft.key is not None}
    stored: dict[tuple[int, str], int] = {}
    if keys and look_up_stored:
        rows = connection.execute(
            STORED_CLIENT_IDS,
            {
                "author_ids": sorted({author_id for author_id, _ in keys}),
                "client_ids": sorted({client_id for _, client_id in keys}),
            },
        )
        stored = {
            (author_id, client_id): id_
            for author_id, client_id, id_ in rows
            if (author_id, client_id) in keys
        }
    fresh = []
    seen: set[tuple[int, str]] = set()
    for draft in batch:
        key = draft.key
        if key is not None and key in stored:
            draft.earlier_id = stored[key]
        elif key is None or key not in seen:
            if key is not None:
                seen.add(key)
            fresh.append(draft)
    return fresh


def _take_seqs(connection: Connection, fresh: list[Draft]) -> tuple[list[Draft], list[int]]:
    """Each draft's room sequence number, in batch order within each room; a draft whose
    room was deleted while it waited gets its error and is left out.

    The rooms' rows are the transaction's first lock (on PostgreSQL, LOCK_ROOMS, in id
    order; on SQLite the update takes the database), held until commit, so ids in a room
    follow commit order across processes too.
    """
    per_room: dict[int, int] = defaultdict(int)
    for draft in fresh:
        per_room[draft.room_id] += 1
    room_ids = sorted(per_room)
    if connection.dialect.name != "sqlite" and room_ids:
        connection.execute(LOCK_ROOMS, {"room_ids": room_ids})
    next_seq: dict[int, int] = {}
    for start in range(0, len(room_ids), SEQ_ROOMS_PER_STATEMENT):
        chunk = room_ids[start : start + SEQ_ROOMS_PER_STATEMENT]
        params: dict[str, int] = {}
        for i, room_id in enumerate(chunk):
            params[f"room_{i}"], params[f"count_{i}"] = room_id, per_room[room_id]
        taking = _driver(_take_seqs_statement(len(chunk)), connection.dialect)
        for room_id, last in taking.run(connection, params):
            next_seq[room_id] = int(last) - per_room[room_id] + 1
    kept, seqs = [], []
    for draft in fresh:
        if draft.room_id not in next_seq:
            draft.error = room_gone(draft.room_id)
            continue
        kept.append(draft)
        seqs.append(next_seq[draft.room_id])
        next_seq[draft.room_id] += 1
    return kept, seqs


@functools.lru_cache(maxsize=SEQ_ROOMS_PER_STATEMENT)
def _take_seqs_statement(rooms: int) -> Update:
    """Takes `count_i` numbers in room `room_i`, for each i below `rooms`, in one
    statement: UPDATE rooms SET last_seq = last_seq + CASE WHEN id = :room_0 THEN
    :count_0 ... END WHERE id IN (:room_0, ...) RETURNING id, last_seq."""
    ids = [bindparam(f"room_{i}", type_=Integer) for i in range(rooms)]
    taken = case(
        *[
            (rooms_table.c.id == id_, bindparam(f"count_{i}", type_=Integer))
            for i, id_ in enumerate(ids)
        ]
    )
    return (
        update(rooms_table)
        .where(rooms_table.c.id.in_(ids))
        .values(last_seq=rooms_table.c.last_seq + taken)
        .returning(rooms_table.c.id, rooms_table.c.last_seq)
    )


@functools.lru_cache(maxsize=INSERT_ROWS_PER_STATEMENT)
def _insert_statement(rows: int) -> Insert:
    """Inserts `rows` messages, the values of row i named `<column>_<i>`.

    Each returned row names its message by room and sequence number, which the batch
    assigned and which are unique together: rows come back in no promised order.
    """
    return (
        insert(messages_table)
        .values(
            [
                {
                    name: bindparam(key, type_=messages_table.c[name].type)
                    for name, key in zip(INSERTED_COLUMNS, INSERTED_NAMES[i], strict=True)
                }
                for i in range(rows)
            ]
        )
        .returning(messages_table.c.id, messages_table.c.room_id, messages_table.c.seq)
    )


def _insert(connection: Connection, fresh: list[Draft], seqs: list[int]) -> list[int]:
    ids: dict[tuple[int, int], int] = {}
    rows = list(zip(fresh, seqs, strict=True))
    for start in range(0, len(rows), INSERT_ROWS_PER_STATEMENT):
        chunk = rows[start : start + INSERT_ROWS_PER_STATEMENT]
        values: dict[str, Any] = {}
        for names, (draft, seq) in zip(INSERTED_NAMES, chunk, strict=False):
            row = (
                draft.room_id,
                draft.author.id,
                draft.body,
                draft.html,
                draft.client_id,
                draft.created_at,
                seq,
                draft.mentions,
                draft.mentions_room,
            )
            values.update(zip(names, row, strict=True))
        inserting = _driver(_insert_statement(len(chunk)), connection.dialect)
        for message_id, room_id, seq in inserting.run(connection, values):
            ids[(room_id, seq)] = int(message_id)
    return [ids[(draft.room_id, seq)] for draft, seq in zip(fresh, seqs, strict=True)]


@functools.lru_cache(maxsize=128)
def _driver(statement: ClauseElement, dialect: Dialect) -> DriverStatement:
    """The statement compiled once for this database. Each statement given is built
    once (a module constant, or kept by its builder's cache), so it is its own key."""
    return DriverStatement.compile(statement, dialect)


def _mark_read(connection: Connection, fresh: list[Draft], ids: list[int]) -> None:
    """The author has read their own message: move each author's read mark up to it."""
    newest: dict[tuple[int, int], int] = {}
    for draft, message_id in zip(fresh, ids, strict=True):
        newest[(draft.room_id, draft.author.id)] = message_id
    if not newest:
        return
    _driver(MARK_READ, connection.dialect).run_many(
        connection,
        [
            {"b_room_id": room_id, "b_user_id": user_id, "b_message_id": message_id}
            for (room_id, user_id), message_id in newest.items()
        ],
    )


def _insert_mentions(connection: Connection, fresh: list[Draft], ids: list[int]) -> None:
    """Who each message notified: their unread mentions are counted from these rows."""
    rows = [
        {"message_id": message_id, "user_id": user_id, "room_id": draft.room_id}
        for draft, message_id in zip(fresh, ids, strict=True)
        for user_id in draft.notify
    ]
    if rows:
        connection.execute(insert(mentions_table), rows)
