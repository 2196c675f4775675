"""Fixtures: every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL is found at PARLEY_TEST_POSTGRES_URL (default: the local server's `test`
database); each run gets a fresh schema and drops it at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from databases import database_url_for
from openapi_statuses import (  # noqa: F401  (hooks: the spec lists every status seen)
    pytest_configure,
    pytest_sessionfinish,
    pytest_testnodedown,
)
from parley import create_app
from parley.events import Event
from parley.extensions import db
from parley.realtime.arrivals import arrived_at
from parley.video.broadcasts import Broadcasts
from support import Member, empty_database, make_room, register


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def app(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per database for the whole run, its schema built by the migrations."""
    tmp_dir = tmp_path_factory.mktemp(database_kind)
    with database_url_for(database_kind, tmp_dir) as url:
        application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with application.app_context():
            upgrade()
        yield application
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _no_arrival_time_left_behind() -> Iterator[None]:
    """A socket packet's arrival time is kept per thread (realtime/arrivals.py): one a
    test leaves on the worker's thread would count every later in-process send as
    waiting since then, and refuse it as overloaded in whichever test came next."""
    yield
    assert arrived_at() is None, "the test left this thread's packet arrival time set"


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    empty_database(request.getfixturevalue("app"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(client: FlaskClient) -> Callable[..., Member]:
    """make_user("alice") or make_user("root", role="Administrator")."""

    def make(username: str, role: str | None = None) -> Member:
        return register(client, username, role)

    return make


@pytest.fixture
def alice(make_user: Callable[..., Member]) -> Member:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., Member]) -> Member:
    return make_user("bob")


@pytest.fixture
def room(alice: Member, bob: Member) -> dict[str, Any]:
    """A public room alice owns and bob has joined."""
    made = make_room(alice, "general")
    response = bob.post(f"/api/v1/rooms/{made['id']}/join")
    assert response.status_code == 201, response.get_json()
    return made


@pytest.fixture
def events(app: Flask) -> Iterator[list[Event]]:
    """Every event the bus publishes during the test, in order."""
    seen: list[Event] = []
    unsubscribe = app.extensions["parley.bus"].subscribe(seen.append)
    yield seen
    unsubscribe()


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """with count_queries() as counter: ...; counter.count is the SQL statements run."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def broadcasts(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broadcasts]:
    """A registry of live broadcasts for this test alone (the app lives for the run, and
    room ids start again after each test's cleanup); every one still live is ended."""
    fresh = Broadcasts()
    monkeypatch.setitem(app.extensions, "parley.video", fresh)
    yield fresh
    for room_id in fresh.live_room_ids():
        fresh.remove(room_id)
