"""Fixtures for end-to-end tests against real server processes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import BIN, LiveServer, free_port, wait_until_up


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """`parley db upgrade` then `parley run`, on SQLite in a temporary instance folder."""
    port = free_port()
    env = {
        **os.environ,
        "PARLEY_CONFIG": "development",
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PORT": str(port),
    }
    env.pop("DATABASE_URL", None)
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
