"""Fixtures for end-to-end tests against real server processes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import BIN, LiveServer, free_port, wait_until_up

from databases import database_url_for


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """`parley db upgrade` then `parley run`, on SQLite in a temporary instance folder."""
    yield from start_server(tmp_path, database_url=None)


@pytest.fixture
def live_server_on_each_database(database_kind: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The same, once on SQLite and once on a fresh PostgreSQL schema."""
    with database_url_for(database_kind, tmp_path) as url:
        yield from start_server(tmp_path, database_url=url)


def start_server(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    port = free_port()
    env = {
        **os.environ,
        "PARLEY_CONFIG": "development",
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PORT": str(port),
    }
    env.pop("DATABASE_URL", None)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    subprocess.run([BIN / "parley", "db", "upgrade"], env=env, check=True, capture_output=True)
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115  (closed after the server stops)
    process = subprocess.Popen(
        [BIN / "parley", "run", "--no-debug"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield LiveServer(url, process, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
