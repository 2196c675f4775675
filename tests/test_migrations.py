"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and undo it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from databases import database_url_for
from parley import create_app
from parley.extensions import db
from parley.models import DEFAULT_ROLES, Role
from parley.models.search_index import is_search_index_object


@pytest.fixture
def fresh_app(database_kind: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database of its own (not the suite's shared one)."""
    with database_url_for(database_kind, tmp_path) as url:
        application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        yield application
        with application.app_context():
            db.engine.dispose()


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not is_search_index_object(name, type_)


def schema_differences() -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _include}
        )
        differences: list[Any] = compare_metadata(context, db.metadata)
        return differences


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_from_empty_yields_exactly_the_models_schema(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade()
        assert schema_differences() == []
        assert set(db.metadata.tables) <= table_names()


def test_upgrade_creates_the_full_text_index(fresh_app: Flask, database_kind: str) -> None:
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            if database_kind == "sqlite":
                names = {
                    row[0] for row in connection.execute(sa.text("SELECT name FROM sqlite_master"))
                }
                assert {
                    "messages_fts",
                    "messages_fts_insert",
                    "messages_fts_update",
                    "messages_fts_delete",
                } <= names
            else:
                indexes = {
                    row[0]
                    for row in connection.execute(
                        sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'messages'")
                    )
                }
                assert "ix_messages_body_fts" in indexes


def test_upgrade_inserts_the_built_in_roles(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade()
        roles = {r.name: (r.permissions, r.default) for r in db.session.scalars(sa.select(Role))}
        assert roles == {
            name: (int(permissions), default)
            for name, (permissions, default) in DEFAULT_ROLES.items()
        }


def test_downgrade_base_removes_every_table(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        left = table_names() - {"alembic_version", "sqlite_sequence"}
        assert left == set()
        upgrade()
        assert schema_differences() == []


def test_upgrade_numbers_existing_messages_per_room(fresh_app: Flask) -> None:
    """0002 gives messages already stored their room sequence, in id order."""
    with fresh_app.app_context():
        upgrade(revision="0001")
        statements = [
            "INSERT INTO users (id, username, username_key, display_name, password_hash,"
            " role_id, active, created_at) VALUES (1, 'a', 'a', 'a', 'x', 1, true,"
            " CURRENT_TIMESTAMP)",
            "INSERT INTO rooms (id, name, name_key, topic, kind, archived, created_at)"
            " VALUES (1, 'one', 'one', '', 'public', false, CURRENT_TIMESTAMP),"
            " (2, 'two', 'two', '', 'public', false, CURRENT_TIMESTAMP)",
        ]
        for message_id, room_id in [(1, 1), (2, 2), (3, 1), (4, 1), (5, 2)]:
            statements.append(
                "INSERT INTO messages (id, room_id, author_id, body, html, created_at)"
                f" VALUES ({message_id}, {room_id}, 1, 'm', 'm', CURRENT_TIMESTAMP)"
            )
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
        upgrade()
        with db.engine.connect() as connection:
            seqs = connection.execute(sa.text("SELECT id, seq FROM messages ORDER BY id")).all()
            rooms = connection.execute(sa.text("SELECT id, last_seq FROM rooms ORDER BY id")).all()
        assert [tuple(row) for row in seqs] == [(1, 1), (2, 1), (3, 2), (4, 3), (5, 2)]
        assert [tuple(row) for row in rooms] == [(1, 3), (2, 2)]
        assert schema_differences() == []


def test_upgrade_gives_existing_users_their_precis_key_skeleton_and_clean_name(
    fresh_app: Flask,
) -> None:
    """0003 stores each user's skeleton; of two look-alikes already there, the later one
    keeps none, and the earlier one still blocks every new look-alike."""
    from parley.usernames import skeleton_digest

    with fresh_app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            # 0001's keys were NFKC + case folding: "Straße" was "strasse".
            for user_id, name, old_key in [
                (1, "alice", "alice"),
                (2, "\u0430lice", "\u0430lice"),
                (3, "Bob", "bob"),
                (4, "Straße", "strasse"),
            ]:
                shown = {1: "\u202eecilA", 3: "\u200b"}.get(user_id, name)
                connection.execute(
                    sa.text(
                        "INSERT INTO users (id, username, username_key, display_name,"
                        " password_hash, role_id, active, created_at) VALUES (:id, :name,"
                        " :key, :shown, 'x', 1, true, CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id, "name": name, "key": old_key, "shown": shown},
                )
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, username_key, username_skeleton FROM users ORDER BY id")
            ).all()
            displayed = connection.execute(
                sa.text("SELECT display_name FROM users ORDER BY id")
            ).scalars()
            assert list(displayed) == ["ecilA", "\u0430lice", "Bob", "Straße"]
        assert [tuple(row) for row in rows] == [
            (1, "alice", skeleton_digest("alice")),
            (2, "\u0430lice", None),
            (3, "bob", skeleton_digest("bob")),
            (4, "straße", skeleton_digest("Straße")),
        ]
        assert schema_differences() == []
