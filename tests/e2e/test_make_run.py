"""`make run` serves the production stack: the command its recipe runs serves gevent,
says so on its first line with its address, and chats over WebSocket and long-polling
on that one port. `parley run --async-mode threading` still serves, for debuggers."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from api_client import Api
from servers import BIN, LiveServer, free_port, run_env, serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
# The recipe's set-up steps (the database, the page's libraries) are taken as done: the
# test upgrades the database itself and needs no page.
SET_UP = ("db-upgrade", "src/parley/static/vendor/.installed")


def make_run_command() -> list[str]:
    """What `make run` runs, read from the Makefile, pointed at this test's venv."""
    skipped = [arg for target in SET_UP for arg in ("-o", target)]
    printed = subprocess.run(
        ["make", "-s", "-n", *skipped, "run", f"VENV={VENV}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line for line in printed.splitlines() if line.strip()]
    assert len(lines) == 1, printed
    return shlex.split(lines[0])


def first_line(log: Path) -> str:
    return log.read_text().splitlines()[0]


def start(tmp_path: Path, command: list[str]) -> Iterator[LiveServer]:
    port = free_port()
    # No PARLEY_CONFIG: what a new user gets (development).
    env = run_env(tmp_path, port)
    del env["PARLEY_CONFIG"]
    subprocess.run([BIN / "parley", "db", "upgrade"], env=env, check=True, capture_output=True)
    yield from serve(list(command), env, port, tmp_path / "server.log")


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[LiveServer]:
    yield from start(tmp_path, make_run_command())


@pytest.fixture
def threading_run(tmp_path: Path) -> Iterator[LiveServer]:
    yield from start(tmp_path, [str(BIN / "parley"), "run", "--async-mode", "threading"])


def chats_over(server: LiveServer, transport: str) -> None:
    """Two clients on `transport`: each sends a message and hears the other's."""
    tag = f"{transport}-{time.monotonic_ns()}"
    alice, _ = Api.register(server.url, f"alice-{tag}")
    bob, _ = Api.register(server.url, f"bob-{tag}")
    room = alice.call("POST", "/rooms", 201, json={"name": tag})["id"]
    bob.call("POST", f"/rooms/{room}/join", 201)
    heard: dict[str, list[str]] = {"alice": [], "bob": []}
    arrived = threading.Event()
    clients = {}
    try:
        for name, api in (("alice", alice), ("bob", bob)):
            client = socketio.Client(reconnection=False)

            def on_new(data: dict[str, Any], name: str = name) -> None:
                heard[name].append(data["message"]["body"])
                # Each hears its own message too: wait for the other's.
                if "from bob" in heard["alice"] and "from alice" in heard["bob"]:
                    arrived.set()

            client.on("message:new", on_new)
            client.connect(
                server.url,
                auth={"token": api.http.headers["Authorization"][7:]},
                transports=[transport],
                wait_timeout=10,
            )
            assert client.transport() == transport
            clients[name] = client
        for name, client in clients.items():
            ack = client.call("message:send", {"room_id": room, "body": f"from {name}"}, timeout=10)
            assert ack["ok"], ack
        assert arrived.wait(10), heard
        assert "from bob" in heard["alice"] and "from alice" in heard["bob"]
    finally:
        for client in clients.values():
            client.disconnect()
        alice.close()
        bob.close()


def test_make_run_runs_parley_run(tmp_path: Path) -> None:
    command = make_run_command()
    assert Path(command[0]) == VENV / "bin" / "parley"
    assert command[1:] == ["run"]


def test_make_run_serves_gevent_and_names_its_mode_and_address_first(
    make_run: LiveServer, tmp_path: Path
) -> None:
    assert first_line(tmp_path / "server.log") == (
        f"Parley is serving on {make_run.url}/ (gevent mode; Ctrl+C stops it)"
    )
    log = (tmp_path / "server.log").read_text()
    assert "Debug mode" not in log and "development server" not in log


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_make_run_chats_over_each_transport_on_one_port(
    make_run: LiveServer, transport: str
) -> None:
    chats_over(make_run, transport)


def test_the_threading_mode_still_serves_both_transports(
    threading_run: LiveServer, tmp_path: Path
) -> None:
    assert first_line(tmp_path / "server.log") == (
        f"Parley is serving on {threading_run.url}/ (threading mode; Ctrl+C stops it)"
    )
    chats_over(threading_run, "websocket")
    chats_over(threading_run, "polling")
