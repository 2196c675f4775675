"""Fixtures for end-to-end tests against real server processes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import SHARED_SERVER_ENV, LiveServer, start_server

from databases import database_url_for


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """`parley db upgrade` then `parley run`, on SQLite in a temporary instance folder."""
    yield from start_server(tmp_path, database_url=None)


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment for the server under test; a test overrides this fixture."""
    return {}


@pytest.fixture
def live_server_on_each_database(
    database_kind: str, tmp_path: Path, server_env: dict[str, str]
) -> Iterator[LiveServer]:
    """The same, once on SQLite and once on a fresh PostgreSQL schema."""
    with database_url_for(database_kind, tmp_path) as url:
        yield from start_server(tmp_path, database_url=url, extra_env=server_env)


@pytest.fixture(scope="module")
def shared_server(
    database_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per test module and database; tests make their own users and rooms.

    It runs with a 1 s presence grace period, rate limits off (a load of its own) and a
    fast ping, so a transport that died half-way is noticed in seconds.
    """
    tmp_path = tmp_path_factory.mktemp("server")
    with database_url_for(database_kind, tmp_path) as url:
        yield from start_server(tmp_path, database_url=url, extra_env=SHARED_SERVER_ENV)


@pytest.fixture(autouse=True)
def _finalize_client_objects() -> Iterator[None]:
    """Collect the test's dropped client objects now, while its warning filters apply,
    rather than in whichever test (or at the session's end) the collector runs next."""
    yield
    gc.collect()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The servers here run in their own processes, so a socket left unclosed in this one
    belongs to a client library (python-socketio and requests drop the connections of
    transports that failed or were replaced without closing them), not to Parley."""
    e2e = Path(__file__).parent
    for item in items:
        if e2e in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
