"""The servers under test, each started as its own process on a free loopback port."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent

# A server counts as idle below this share of a core, for two samples in a row.
IDLE_CPU = 0.15
IDLE_SAMPLE_SECONDS = 0.5
IDLE_TIMEOUT_SECONDS = 120.0
# A socket's close reaches the server a little after the client let go of it.
DEPARTURE_MARGIN_SECONDS = 0.5

# The Parley modes `make bench` measures, and the baseline in the same async mode.
MODES = ("gevent", "threading")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    kind: str  # "parley" or "baseline"
    mode: str  # "gevent" or "threading"
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database: str = "sqlite"
    extra: dict[str, str] = field(default_factory=dict)
    # How long after a client leaves the server still has work for it: Parley marks the
    # user offline (a write and an event to everyone) once its presence grace is over.
    departure_seconds: float = 0.0

    @property
    def label(self) -> str:
        db = f", {self.database}" if self.kind == "parley" else ""
        return f"{self.kind} ({self.mode}{db})"

    def rss_bytes(self) -> int:
        """Resident memory of the server process (and its gunicorn worker, if any)."""
        return sum(_rss(pid) for pid in [self.process.pid, *_children(self.process.pid)])

    def cpu_seconds(self) -> float:
        return sum(_cpu(pid) for pid in [self.process.pid, *_children(self.process.pid)])

    def wait_out_departures(self) -> float:
        """After clients have left: waits until the server has done what their leaving
        gives it to do, then until it is idle. Returns how long that took."""
        started = time.perf_counter()
        time.sleep(self.departure_seconds)
        self.wait_until_idle()
        return round(time.perf_counter() - started, 1)

    def wait_until_idle(self, timeout: float = IDLE_TIMEOUT_SECONDS) -> float:
        """Waits until the server has finished the work already given to it (every new
        user's presence goes to every socket already connected: quadratic in a storm of
        logins), so what follows measures itself. Returns how long that took."""
        started = time.perf_counter()
        quiet = 0
        while time.perf_counter() - started < timeout and quiet < 2:
            before = self.cpu_seconds()
            time.sleep(IDLE_SAMPLE_SECONDS)
            busy = (self.cpu_seconds() - before) / IDLE_SAMPLE_SECONDS
            quiet = quiet + 1 if busy < IDLE_CPU else 0
        return round(time.perf_counter() - started, 1)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + path, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def parley(
    mode: str,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    *,
    presence_grace: float,
) -> Iterator[Server]:
    """Parley as a user runs it: gunicorn's gevent worker (production) or `parley run
    --async-mode threading`, rate limits off, on SQLite in a temporary folder unless given a URL,
    with the plan's presence grace (the product's default in a full run)."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "PARLEY_INSTANCE_PATH": tmp,
            "PARLEY_RATE_LIMITS": "off",
            # The load comes from one address, thousands of sockets strong.
            "PARLEY_MAX_CONNECTIONS": "0",
            "PARLEY_MAX_SOCKETS_PER_ADDRESS": "0",
            "PARLEY_MAX_SOCKETS_PER_USER": "0",
            "PARLEY_ARGON2_TIME_COST": "1",
            "PARLEY_ARGON2_MEMORY_COST": "1024",
            "PARLEY_ARGON2_PARALLELISM": "1",
            "PARLEY_HOST": "127.0.0.1",
            "PARLEY_PORT": str(port),
            "PARLEY_PRESENCE_GRACE_SECONDS": str(presence_grace),
            **(extra_env or {}),
        }
        env.pop("DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        if mode == "gevent":
            env.update(PARLEY_CONFIG="production", SECRET_KEY=secrets.token_urlsafe(48))
            command = [
                str(BIN / "gunicorn"),
                "--worker-class",
                "gevent",
                "--workers",
                "1",
                "--worker-connections",
                "10000",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "parley.wsgi:app",
            ]
        else:
            env.update(PARLEY_CONFIG="development")
            command = [str(BIN / "parley"), "run", "--no-debug", "--async-mode", "threading"]
        subprocess.run(
            [str(BIN / "parley"), "db", "upgrade"], env=env, check=True, capture_output=True
        )
        log = Path(tmp) / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_up(url, process, log, "/readyz")
                yield Server(
                    "parley",
                    mode,
                    url,
                    process,
                    log,
                    "postgresql" if database_url else "sqlite",
                    departure_seconds=presence_grace + DEPARTURE_MARGIN_SECONDS,
                )
            finally:
                _stop(process)


@contextmanager
def baseline(mode: str) -> Iterator[Server]:
    """The bare relay (bench/baseline.py) in the same async mode."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="parley-baseline-") as tmp:
        log = Path(tmp) / "baseline.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.baseline", "--mode", mode, "--port", str(port)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_up(url, process, log, "/ping")
                yield Server("baseline", mode, url, process, log)
            finally:
                _stop(process)
