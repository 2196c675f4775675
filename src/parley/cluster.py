"""`parley cluster`: many `parley serve` processes behind an Nginx of their own, on one
machine, sharing PostgreSQL and Redis: the production layout (docs/deploy.md), for
trying it and for the tests.

It checks what the processes share before starting any (a database every process can
reach, a Redis message queue), migrates the database, starts gunicorn processes on the
ports after --port and Nginx on --port, all in sessions of their own (a terminal's
Ctrl+C reaches only this process, which stops them in order), and stops them cleanly
on SIGTERM or SIGINT: a graceful stop for each gunicorn, a quit for Nginx through its
pid file.
"""

from __future__ import annotations

import ctypes
import grp
import math
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .config import ConfigError, load_config
from .nginx_config import (
    CLUSTER_NGINX_DIR,
    CLUSTER_TEMP_DIRS,
    Site,
    Standalone,
    render,
    upstream_addresses,
)

HOST = "127.0.0.1"
MAX_PROCESSES = 32
CONNECT_SECONDS = 3
READY_SECONDS = 90
POLL_SECONDS = 0.2
# Beside PARLEY_SHUTDOWN_SECONDS (gunicorn's graceful timeout): gunicorn's own exit and
# Nginx's worker_shutdown_timeout; then whatever is left is killed.
STOP_MARGIN_SECONDS = 10
PR_SET_PDEATHSIG = 1
MESSAGE_QUEUE_SCHEMES = ("redis://", "rediss://", "unix://")


class ClusterError(Exception):
    """The cluster cannot start: the message says why and what to do."""


def required_database(env: Mapping[str, str]) -> str:
    """DATABASE_URL, checked to be a database that many processes can share."""
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        raise ClusterError(
            "DATABASE_URL is not set: the processes share one PostgreSQL database, for "
            "example DATABASE_URL=postgresql://postgres@127.0.0.1:5432/parley "
            "(`make cluster` creates and uses that one)."
        )
    if url.startswith("sqlite"):
        raise ClusterError(
            "DATABASE_URL names a SQLite database, which is one process's database: "
            "the processes of a cluster share a PostgreSQL database "
            "(DATABASE_URL=postgresql://user@host/db). For one process, use `parley run`."
        )
    return url


def required_message_queue(env: Mapping[str, str]) -> str:
    url = env.get("PARLEY_MESSAGE_QUEUE", "").strip()
    if not url:
        raise ClusterError(
            "PARLEY_MESSAGE_QUEUE is not set: the processes pass events to each other "
            "through Redis, for example PARLEY_MESSAGE_QUEUE=redis://127.0.0.1:6379/0."
        )
    if not url.startswith(MESSAGE_QUEUE_SCHEMES):
        raise ClusterError(
            f"PARLEY_MESSAGE_QUEUE must be a Redis URL (redis://host:port/db), not {url!r}."
        )
    return url


def check_database(url: str) -> None:
    import sqlalchemy as sa

    from .config import normalize_database_url

    normalized = normalize_database_url(url)
    shown = sa.engine.make_url(normalized).render_as_string(hide_password=True)
    connect_args = {"connect_timeout": CONNECT_SECONDS} if "postgresql" in normalized else {}
    engine = sa.create_engine(normalized, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver's error: the message is what matters here
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(
            f"The database at DATABASE_URL ({shown}) cannot be reached: {first_line}"
        ) from None
    finally:
        engine.dispose()


def check_message_queue(url: str) -> None:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=CONNECT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ClusterError(
            f"The Redis at PARLEY_MESSAGE_QUEUE ({_without_password(url)}) cannot be reached: {exc}"
        ) from None
    finally:
        client.close()


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def find_nginx(env: Mapping[str, str]) -> str:
    import shutil

    search = os.pathsep.join([env.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
    found = shutil.which("nginx", path=search)
    if found is None:
        raise ClusterError(
            "nginx is not installed: install it (Debian: apt-get install nginx; "
            "`make system-deps` does)."
        )
    return found


def check_ports_free(ports: list[int]) -> None:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError as exc:
                raise ClusterError(
                    f"Port {port} on {HOST} is taken ({exc.strerror}): choose another "
                    "--port (the cluster uses it and the next --processes ports)."
                ) from None


def _die_with_parent() -> None:
    """In the child, before exec: a SIGTERM when `parley cluster` dies, however it dies
    (SIGKILL included), so that no process outlives it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _worker_user() -> str | None:
    """Nginx started by root runs its workers as nobody, who cannot read an instance
    folder under a private home or /tmp: run them as whoever started the cluster."""
    if os.geteuid() != 0:
        return None
    return f"{pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name}"


@dataclass
class Cluster:
    processes: int
    port: int
    env: dict[str, str]
    config: Mapping[str, Any]
    nginx: str
    echo: Callable[[str], None]
    gunicorns: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    nginx_process: subprocess.Popen[bytes] | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def instance(self) -> Path:
        return Path(self.env["PARLEY_INSTANCE_PATH"])

    @property
    def prefix(self) -> Path:
        return self.instance / CLUSTER_NGINX_DIR

    @property
    def nginx_conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def process_ports(self) -> list[int]:
        return [self.port + 1 + i for i in range(self.processes)]

    def nginx_args(self) -> list[str]:
        error_log = self.prefix / "logs" / "error.log"
        return [
            self.nginx,
            *("-p", str(self.prefix)),
            *("-c", str(self.nginx_conf)),
            *("-e", str(error_log)),
        ]

    def write_nginx_config(self) -> None:
        for sub in ("logs", *(f"temp/{d}" for d in CLUSTER_TEMP_DIRS)):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        site = Site(
            upstreams=upstream_addresses(self.port + 1, self.processes, HOST),
            listen=f"{HOST}:{self.port}",
            access_log=str(self.prefix / "logs" / "access.log"),
        )
        standalone = Standalone(
            prefix=self.prefix,
            shutdown_seconds=math.ceil(self.config["PARLEY_SHUTDOWN_SECONDS"]),
            user=_worker_user(),
        )
        command = f"parley cluster --processes {self.processes} --port {self.port}"
        self.nginx_conf.write_text(render(site, self.config, command, standalone))

    def migrate(self) -> None:
        self.echo("parley cluster: migrating the database (parley db upgrade)")
        done = subprocess.run(
            [sys.executable, "-m", "parley", "db", "upgrade"],
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 and not self.stopping.is_set():
            raise ClusterError(f"`parley db upgrade` failed:\n{done.stderr.strip()}")

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def start(self) -> None:
        run_dir = self.instance / "cluster"
        run_dir.mkdir(parents=True, exist_ok=True)
        for port in self.process_ports:
            self.gunicorns[port] = self._spawn(
                [
                    sys.executable,
                    "-m",
                    "parley",
                    "serve",
                    "--bind",
                    f"{HOST}:{port}",
                    "--pid",
                    str(run_dir / f"gunicorn-{port}.pid"),
                    # gunicorn's control socket has one path per user: the processes
                    # would take it from each other. They are run by signals alone.
                    "--no-control-socket",
                ]
            )
        self.write_nginx_config()
        self.nginx_process = self._spawn(self.nginx_args())

    def wait_ready(self) -> None:
        """Until every process answers /readyz, directly and through Nginx."""
        deadline = time.monotonic() + READY_SECONDS
        pending = [f"http://{HOST}:{p}/readyz" for p in [*self.process_ports, self.port]]
        while pending:
            if self.stopping.is_set():
                return
            self.check_alive(starting=True)
            if time.monotonic() > deadline:
                raise ClusterError(f"Not ready after {READY_SECONDS} s: {', '.join(pending)}")
            if _answers(pending[0]):
                pending.pop(0)
            else:
                self.stopping.wait(POLL_SECONDS)

    def check_alive(self, *, starting: bool = False) -> None:
        """Raise when Nginx has exited, or when a process has (at start) or the last one
        has (while serving: the others go on serving)."""
        assert self.nginx_process is not None
        if self.nginx_process.poll() is not None:
            raise ClusterError(
                f"nginx exited ({self.nginx_process.returncode}); its log: "
                f"{self.prefix / 'logs' / 'error.log'}"
            )
        for port, process in list(self.gunicorns.items()):
            if process.poll() is None:
                continue
            if starting:
                raise ClusterError(f"The process on port {port} exited ({process.returncode}).")
            self.echo(
                f"parley cluster: the process on port {port} exited ({process.returncode}); "
                "Nginx sends its clients to the others"
            )
            del self.gunicorns[port]
        if not self.gunicorns:
            raise ClusterError("Every process has exited.")

    def serve(self) -> None:
        while not self.stopping.wait(POLL_SECONDS * 2.5):
            self.check_alive()

    def stop(self) -> bool:
        """Stop everything: True when each part stopped by itself in time."""
        for process in self.gunicorns.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        if self.nginx_process is not None and self.nginx_process.poll() is None:
            quit_ = subprocess.run([*self.nginx_args(), "-s", "quit"], capture_output=True)
            if quit_.returncode != 0:  # no pid file yet: it was still starting
                self.nginx_process.send_signal(signal.SIGQUIT)
        deadline = time.monotonic() + self.config["PARLEY_SHUTDOWN_SECONDS"] + STOP_MARGIN_SECONDS
        clean = True
        parts = [*self.gunicorns.values()]
        if self.nginx_process is not None:
            parts.append(self.nginx_process)
        for process in parts:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                clean = False
                # Each part leads a process group of its own: its workers go with it.
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return clean


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _echo(line: str) -> None:
    print(line, flush=True)


def cluster_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The processes' environment: this one, with one instance folder for all and one
    proxy (this Nginx) trusted for the client's address."""
    env = dict(environ)
    env["PARLEY_INSTANCE_PATH"] = os.path.abspath(
        env.get("PARLEY_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance")
    )
    env.setdefault("PARLEY_TRUSTED_PROXIES", "1")
    return env


def run_cluster(
    processes: int,
    port: int,
    environ: Mapping[str, str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> int:
    """Run the cluster until SIGTERM or SIGINT; the exit status."""

    def fail(message: str) -> int:
        print(f"parley cluster: {message}", file=sys.stderr, flush=True)
        return 2

    echo = echo or _echo
    env = cluster_env(os.environ if environ is None else environ)
    if not 1 <= processes <= MAX_PROCESSES:
        return fail(f"--processes must be from 1 to {MAX_PROCESSES}, not {processes}.")
    if port < 1 or port + processes > 65535:
        return fail(f"--port {port} leaves no room for {processes} process ports after it.")
    try:
        database = required_database(env)
        queue = required_message_queue(env)
        try:
            config = load_config(None, env["PARLEY_INSTANCE_PATH"], env)
        except ConfigError as exc:
            raise ClusterError(str(exc)) from None
        nginx = find_nginx(env)
        check_database(database)
        check_message_queue(queue)
        check_ports_free([port, *(port + 1 + i for i in range(processes))])
    except ClusterError as exc:
        return fail(str(exc))

    cluster = Cluster(processes, port, env, config, nginx, echo)

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        cluster.stopping.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    status = 0
    try:
        cluster.migrate()
        if not cluster.stopping.is_set():  # Ctrl+C while migrating: nothing to start
            cluster.start()
            cluster.wait_ready()
        if not cluster.stopping.is_set():
            ports = ", ".join(str(p) for p in cluster.process_ports)
            echo(
                f"Parley cluster is serving on http://{HOST}:{port}/ through Nginx "
                f"({processes} processes on ports {ports}; Ctrl+C stops it)"
            )
            cluster.serve()
    except ClusterError as exc:
        status = fail(str(exc))
    finally:
        echo("parley cluster: stopping")
        if not cluster.stop():
            echo("parley cluster: some parts did not stop in time and were killed")
            status = status or 1
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if status == 0:
        echo("parley cluster: stopped")
    return status
