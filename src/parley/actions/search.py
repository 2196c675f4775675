"""Full-text search over the messages a user may read, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, func, literal_column, select, text

from ..extensions import db
from ..models import Message, Permission, User
from ..models.search_index import PG_SEARCH_TEXT, PG_TS_CONFIG
from .access import readable_room, readable_room_ids_query, require_permission
from .messages import Page

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16


def search_terms(query: str) -> list[str]:
    """The words of a query; operators and punctuation are text, never syntax.

    Case is left to the database, which folds query words exactly as it folds the text
    it indexed (Python's casefold would turn "ß" into "ss", which the index never holds).
    """
    return _WORD.findall(query)[:MAX_TERMS]


def _matching(terms: list[str]) -> Select[Any]:
    """Messages containing every term, each term matching as a word prefix."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        match = " ".join('"' + term.replace('"', '""') + '"*' for term in terms)
        ids = text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match").bindparams(
            match=match
        )
        return select(Message).where(Message.id.in_(ids.columns(literal_column("rowid"))))
    if dialect == "postgresql":
        tsquery = " & ".join("'" + term.replace("'", "''") + "':*" for term in terms)
        # The same expression as the index, so PostgreSQL uses it.
        vector = func.to_tsvector(
            literal_column(f"'{PG_TS_CONFIG}'"), literal_column(PG_SEARCH_TEXT)
        )
        query = func.to_tsquery(literal_column(f"'{PG_TS_CONFIG}'"), tsquery)
        return select(Message).where(vector.bool_op("@@")(query))
    raise RuntimeError(f"full-text search is not built for {dialect}")


def search_messages(actor: User, query: str, room_id: int | None, limit: int) -> Page:
    """Newest first; only what the actor may read; deleted messages never match."""
    terms = search_terms(query)
    if room_id is not None:
        readable_room(actor, room_id)
    else:
        require_permission(actor, Permission.READ)
    if not terms:
        return Page([], False)
    statement = _matching(terms).where(Message.deleted_at.is_(None))
    if room_id is not None:
        statement = statement.where(Message.room_id == room_id)
    else:
        statement = statement.where(Message.room_id.in_(readable_room_ids_query(actor)))
    rows = list(db.session.scalars(statement.order_by(Message.id.desc()).limit(limit + 1)))
    return Page(rows[:limit], len(rows) > limit)
