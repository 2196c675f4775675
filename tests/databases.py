"""The databases tests run on: a temporary SQLite file, or a fresh PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_base_url() -> str:
    return os.environ.get("PARLEY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def unavailable(reason: str) -> None:
    """Skip on a laptop without the service; fail under CI, where it must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)")
    pytest.skip(reason)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server, dropped afterwards; yields its URL."""
    base = postgres_base_url()
    schema = f"parley_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        unavailable(
            f"No PostgreSQL answers at {base} ({type(exc).__name__}); set "
            "PARLEY_TEST_POSTGRES_URL=postgresql+psycopg://user@host:port/db to run this half"
        )
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url_for(kind: str, tmp_dir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir / 'parley-test.db'}"
    else:
        with postgres_schema() as url:
            yield url
