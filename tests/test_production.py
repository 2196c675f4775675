"""`parley serve`: the gunicorn command sized from Parley's settings."""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.config import load_config
from parley.production import SPARE_FILES, gunicorn_command, raise_open_file_limit


def production(tmp_path: Path, **env: str) -> dict[str, Any]:
    return load_config("production", str(tmp_path), {"SECRET_KEY": "s" * 48, **env})


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_one_gevent_worker_serving_parley(tmp_path: Path) -> None:
    command = gunicorn_command(production(tmp_path), "127.0.0.1:8000")
    assert command[:3] == [sys.executable, "-m", "gunicorn"]
    assert option(command, "--worker-class") == "gevent"
    assert option(command, "--workers") == "1"
    assert option(command, "--bind") == "127.0.0.1:8000"
    assert command[-1] == "parley.wsgi:app"


def test_worker_connections_leave_room_for_http_beside_the_socket_cap(tmp_path: Path) -> None:
    assert option(gunicorn_command(production(tmp_path), "x"), "--worker-connections") == "2000"
    config = production(tmp_path, PARLEY_MAX_CONNECTIONS="5000")
    assert option(gunicorn_command(config, "x"), "--worker-connections") == "6000"


def test_the_request_head_gets_the_header_timeout(tmp_path: Path) -> None:
    assert option(gunicorn_command(production(tmp_path), "x"), "--keep-alive") == "5"
    config = production(tmp_path, PARLEY_HTTP_HEADER_SECONDS="2.5")
    assert option(gunicorn_command(config, "x"), "--keep-alive") == "3"


def test_options_given_by_hand_come_last_and_win(tmp_path: Path) -> None:
    command = gunicorn_command(production(tmp_path), "x", ("--keep-alive", "9"))
    assert command[-3:] == ["--keep-alive", "9", "parley.wsgi:app"]


@pytest.fixture
def restore_open_file_limit() -> Iterator[tuple[int, int]]:
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield limits
    resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def test_the_open_file_limit_is_raised_to_what_the_connections_need(
    restore_open_file_limit: tuple[int, int],
) -> None:
    _, hard = restore_open_file_limit
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
    assert raise_open_file_limit(64 + SPARE_FILES) >= 64 + SPARE_FILES
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 64 + SPARE_FILES


def test_gunicorn_waits_the_shutdown_time_for_its_worker(tmp_path: Path) -> None:
    assert option(gunicorn_command(production(tmp_path), "x"), "--graceful-timeout") == "10"
    config = production(tmp_path, PARLEY_SHUTDOWN_SECONDS="2.5")
    assert option(gunicorn_command(config, "x"), "--graceful-timeout") == "3"
