"""The full-text index over message bodies: FTS5 on SQLite, a GIN tsvector on PostgreSQL.

Neither is expressible as a portable table, so both are DDL hung on the messages table;
the first migration creates the same objects.
"""

from __future__ import annotations

from sqlalchemy import DDL, event
from sqlalchemy.sql.ddl import ExecutableDDLElement

from .message import Message

# The text-search configuration shared by the index and every query against it.
PG_TS_CONFIG = "simple"

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
]

# PostgreSQL's parser keeps hosts, paths, emails and decimals ("docs.example.org/guide",
# "3.14") as single words; splitting them first makes it find the same words as SQLite.
PG_SPLIT_CHARS = "./@:"
PG_SEARCH_TEXT = f"translate(body, '{PG_SPLIT_CHARS}', '{' ' * len(PG_SPLIT_CHARS)}')"

POSTGRES_DDL = [
    "CREATE INDEX ix_messages_body_fts ON messages "
    f"USING gin (to_tsvector('{PG_TS_CONFIG}', {PG_SEARCH_TEXT}))",
]


def _ddl(statement: str, dialect: str) -> ExecutableDDLElement:
    # SQLAlchemy's DDL constructor has no type hints.
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


for _statement in SQLITE_DDL:
    event.listen(Message.__table__, "after_create", _ddl(_statement, "sqlite"))
for _statement in POSTGRES_DDL:
    event.listen(Message.__table__, "after_create", _ddl(_statement, "postgresql"))
event.listen(Message.__table__, "before_drop", _ddl("DROP TABLE IF EXISTS messages_fts", "sqlite"))


def is_search_index_object(name: str | None, type_: str) -> bool:
    """True for the full-text objects, which live outside the models' metadata."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith("messages_fts")
    return type_ == "index" and name == "ix_messages_body_fts"
