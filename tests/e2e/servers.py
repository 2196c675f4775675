"""Starting real server processes on free loopback ports, the way a user starts them."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from databases import unavailable

BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The Redis the multi-process tests share (db 15; each run a channel and keys of its own).
TEST_REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Servers that tests share: a 1 s presence grace, rate limits off (a load of their own)
# and a fast ping, so a transport that died half-way is noticed in seconds.
SHARED_SERVER_ENV = {
    "PARLEY_PRESENCE_GRACE_SECONDS": "1",
    "PARLEY_RATE_LIMITS": "off",
    "PARLEY_SOCKET_PING_INTERVAL": "2",
    "PARLEY_SOCKET_PING_TIMEOUT": "2",
}


_SQLITE_TEMPLATE: list[Path] = []


def migrate(env: dict[str, str]) -> None:
    """The database the server of `env` will use, brought to the latest revision. A
    server on its default SQLite file gets a copy of one migrated once per test process:
    `parley db upgrade` costs an interpreter's start and the app's imports, seconds of
    CPU on a shared machine, for each of the suite's many servers. The command itself
    is run as a user runs it by the tests of the README and of `make run`."""
    url = env.get("DATABASE_URL")
    if url and not url.startswith("sqlite:///"):
        subprocess.run([BIN / "parley", "db", "upgrade"], env=env, check=True, capture_output=True)
        return
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="parley-template-"))
        atexit.register(shutil.rmtree, folder, True)
        # On the instance folder's default file: a DATABASE_URL naming another SQLite
        # file would have the template migrated there instead.
        template_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
        template_env["PARLEY_INSTANCE_PATH"] = str(folder)
        subprocess.run(
            [BIN / "parley", "db", "upgrade"], env=template_env, check=True, capture_output=True
        )
        _SQLITE_TEMPLATE.append(folder / "parley.db")
    target = (
        Path(url.removeprefix("sqlite:///"))
        if url
        else Path(env["PARLEY_INSTANCE_PATH"]) / "parley.db"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_SQLITE_TEMPLATE[0], target)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (make test installs it with apt-get)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not come up in {timeout} s")


def run_env(tmp_path: Path, port: int, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `parley run` gets here: a temporary instance folder and port."""
    env = {
        **os.environ,
        "PARLEY_CONFIG": "development",
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PORT": str(port),
        # Cheap password hashes: these tests measure the server, not argon2.
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
    }
    env.pop("DATABASE_URL", None)
    env.update(extra_env or {})
    return env


def start_server(
    tmp_path: Path,
    database_url: str | None,
    extra_env: dict[str, str] | None = None,
    *,
    async_mode: str | None = None,
    log_name: str = "server.log",
) -> Generator[LiveServer, None, None]:
    """`parley run` (gevent unless `async_mode` says threading)."""
    port = free_port()
    env = run_env(tmp_path, port, extra_env)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    migrate(env)
    command: list[Path | str] = [BIN / "parley", "run", "--no-debug"]
    if async_mode is not None:
        command += ["--async-mode", async_mode]
    yield from serve(command, env, port, tmp_path / log_name)


def serve(
    command: list[Path | str],
    env: dict[str, str],
    port: int,
    log_path: Path,
    *,
    stop_seconds: float = 10,
    cwd: Path | None = None,
) -> Iterator[LiveServer]:
    """Run a server command with its output in log_path until it answers /readyz; stop
    it (SIGTERM, then SIGKILL after stop_seconds) when the caller is done."""
    log = open(log_path, "wb")  # noqa: SIM115  (closed after the server stops)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield LiveServer(url, process, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def start_gunicorn(
    tmp_path: Path, extra_env: dict[str, str] | None = None, *, log_name: str = "gunicorn.log"
) -> Generator[LiveServer, None, None]:
    """The production command, `parley serve` (gunicorn's gevent worker with the options
    Parley sizes), on SQLite."""
    port = free_port()
    env = {
        **os.environ,
        "PARLEY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
        **(extra_env or {}),
    }
    env.pop("DATABASE_URL", None)
    migrate(env)
    command: list[Path | str] = [BIN / "parley", "serve", "--bind", f"127.0.0.1:{port}"]
    yield from serve(command, env, port, tmp_path / log_name, stop_seconds=15, cwd=tmp_path)


def require_redis(url: str = TEST_REDIS_URL) -> str:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable(f"No Redis answers at {url} ({type(exc).__name__}); set PARLEY_TEST_REDIS_URL")
    return url


@contextmanager
def serve_processes(
    tmp_path: Path,
    database_url: str,
    count: int = 2,
    extra_env: dict[str, str] | None = None,
) -> Iterator[list[LiveServer]]:
    """`parley serve` (gunicorn's gevent worker, the production command) `count` times on
    one database and one Redis channel of their own, as processes behind Nginx run."""
    redis_url = require_redis()
    env = {
        **os.environ,
        "PARLEY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "PARLEY_MESSAGE_QUEUE": redis_url,
        "PARLEY_REDIS_PREFIX": f"parley-test-{uuid.uuid4().hex[:12]}",
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
        **SHARED_SERVER_ENV,
        **(extra_env or {}),
    }
    with ExitStack() as stack:
        yield serve_side_by_side(env, tmp_path, [f"process-{n + 1}" for n in range(count)], stack)


def start_serve(env: dict[str, str], tmp_path: Path, name: str, stack: ExitStack) -> LiveServer:
    """`parley serve` on a port of its own, its log in tmp_path/<name>.log, stopped
    (SIGTERM, then SIGKILL) with the stack; not waited for, so that several boot side by
    side (`wait_until_up` each)."""
    port = free_port()
    log = stack.enter_context(open(tmp_path / f"{name}.log", "wb"))  # noqa: SIM115
    process = subprocess.Popen(
        [BIN / "parley", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    stack.callback(_stop_all, [process], 15)
    return LiveServer(f"http://127.0.0.1:{port}", process, env)


def serve_side_by_side(
    env: dict[str, str], tmp_path: Path, names: list[str], stack: ExitStack, timeout: float = 90
) -> list[LiveServer]:
    """The database migrated, then one `parley serve` per name, all started before any
    is waited for (they boot side by side), each up when this returns."""
    migrate(env)
    servers = [start_serve(env, tmp_path, name, stack) for name in names]
    for server in servers:
        # Several gunicorn boots at once on a shared 2-core machine: give them time.
        wait_until_up(server.url, server.process, timeout=timeout)
    return servers


def _stop_all(processes: list[subprocess.Popen[bytes]], seconds: float) -> None:
    """SIGTERM to all at once (they stop side by side), then SIGKILL to any still running
    after `seconds`."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
