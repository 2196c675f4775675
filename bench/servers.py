"""The servers under test, each started as its own process on a free loopback port."""

from __future__ import annotations

import os
import random
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
    # Parley's processes, each at its own address: one `parley serve`, or a cluster's
    # (then `url` is its Nginx, in front of them all).
    process_urls: tuple[str, ...] = ()
    behind_nginx: bool = False
    # The message queue the processes share ("redis"), if any.
    queue: str | None = None

    @property
    def processes(self) -> int:
        return max(1, len(self.process_urls))

    @property
    def label(self) -> str:
        if self.process_urls:
            queue = f", {self.queue}" if self.queue else ""
            count = f"{self.processes} process{'es' if self.processes > 1 else ''}"
            return f"{self.kind} ({count}, {self.mode}, {self.database}{queue})"
        db = f", {self.database}" if self.kind == "parley" else ""
        return f"{self.kind} ({self.mode}{db})"

    def _parts(self) -> list[int]:
        """The server's processes: its own and every descendant (gunicorn masters and
        their workers, in a cluster), without Nginx, whose CPU is counted apart."""
        return [pid for pid in _tree(self.process.pid) if _name(pid) != "nginx"]

    def rss_bytes(self) -> int:
        """Resident memory of the server's processes (gunicorn's workers included)."""
        return sum(_rss(pid) for pid in self._parts())

    def cpu_seconds(self) -> float:
        """CPU of every Parley process together (in a cluster, all of them), not Nginx's."""
        return sum(_cpu(pid) for pid in self._parts())

    def nginx_cpu_seconds(self) -> float:
        return sum(_cpu(pid) for pid in _tree(self.process.pid) if _name(pid) == "nginx")

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
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree(root: int) -> list[int]:
    """`root` and every process below it."""
    found = [root]
    n = 0
    while n < len(found):
        found += [child for child in _children(found[n]) if child not in found]
        n += 1
    return found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


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


def _stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bench_env(instance: str, presence_grace: float) -> dict[str, str]:
    """Parley's settings for the bench: rate limits and socket caps off (the load comes
    from one address, thousands of sockets strong), cheap password hashing, the plan's
    presence grace (the product's default in a full run)."""
    env = {
        **os.environ,
        "PARLEY_INSTANCE_PATH": instance,
        "PARLEY_RATE_LIMITS": "off",
        "PARLEY_MAX_CONNECTIONS": "0",
        "PARLEY_MAX_SOCKETS_PER_ADDRESS": "0",
        "PARLEY_MAX_SOCKETS_PER_USER": "0",
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PRESENCE_GRACE_SECONDS": str(presence_grace),
    }
    for name in ("DATABASE_URL", "PARLEY_MESSAGE_QUEUE", "PARLEY_REDIS_PREFIX"):
        env.pop(name, None)
    return env


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
        env = {**bench_env(tmp, presence_grace), "PARLEY_PORT": str(port), **(extra_env or {})}
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


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free loopback ports (a cluster's Nginx and its
    processes)."""
    for _ in range(200):
        first = random.randint(20_000, 60_000)
        try:
            for port in range(first, first + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no run of free loopback ports")


@contextmanager
def processes(
    count: int,
    database_url: str,
    queue_url: str | None,
    *,
    presence_grace: float,
    redis_prefix: str | None = None,
) -> Iterator[Server]:
    """Parley in production on PostgreSQL (and Redis, given `queue_url`): one `parley
    serve` when `count` is 1, else `parley cluster --processes count` (its processes
    and an Nginx in front of them), as docs/deploy.md runs them."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        env = {
            **bench_env(tmp, presence_grace),
            "PARLEY_CONFIG": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
        }
        prefix = redis_prefix or f"bench-{secrets.token_hex(4)}"
        if queue_url:
            env["PARLEY_MESSAGE_QUEUE"] = queue_url
            # Keys and channels of their own: other runs share this Redis.
            env["PARLEY_REDIS_PREFIX"] = prefix
        first = free_port_run(count + 1)
        log = Path(tmp) / "server.log"
        if count == 1:
            subprocess.run(
                [str(BIN / "parley"), "db", "upgrade"], env=env, check=True, capture_output=True
            )
            command = [str(BIN / "parley"), "serve", "--bind", f"127.0.0.1:{first + 1}"]
        else:
            command = [str(BIN / "parley"), "cluster", "--processes", str(count)]
            command += ["--port", str(first)]
        urls = tuple(f"http://127.0.0.1:{first + 1 + n}" for n in range(count))
        with open(log, "wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                front = f"http://127.0.0.1:{first}" if count > 1 else urls[0]
                for url in dict.fromkeys((*urls, front)):
                    _wait_up(url, process, log, "/readyz")
                yield Server(
                    "parley",
                    "gevent",
                    front,
                    process,
                    log,
                    "postgresql",
                    departure_seconds=presence_grace + DEPARTURE_MARGIN_SECONDS,
                    process_urls=urls,
                    behind_nginx=count > 1,
                    queue="redis" if queue_url else None,
                )
            finally:
                _stop(process, timeout=40)
                if queue_url:
                    _remove_keys(queue_url, prefix)


def _remove_keys(queue_url: str, prefix: str) -> None:
    """What the processes left in Redis (presence, budgets): only their own keys."""
    import redis

    client = redis.Redis.from_url(queue_url)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


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
