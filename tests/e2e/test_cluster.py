"""`parley cluster`: two gunicorn processes behind a real Nginx on a real PostgreSQL and
Redis. Clients register, log in and chat through Nginx (WebSocket and long-polling)
and on each process directly; SIGTERM and SIGINT stop every part, leaving no process
behind; without a shared database and message queue it refuses to start."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from api_client import Api
from bench.servers import free_port_run
from servers import BIN, free_port

from databases import postgres_base_url, postgres_schema, unavailable
from parley.config import Config
from support import jpeg

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/15"
READY_LINE = "Parley cluster is serving on"
START_SECONDS = 90


def require_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable(f"No Redis answers at {REDIS_URL} ({type(exc).__name__})")
    return REDIS_URL


def cluster_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PARLEY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
        "PARLEY_RATE_LIMITS": "off",
        "PARLEY_SHUTDOWN_SECONDS": "5",
    }
    for name in ("DATABASE_URL", "PARLEY_MESSAGE_QUEUE"):
        env.pop(name, None)
    env.update(extra)
    return env


def process_tree(root: int) -> set[int]:
    """Every process descended from `root` (from /proc: each process's parent)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children[parent].append(int(entry.name))
    found: set[int] = set()
    waiting = [root]
    while waiting:
        for child in children[waiting.pop()]:
            if child not in found:
                found.add(child)
                waiting.append(child)
    return found


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RunningCluster:
    process: subprocess.Popen[bytes]
    port: int
    processes: int
    log: Path
    instance: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port + 1 + index}"


@pytest.fixture
def processes() -> int:
    """How many processes the cluster under test runs; a test overrides this."""
    return 2


@pytest.fixture
def cluster(tmp_path: Path, processes: int) -> Iterator[RunningCluster]:
    require_nginx()
    queue = require_redis()
    with postgres_schema() as database:
        port = free_port_run(processes + 1)
        env = cluster_env(tmp_path, DATABASE_URL=database, PARLEY_MESSAGE_QUEUE=queue)
        log = tmp_path / "cluster.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [BIN / "parley", "cluster", "--processes", str(processes), "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running_cluster = RunningCluster(process, port, processes, log, tmp_path / "instance")
        try:
            deadline = time.monotonic() + START_SECONDS
            while READY_LINE not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the cluster did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield running_cluster
        finally:
            if process.poll() is None:
                process.kill()  # the test failed before stopping it: its parts get SIGTERM
                process.wait()


def _nginx() -> str | None:
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def require_nginx() -> str:
    found = _nginx()
    if found is None:
        unavailable("nginx is not installed (make test installs it: apt-get install nginx)")
    assert found is not None
    return found


def stops_everything(cluster: RunningCluster, signum: int) -> None:
    parts = process_tree(cluster.process.pid)
    # A gunicorn master and its worker for each process, an Nginx master and its worker.
    assert len(parts) >= 2 * cluster.processes + 2, parts
    pid_file = cluster.instance / "nginx" / "nginx.pid"
    assert int(pid_file.read_text()) in parts
    cluster.process.send_signal(signum)
    assert cluster.process.wait(timeout=30) == 0, cluster.log.read_text()
    assert [pid for pid in parts if running(pid)] == []
    assert not pid_file.exists()
    assert not any(listening(cluster.port + i) for i in range(cluster.processes + 1))
    assert cluster.log.read_text().rstrip().endswith("parley cluster: stopped")


def chat(clients: dict[str, tuple[str, Api, str]], room: int) -> dict[str, list[str]]:
    """Each client connects (to its URL, on its transport), sends one message, and waits
    to hear every client's message; what each heard."""
    heard: dict[str, list[str]] = {name: [] for name in clients}
    everyone = threading.Event()
    sockets: dict[str, socketio.Client] = {}
    lock = threading.Lock()
    try:
        for name, (url, api, transport) in clients.items():
            client = socketio.Client(reconnection=False)

            def on_new(data: dict[str, Any], name: str = name) -> None:
                with lock:
                    heard[name].append(data["message"]["body"])
                    if all(len(h) >= len(clients) for h in heard.values()):
                        everyone.set()

            client.on("message:new", on_new)
            client.connect(
                url,
                auth={"token": api.http.headers["Authorization"][7:]},
                transports=[transport],
                wait_timeout=15,
            )
            assert client.transport() == transport
            sockets[name] = client
        for name, client in sockets.items():
            ack = client.call("message:send", {"room_id": room, "body": f"from {name}"}, timeout=15)
            assert ack["ok"], ack
        everyone.wait(15)
        return heard
    finally:
        for client in sockets.values():
            client.disconnect()


def watches_live_video_through_nginx(url: str, broadcaster_api: Api, room: int) -> None:
    """A frame reaches an MJPEG viewer through Nginx as soon as it is sent: a buffering
    proxy would hold a frame this small."""
    token = broadcaster_api.http.headers["Authorization"][7:]
    broadcaster = socketio.Client(reconnection=False)
    broadcaster.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=15)
    try:
        start = {"room_id": room, "width": 64, "height": 48, "fps": 15}
        assert broadcaster.call("video:start", start, timeout=15)["ok"]
        frame = jpeg(64, 48)
        assert broadcaster.call("video:frame", ({"room_id": room}, frame), timeout=15)["ok"]
        viewer = requests.get(
            f"{url}/rooms/{room}/live.mjpg",
            headers={"Authorization": f"Bearer {token}"},
            stream=True,
            timeout=10,
        )
        try:
            assert viewer.status_code == 200, viewer.text
            assert broadcaster.call("video:frame", ({"room_id": room}, frame), timeout=15)["ok"]
            head = viewer.raw.read(60)
            assert head.startswith(b"--parleyframe\r\nContent-Type: image/jpeg"), head
        finally:
            viewer.close()
        assert broadcaster.call("video:stop", {"room_id": room}, timeout=15)["ok"]
    finally:
        broadcaster.disconnect()


def gather_seconds(url: str) -> float:
    """The process's group-commit wait, from its metrics (loopback may read them); the
    processes count each other within a hello or two after they start."""
    deadline = time.monotonic() + 10
    while True:
        metrics = requests.get(f"{url}/metrics", timeout=10)
        assert metrics.status_code == 200, metrics.text
        found = re.search(r"^parley_send_gather_seconds (\S+)$", metrics.text, re.MULTILINE)
        assert found, metrics.text[:2000]
        value = float(found.group(1))
        if value > Config.PARLEY_SEND_GATHER_SECONDS or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_a_cluster_serves_through_nginx_and_each_process_and_stops_on_sigterm(
    cluster: RunningCluster,
) -> None:
    for url in (cluster.url, cluster.process_url(0), cluster.process_url(1)):
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ok", (url, ready.text)
    # What it runs passes nginx -t (the same command line, testing instead of serving).
    conf = cluster.instance / "nginx" / "nginx.conf"
    checked = subprocess.run(
        [require_nginx(), "-t", "-p", str(conf.parent), "-c", str(conf), "-e", "/dev/stderr"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr

    alice, _ = Api.register(cluster.url, "alice")
    login = requests.post(
        f"{cluster.url}/api/v1/auth/login",
        json={"username": "alice", "password": "e2e-password-1"},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    alice = Api(cluster.url, login.json()["token"])
    bob, _ = Api.register(cluster.url, "bob")
    carol, _ = Api.register(cluster.process_url(0), "carol")
    dave, _ = Api.register(cluster.process_url(1), "dave")
    room = alice.call("POST", "/rooms", 201, json={"name": "cluster"})["id"]
    for member in (bob, carol, dave):
        member.call("POST", f"/rooms/{room}/join", 201)
    heard = chat(
        {
            "alice": (cluster.url, alice, "websocket"),
            "bob": (cluster.url, bob, "polling"),
            "carol": (cluster.process_url(0), carol, "websocket"),
            "dave": (cluster.process_url(1), dave, "polling"),
        },
        room,
    )
    everything = {"from alice", "from bob", "from carol", "from dave"}
    assert all(everything <= set(bodies) for bodies in heard.values()), heard
    watches_live_video_through_nginx(cluster.url, alice, room)
    # The page's files come from Nginx, compressed, kept by browsers and revalidated.
    css = requests.get(
        f"{cluster.url}/static/app/app.css", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
    assert css.headers["Cache-Control"] == "public, no-cache" and "ETag" in css.headers
    # Nginx passed the request id on and wrote it in its log.
    request_id = f"cluster-test-{secrets.token_hex(4)}"
    requests.get(f"{cluster.url}/healthz", headers={"X-Request-ID": request_id}, timeout=10)
    access_log = cluster.instance / "nginx" / "logs" / "access.log"
    # Nginx writes the line in its log phase, after the response has gone out.
    deadline = time.monotonic() + 5
    while f"request_id={request_id}" not in access_log.read_text():
        assert time.monotonic() < deadline, access_log.read_text()[-2000:]
        time.sleep(0.05)
    # Each process gathers its group commit twice as long, the two sharing the sends.
    for process in (cluster.process_url(0), cluster.process_url(1)):
        assert gather_seconds(process) == pytest.approx(2 * Config.PARLEY_SEND_GATHER_SECONDS)
    for api in (alice, bob, carol, dave):
        api.close()

    stops_everything(cluster, signal.SIGTERM)


@pytest.mark.parametrize("processes", [1])
def test_ctrl_c_stops_a_cluster_as_sigterm_does(cluster: RunningCluster) -> None:
    assert requests.get(f"{cluster.url}/readyz", timeout=10).status_code == 200
    stops_everything(cluster, signal.SIGINT)


@pytest.mark.parametrize("processes", [1])
def test_a_killed_cluster_leaves_no_process_behind(cluster: RunningCluster) -> None:
    """SIGKILL gives `parley cluster` no chance to stop anything: the kernel sends each
    part SIGTERM as its parent dies."""
    parts = process_tree(cluster.process.pid)
    assert len(parts) >= 4, parts
    cluster.process.kill()
    cluster.process.wait()
    deadline = time.monotonic() + 20
    while any(running(pid) for pid in parts) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in parts if running(pid)] == []
    assert not any(listening(cluster.port + i) for i in range(cluster.processes + 1))


def reachable_postgres() -> str:
    import sqlalchemy as sa

    url = postgres_base_url()
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        unavailable(f"No PostgreSQL answers at {url} ({type(exc).__name__})")
    finally:
        engine.dispose()
    return url


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no database", "DATABASE_URL is not set"),
        ("sqlite", "SQLite database, which is one process's database"),
        ("no message queue", "PARLEY_MESSAGE_QUEUE is not set"),
        ("database down", "The database at DATABASE_URL (postgresql+psycopg://postgres@"),
        ("redis down", "The Redis at PARLEY_MESSAGE_QUEUE (redis://127.0.0.1:"),
    ],
)
def test_a_cluster_without_a_shared_database_and_queue_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, message: str
) -> None:
    from parley.cluster import run_cluster

    nowhere = free_port()
    env = {
        "no database": {"PARLEY_MESSAGE_QUEUE": REDIS_URL},
        "sqlite": {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
            "PARLEY_MESSAGE_QUEUE": REDIS_URL,
        },
        "no message queue": {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"},
        "database down": {
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{nowhere}/parley",
            "PARLEY_MESSAGE_QUEUE": REDIS_URL,
        },
        "redis down": {
            "DATABASE_URL": reachable_postgres() if case == "redis down" else "",
            "PARLEY_MESSAGE_QUEUE": f"redis://127.0.0.1:{nowhere}/0",
        },
    }[case]
    status = run_cluster(2, free_port_run(3), cluster_env(tmp_path, **env), echo=print)
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("parley cluster: ") and message in err, err
    assert not (tmp_path / "instance" / "nginx").exists()


def test_the_command_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    refused = subprocess.run(
        [BIN / "parley", "cluster", "--processes", "2", "--port", str(free_port_run(3))],
        env=cluster_env(tmp_path, PARLEY_MESSAGE_QUEUE=REDIS_URL),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2, refused
    assert refused.stderr.startswith("parley cluster: DATABASE_URL is not set"), refused.stderr
    assert refused.stdout == ""
