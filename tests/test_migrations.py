"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and undo it."""

from __future__ import annotations

from collections.abc import Iterator

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
def fresh_app(database_kind: str, tmp_path) -> Iterator[Flask]:
    """An app on an empty database of its own (not the suite's shared one)."""
    with database_url_for(database_kind, tmp_path) as url:
        application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        yield application
        with application.app_context():
            db.engine.dispose()


def _include(obj, name, type_, reflected, compare_to) -> bool:
    return not is_search_index_object(name, type_)


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _include}
        )
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_from_empty_yields_exactly_the_models_schema(fresh_app):
    with fresh_app.app_context():
        upgrade()
        assert schema_differences() == []
        assert set(db.metadata.tables) <= table_names()


def test_upgrade_creates_the_full_text_index(fresh_app, database_kind):
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


def test_upgrade_inserts_the_built_in_roles(fresh_app):
    with fresh_app.app_context():
        upgrade()
        roles = {r.name: (r.permissions, r.default) for r in db.session.scalars(sa.select(Role))}
        assert roles == {
            name: (int(permissions), default)
            for name, (permissions, default) in DEFAULT_ROLES.items()
        }


def test_downgrade_base_removes_every_table(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        left = table_names() - {"alembic_version", "sqlite_sequence"}
        assert left == set()
        upgrade()
        assert schema_differences() == []
