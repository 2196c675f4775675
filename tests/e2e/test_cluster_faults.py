"""Faults in a running cluster: a process SIGKILLed in the middle of a send burst, Redis
restarted mid-chat, PostgreSQL restarted. Real processes, a real Nginx, and Redis and
PostgreSQL servers of the test's own (started in a temporary folder, on free ports):
the machine's shared servers are never stopped. What a user sees during each fault is
in docs/operations.md, "When a part fails"."""

from __future__ import annotations

import ctypes
import glob
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
import sqlalchemy as sa
from api_client import Api
from bench.servers import free_port_run
from chat_client import ChatClient
from servers import (
    BIN,
    SHARED_SERVER_ENV,
    free_port,
    require_redis,
    serve_side_by_side,
)
from test_cluster import READY_LINE, START_SECONDS, cluster_env, require_nginx

from databases import postgres_schema, unavailable
from support import jpeg

pytestmark = pytest.mark.slow

PASSWORD = "e2e-password-1"
# Small, for a short test, yet several seconds: a process starved that long on a busy
# machine would be taken for dead.
PROCESS_TTL = 4.0
PR_SET_PDEATHSIG = 1


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def server_env(
    tmp_path: Path, database_url: str, queue: str | None, **extra: str
) -> dict[str, str]:
    env = {
        **os.environ,
        "PARLEY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "PARLEY_REDIS_PREFIX": f"parley-test-{uuid.uuid4().hex[:12]}",
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_COST": "1024",
        "PARLEY_ARGON2_PARALLELISM": "1",
        "PARLEY_SHUTDOWN_SECONDS": "3",
        **SHARED_SERVER_ENV,
        **extra,
    }
    env.pop("PARLEY_MESSAGE_QUEUE", None)
    if queue is not None:
        env["PARLEY_MESSAGE_QUEUE"] = queue
    return env


def die_with_parent() -> None:
    """In a child, before exec: SIGTERM when this test's process dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def token_of(api: Api) -> str:
    return str(api.http.headers["Authorization"])[7:]


# --- Private servers ---------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, on a free port, keeping nothing on disk; it can
    be stopped and started again on the same port."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        assert binary is not None
        with open(self.directory / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    *("--port", str(self.port)),
                    *("--bind", "127.0.0.1"),
                    *("--save", ""),
                    *("--appendonly", "no"),
                    *("--dir", str(self.directory)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                # Stopped by the kernel should this test's process die without cleaning up.
                preexec_fn=die_with_parent,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            wait_until(lambda: self._answers(client), 15, "the private Redis to answer")
        finally:
            client.close()

    def _answers(self, client: redis.Redis) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"redis-server exited: {(self.directory / 'redis.log').read_text()}"
            )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    directory = Path(tempfile.mkdtemp(prefix="parley-redis-"))
    server = PrivateRedis(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def postgres_tool(name: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl): Debian keeps them out of PATH."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        unavailable(f"{name} is not installed (the postgresql package has it)")
    assert found is not None
    return found


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the postgres user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: a data folder in a temporary folder, a free
    port on loopback, trust authentication, nothing synced to disk."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        done = subprocess.run(
            as_postgres(
                [
                    postgres_tool("pg_ctl"),
                    *("-D", str(self.data)),
                    *("-l", str(self.directory / "postgres.log")),
                    *("-o", options),
                    "-w",
                    *("-t", "60"),
                    *args,
                ]
            ),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr, self.log())

    def log(self) -> str:
        with suppress(OSError):
            return (self.directory / "postgres.log").read_text()[-3000:]
        return ""

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    initdb = postgres_tool("initdb")
    postgres_tool("pg_ctl")
    # Not under pytest's temporary folder: the postgres user cannot enter root's.
    directory = Path(tempfile.mkdtemp(prefix="parley-pg-"))
    server = PrivatePostgres(directory)
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        done = subprocess.run(
            as_postgres(
                [initdb, "-D", str(server.data), "-A", "trust", "-U", "postgres", "--no-sync"]
            ),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        server.pg_ctl("start")
        admin = sa.create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE parley"))
        admin.dispose()
        yield server
    finally:
        if server.running():
            # Immediate: a test that failed leaves nothing worth a clean shutdown.
            with suppress(AssertionError):
                server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(directory, ignore_errors=True)


# --- PostgreSQL restarted ----------------------------------------------------------------


def unavailable_answer(response: requests.Response) -> None:
    """The answer while the database is unreachable: a 503 in the error shape, with when
    to try again."""
    assert response.status_code == 503, (response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] == "unavailable", error
    assert error["message"] and isinstance(error["details"], dict), error
    assert int(response.headers["Retry-After"]) >= 1


def test_a_postgresql_restart_answers_503_meanwhile_and_service_resumes_by_itself(
    tmp_path: Path,
) -> None:
    with private_postgres() as postgres, ExitStack() as stack:
        env = server_env(tmp_path, postgres.url("parley"), None)
        (server,) = serve_side_by_side(env, tmp_path, ["serve"], stack)
        alice, _ = Api.register(server.url, "alice")
        room = alice.call("POST", "/rooms", 201, json={"name": "restart"})["id"]
        sio = socketio.Client(reconnection=True, reconnection_delay=0.2)
        sio.connect(server.url, auth={"token": token_of(alice)}, transports=["websocket"])
        stack.callback(sio.disconnect)

        # A burst of REST sends with a client_id each, while the database restarts.
        sender = Api(server.url, token_of(alice))
        stack.callback(sender.close)
        answers: dict[str, int] = {}
        wrong: list[str] = []
        stop_sending = threading.Event()

        def burst() -> None:
            number = 0
            while not stop_sending.is_set():
                client_id = f"rest-{number}"
                response = sender.http.post(
                    f"{sender.base}/rooms/{room}/messages",
                    json={"body": client_id, "client_id": client_id},
                    timeout=30,
                )
                if response.status_code != 201:
                    try:
                        unavailable_answer(response)
                    except AssertionError as exc:
                        wrong.append(f"{client_id}: {exc}")
                        return
                answers[client_id] = response.status_code
                number += 1
                time.sleep(0.05)

        thread = threading.Thread(target=burst, daemon=True)
        thread.start()
        wait_until(lambda: len(answers) >= 5, 30, "sends before the restart")
        postgres.pg_ctl("stop", "-m", "fast")

        # While it is down: every kind of request gets a clear 503, none hangs.
        unavailable_answer(
            alice.http.post(f"{alice.base}/rooms/{room}/messages", json={"body": "gap"}, timeout=30)
        )
        unavailable_answer(alice.http.get(f"{alice.base}/rooms/{room}/messages", timeout=30))
        ready = requests.get(f"{server.url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable", ready.text
        ack = sio.call(
            "message:send",
            {"room_id": room, "body": "socket gap", "client_id": "socket-gap"},
            timeout=30,
        )
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable", ack

        postgres.pg_ctl("start")
        # Service resumes by itself: the pool drops the dead connections and opens new ones.
        wait_until(
            lambda: requests.get(f"{server.url}/readyz", timeout=10).status_code == 200,
            30,
            "/readyz to answer 200 again",
        )
        restarted = len(answers)
        wait_until(
            lambda: (
                wrong
                or any(answers.get(f"rest-{n}") == 201 for n in range(restarted, len(answers)))
            ),
            30,
            "a send to succeed after the restart",
        )
        stop_sending.set()
        thread.join(timeout=40)
        assert not thread.is_alive()
        assert wrong == []
        ack = sio.call(
            "message:send",
            {"room_id": room, "body": "socket gap", "client_id": "socket-gap"},
            timeout=30,
        )
        assert ack["ok"] and ack["created"], ack

        # Each refused send, resent with its client_id, ends stored once.
        refused = [c for c, status in list(answers.items()) if status == 503]
        assert refused, answers
        for client_id in refused:
            response = sender.http.post(
                f"{sender.base}/rooms/{room}/messages",
                json={"body": client_id, "client_id": client_id},
                timeout=30,
            )
            assert response.status_code in (200, 201), response.text

        # Nothing half-written: every send is stored once, with the room's numbers
        # following each other, and the room's counter where its last message is.
        history = alice.history(room)
        bodies = Counter(m["body"] for m in history)
        assert {b for b, n in bodies.items() if n > 1} == set()
        assert set(answers) | {"socket gap"} == set(bodies)
        assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
        engine = sa.create_engine(postgres.url("parley"))
        try:
            with engine.connect() as connection:
                counter = connection.execute(
                    sa.text("SELECT last_seq FROM rooms WHERE id = :id"), {"id": room}
                ).scalar_one()
        finally:
            engine.dispose()
        assert counter == len(history)
        alice.close()


# --- Redis restarted ---------------------------------------------------------------------


def ready_parts(url: str) -> tuple[int, str]:
    response = requests.get(f"{url}/readyz", timeout=10)
    return response.status_code, str(response.json().get("message_queue"))


@dataclass
class Broadcaster:
    sio: socketio.Client
    room: int
    frame: bytes = field(default_factory=jpeg)
    acks: list[tuple[float, Any]] = field(default_factory=list)

    def send_frame(self) -> None:
        ack = self.sio.call("video:frame", ({"room_id": self.room}, self.frame), timeout=15)
        assert ack["ok"], ack


@contextmanager
def broadcasting(url: str, token: str, room: int) -> Iterator[Broadcaster]:
    """A broadcast from a socket on `url`, sending a frame every 0.2 s throughout, as a
    camera does; each frame's ack is noted."""
    sio = socketio.Client(reconnection=False)
    sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=15)
    stopped = threading.Event()
    broadcaster = Broadcaster(sio, room)

    def camera() -> None:
        while not stopped.wait(0.2):
            with suppress(socketio.exceptions.SocketIOError):
                ack = sio.call("video:frame", ({"room_id": room}, broadcaster.frame), timeout=15)
                broadcaster.acks.append((time.monotonic(), ack))

    thread = threading.Thread(target=camera, daemon=True)
    try:
        start = {"room_id": room, "width": 64, "height": 48, "fps": 15}
        ack = sio.call("video:start", start, timeout=15)
        assert ack["ok"], ack
        thread.start()
        yield broadcaster
    finally:
        stopped.set()
        thread.join(timeout=20)
        sio.disconnect()


def watched_through(url: str, viewer: Api, room: int, broadcaster: Broadcaster) -> None:
    """A frame sent now is the one a viewer on another process gets."""

    def snapshot() -> bool:
        broadcaster.send_frame()
        found = viewer.http.get(f"{url}/rooms/{room}/live.jpg", timeout=10)
        return found.status_code == 200 and found.content == broadcaster.frame

    wait_until(snapshot, 20, "the broadcast's frame through the other process")


def bodies_of(client: ChatClient, room: int) -> set[str]:
    return {body for body, _deleted in client.snapshot(room).values()}


def test_a_redis_restart_keeps_sends_committing_and_clients_catch_up_through_sync(
    tmp_path: Path,
) -> None:
    with private_redis() as queue, postgres_schema() as database, ExitStack() as stack:
        # Rate limits on, as in production: their counters are in this Redis too.
        env = server_env(
            tmp_path,
            database,
            queue.url,
            PARLEY_PRESENCE_PROCESS_TTL=str(PROCESS_TTL),
            PARLEY_RATE_LIMITS="true",
            PARLEY_SEND_RATE_LIMIT="1000/minute",
            PARLEY_EVENT_RATE_LIMIT="1000/minute",
            PARLEY_REGISTER_RATE_LIMIT="1000/minute",
            PARLEY_LOGIN_RATE_LIMIT="1000/minute",
        )
        a, b = serve_side_by_side(env, tmp_path, ["a", "b"], stack)
        alice, alice_body = Api.register(a.url, "alice")
        bob, _ = Api.register(b.url, "bob")
        room = alice.call("POST", "/rooms", 201, json={"name": "redis"})["id"]
        bob.call("POST", f"/rooms/{room}/join", 201)
        on_a = ChatClient(a.url, token_of(alice), ["websocket"], name="alice")
        on_b = ChatClient(b.url, token_of(bob), ["websocket"], name="bob")
        for client in (on_a, on_b):
            stack.callback(client.close)
            client.connect([room])
            assert client.synced.wait(15), client.state()

        def send(client: ChatClient, body: str) -> dict[str, Any]:
            ack: dict[str, Any] = client.sio.call(
                "message:send", {"room_id": room, "body": body, "client_id": body}, timeout=30
            )
            assert ack["ok"] and ack["created"], ack
            return ack

        send(on_a, "before")
        wait_until(lambda: "before" in bodies_of(on_b, room), 15, "bob to hear 'before'")
        broadcaster = stack.enter_context(broadcasting(a.url, token_of(alice), room))
        watched_through(b.url, bob, room, broadcaster)
        held = {client.name: client.last_ids() for client in (on_a, on_b)}

        queue.stop()
        for server in (a, b):
            wait_until(
                lambda s=server: ready_parts(s.url) == (503, "unreachable"),  # type: ignore[misc]
                15,
                f"{server.url}/readyz to say the message queue is unreachable",
            )
        # Sends keep committing, on either process, over a socket or REST.
        during = [f"during-{n}" for n in range(5)]
        for body in during[:3]:
            send(on_a, body)
        for body in during[3:]:
            bob.call("POST", f"/rooms/{room}/messages", 201, json={"body": body, "client_id": body})
        assert ready_parts(a.url) == (503, "unreachable")
        # A login waits for Redis (its throttle's counts are there): a clear 503.
        login = {"username": "alice", "password": PASSWORD}
        refused = requests.post(f"{a.url}/api/v1/auth/login", json=login, timeout=30)
        unavailable_answer(refused)

        queue.start()
        for server in (a, b):
            wait_until(
                lambda s=server: ready_parts(s.url) == (200, "ok"),  # type: ignore[misc]
                15,
                f"{server.url}/readyz to answer 200 again",
            )
        logged_in = requests.post(f"{a.url}/api/v1/auth/login", json=login, timeout=30)
        assert logged_in.status_code == 200, logged_in.text
        # Events resume: a message sent on A reaches B's socket live again.
        number = 0

        def heard_live() -> bool:
            nonlocal number
            if any(body.startswith("after-") for body in bodies_of(on_b, room)):
                return True
            send(on_a, f"after-{number}")
            number += 1
            time.sleep(1)
            return False

        wait_until(heard_live, 60, "events to cross between the processes again")
        # The live event skipped numbers: a client syncs from what it held before.
        for client in (on_a, on_b):
            client.catch_up(held[client.name])
            assert client.synced.wait(15), client.state()
        stored = {m["body"]: m["id"] for m in alice.history(room)}
        assert len(stored) == len(alice.history(room))
        assert {"before", *during} <= set(stored)
        for client in (on_a, on_b):
            wait_until(
                lambda c=client: bodies_of(c, room) >= set(stored),  # type: ignore[misc]
                15,
                f"{client.name} to hold every stored message",
            )
        # The broadcast live through the restart ends, on B too (no frozen picture): the
        # restarted Redis lost its record (docs/operations.md). One started now is
        # watched through B again.
        wait_until(
            lambda: bob.http.get(f"{b.url}/rooms/{room}/live.jpg", timeout=10).status_code == 404,
            20,
            "the broadcast to end on B",
        )
        again = stack.enter_context(broadcasting(a.url, token_of(alice), room))
        watched_through(b.url, bob, room, again)
        # Presence came back too: Redis lost every key, the heartbeats wrote them again.
        alice_id = int(alice_body["user"]["id"])
        wait_until(
            lambda: alice_id in on_b.sio.call("sync", {}, timeout=10)["online"],
            PROCESS_TTL * 3,
            "alice to be online for bob again",
        )
        alice.close()
        bob.close()


def hearing(url: str, token: str, stack: ExitStack) -> list[str]:
    """The bodies of the message:new events a socket on this process hears, as they come."""
    heard: list[str] = []
    sio = socketio.Client(reconnection=False)
    sio.on("message:new", lambda data: heard.append(data["message"]["body"]))
    sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=15)
    stack.callback(sio.disconnect)
    return heard


def test_a_ban_while_redis_is_down_ends_the_members_hearing_on_the_other_process(
    tmp_path: Path,
) -> None:
    """The ban's relay to B is lost with Redis; B finds it in the database while Redis is
    down, and the banned member's socket there hears nothing more, then or after."""
    with private_redis() as queue, postgres_schema() as database, ExitStack() as stack:
        env = server_env(tmp_path, database, queue.url, PARLEY_PRESENCE_PROCESS_TTL="4")
        a, b = serve_side_by_side(env, tmp_path, ["a", "b"], stack)
        alice, _ = Api.register(a.url, "alice")
        carol, carol_body = Api.register(b.url, "carol")
        dave, _ = Api.register(b.url, "dave")
        room = alice.call("POST", "/rooms", 201, json={"name": "outage"})["id"]
        for member in (carol, dave):
            member.call("POST", f"/rooms/{room}/join", 201)
        carol_hears = hearing(b.url, token_of(carol), stack)
        dave_hears = hearing(b.url, token_of(dave), stack)
        dave.call("POST", f"/rooms/{room}/messages", 201, json={"body": "before"})
        wait_until(lambda: "before" in carol_hears, 15, "carol to hear 'before'")

        queue.stop()
        wait_until(lambda: ready_parts(b.url) == (503, "unreachable"), 15, "B to lose Redis")
        carol_id = int(carol_body["user"]["id"])
        alice.call("POST", f"/rooms/{room}/members/{carol_id}/ban", 200)
        probes = iter(range(1000))

        def only_dave_hears() -> bool:
            body = f"probe-{next(probes)}"
            dave.call("POST", f"/rooms/{room}/messages", 201, json={"body": body})
            wait_until(lambda: body in dave_hears, 10, f"dave to hear {body!r}")
            time.sleep(0.2)
            return body not in carol_hears

        # B's own sends still reach B's sockets with Redis down: within the bus's longest
        # wait between tries, B has put carol's socket out of the room.
        took = wait_until(only_dave_hears, 20, "B to stop telling carol the room")
        print(f"carol stopped hearing B's room {took:.1f} s after the ban")
        heard_until_then = list(carol_hears)
        assert only_dave_hears()

        queue.start()
        wait_until(lambda: ready_parts(b.url) == (200, "ok"), 15, "B to reach Redis again")
        sent = iter(range(1000))

        def dave_hears_a() -> bool:
            body = f"from-a-{next(sent)}"
            alice.call("POST", f"/rooms/{room}/messages", 201, json={"body": body})
            time.sleep(0.5)
            return body in dave_hears

        wait_until(dave_hears_a, 30, "events from A to reach B again")
        assert only_dave_hears()
        assert carol_hears == heard_until_then


# --- A process SIGKILLed -----------------------------------------------------------------

SENDERS = 3
SENDS_EACH = 30


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    port: int
    instance: Path
    log: Path
    database: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process_port(self, index: int) -> int:
        return self.port + 1 + index

    def gunicorn_pid(self, port: int) -> int:
        return int((self.instance / "cluster" / f"gunicorn-{port}.pid").read_text())

    def nginx_upstream(self) -> int:
        """The process that answers this machine's requests through Nginx (hashed by
        address): the port its access log names for a request made now. Where Nginx
        tried a dead process first (once its fail_timeout is over), the log names both,
        "upstream=A, B": the last one answered."""
        request_id = f"which-{uuid.uuid4().hex[:8]}"
        requests.get(f"{self.url}/healthz", headers={"X-Request-ID": request_id}, timeout=10)
        log = self.instance / "nginx" / "logs" / "access.log"
        # Nginx logs a request after answering it: the line may come a moment later.
        deadline = time.monotonic() + 10
        while not (lines := [x for x in log.read_text().splitlines() if request_id in x]):
            assert time.monotonic() < deadline, f"no access log line for {request_id}"
            time.sleep(0.05)
        line = lines[0]
        tried = line.split("upstream=")[1].split(" upstream_time=")[0]
        return int(tried.split(", ")[-1].rsplit(":", 1)[1])


@contextmanager
def parley_cluster(tmp_path: Path, **extra: str) -> Iterator[Cluster]:
    """`parley cluster --processes 2` on a schema of the shared PostgreSQL and keys and a
    channel of its own on the shared Redis; stopped (SIGTERM, then SIGKILL) afterwards."""
    require_nginx()
    queue = require_redis()
    with postgres_schema() as database:
        port = free_port_run(3)
        env = cluster_env(
            tmp_path,
            DATABASE_URL=database,
            PARLEY_MESSAGE_QUEUE=queue,
            PARLEY_REDIS_PREFIX=f"parley-test-{uuid.uuid4().hex[:12]}",
            **SHARED_SERVER_ENV,
            **extra,
        )
        log = tmp_path / "cluster.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [BIN / "parley", "cluster", "--processes", "2", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + START_SECONDS
            while READY_LINE not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the cluster did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield Cluster(process, port, tmp_path / "instance", log, database)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # its parts get SIGTERM as it dies (PR_SET_PDEATHSIG)
                process.wait()


def contiguous_point(client: ChatClient, room: int) -> int:
    """The id of the last message before the first seq the client lacks (a room of new
    messages only, numbered 1, 2, 3 ...): where docs/realtime.md has a client sync from
    once an event skips numbers."""
    point = 0
    by_seq = {m["seq"]: m["id"] for m in client.messages[room].values()}
    seq = 1
    while seq in by_seq:
        point = by_seq[seq]
        seq += 1
    return point


@dataclass
class Sender:
    """One user sending a burst, each message with a client_id, noting which were
    acknowledged; after a failed send it waits for its client to be connected again
    (moving to `fallback` when its own server is gone)."""

    name: str
    client: ChatClient
    room: int
    fallback: str | None = None
    acked: set[str] = field(default_factory=set)
    unacked: set[str] = field(default_factory=set)
    retired: list[ChatClient] = field(default_factory=list)

    def send(self, client_id: str, timeout: float = 5) -> bool:
        try:
            ack = self.client.sio.call(
                "message:send",
                {"room_id": self.room, "body": client_id, "client_id": client_id},
                timeout=timeout,
            )
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            return False
        return bool(ack and ack.get("ok"))

    def burst(self) -> None:
        for number in range(SENDS_EACH):
            client_id = f"{self.name}-{number}"
            if self.send(client_id):
                self.acked.add(client_id)
            else:
                self.unacked.add(client_id)
                self.wait_connected()
            time.sleep(0.1)

    def wait_connected(self) -> None:
        deadline = time.monotonic() + 30
        while not self.client.sio.connected:
            if self.fallback is not None and time.monotonic() > deadline - 28:
                moved = self.client.moved_to(self.fallback)
                self.retired.append(self.client)
                moved.connect([self.room])
                self.client, self.fallback = moved, None
                return
            assert time.monotonic() < deadline, self.client.state()
            time.sleep(0.1)

    def close(self) -> None:
        for client in (self.client, *self.retired):
            client.close()

    def resend(self) -> None:
        for client_id in sorted(self.unacked):
            deadline = time.monotonic() + 30
            while not self.send(client_id, timeout=10):
                assert time.monotonic() < deadline, (client_id, self.client.state())
                time.sleep(0.5)


def stored_counts(database: str, room: int) -> Counter[str]:
    engine = sa.create_engine(database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT client_id, count(*) FROM messages WHERE room_id = :room "
                    "GROUP BY client_id"
                ),
                {"room": room},
            ).all()
    finally:
        engine.dispose()
    return Counter({str(client_id): int(count) for client_id, count in rows})


def test_a_process_killed_mid_burst_loses_no_acknowledged_message_and_its_users_go_offline(
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        cluster = stack.enter_context(
            parley_cluster(
                tmp_path,
                PARLEY_PRESENCE_PROCESS_TTL=str(PROCESS_TTL),
            )
        )
        doomed = cluster.nginx_upstream()
        survivor = next(
            cluster.process_port(i) for i in (0, 1) if cluster.process_port(i) != doomed
        )
        doomed_url, survivor_url = f"http://127.0.0.1:{doomed}", f"http://127.0.0.1:{survivor}"

        owner, _ = Api.register(cluster.url, "owner")
        stack.callback(owner.close)
        room = owner.call("POST", "/rooms", 201, json={"name": "burst"})["id"]
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for name in ("via-nginx", "on-doomed", "on-survivor", "erin"):
            api, body = Api.register(cluster.url, name)
            api.call("POST", f"/rooms/{room}/join", 201)
            tokens[name], ids[name] = token_of(api), int(body["user"]["id"])
            api.close()
        senders = [
            Sender(
                "via-nginx",
                ChatClient(cluster.url, tokens["via-nginx"], ["websocket"], "via-nginx"),
                room,
            ),
            Sender(
                "on-doomed",
                ChatClient(
                    doomed_url, tokens["on-doomed"], ["websocket"], "on-doomed", reconnection=False
                ),
                room,
                fallback=cluster.url,
            ),
            Sender(
                "on-survivor",
                ChatClient(survivor_url, tokens["on-survivor"], ["polling"], "on-survivor"),
                room,
            ),
        ]
        for sender in senders:
            stack.callback(sender.close)
            sender.client.connect([room])
            assert sender.client.synced.wait(15), sender.client.state()
        # Erin is only on the doomed process, and does not come back.
        erin = socketio.Client(reconnection=False)
        erin.connect(doomed_url, auth={"token": tokens["erin"]}, transports=["websocket"])
        stack.callback(erin.disconnect)
        watcher = senders[2].client

        def presence_of(user: str) -> list[str]:
            return [
                data["status"]
                for name, data in list(watcher.events)
                if name == "presence" and data["user_id"] == ids[user]
            ]

        wait_until(lambda: "online" in presence_of("erin"), 15, "erin online")

        threads = [threading.Thread(target=s.burst, daemon=True) for s in senders]
        for thread in threads:
            thread.start()
        wait_until(
            lambda: sum(len(s.acked) for s in senders) >= SENDERS * SENDS_EACH // 4,
            60,
            "a quarter of the burst",
        )
        os.killpg(cluster.gunicorn_pid(doomed), signal.SIGKILL)
        killed = time.monotonic()
        went_offline = wait_until(
            lambda: "offline" in presence_of("erin"), PROCESS_TTL * 4 + 10, "erin offline"
        )
        assert time.monotonic() - killed <= PROCESS_TTL * 1.25 + 6, went_offline
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive()
        # The kill cut sends short (the client on the dead process could not go on at all;
        # the one through Nginx, unless it came back between two sends).
        assert senders[1].unacked, [s.unacked for s in senders]
        assert cluster.process.poll() is None, cluster.log.read_text()

        # Every acknowledged message is stored exactly once; the rest, resent with their
        # client_ids, end stored exactly once too.
        acked = {c for s in senders for c in s.acked}
        counts = stored_counts(cluster.database, room)
        assert {c for c in acked if counts[c] != 1} == set(), counts
        for sender in senders:
            sender.resend()
        everything = {f"{s.name}-{n}" for s in senders for n in range(SENDS_EACH)}
        counts = stored_counts(cluster.database, room)
        assert set(counts) == everything and set(counts.values()) == {1}, counts

        # Every client ends with every message: live, by its sync on reconnecting, or by
        # the sync a skipped seq calls for (an event the killed process never relayed).
        stored_ids = {m["id"] for m in owner.history(room)}
        assert len(stored_ids) == len(everything)
        for sender in senders:
            client = sender.client
            client.catch_up({room: contiguous_point(client, room)})
            assert client.synced.wait(20), client.state()
            wait_until(
                lambda c=client: set(c.snapshot(room)) >= stored_ids,  # type: ignore[misc]
                20,
                f"{client.name} to hold every message",
            )
        # The client through Nginx came back by itself, and Nginx now sends everyone to the
        # survivor; the one on the dead process came back through Nginx.
        assert senders[0].client.connects >= 2, senders[0].client.state()
        assert cluster.nginx_upstream() == survivor
        assert senders[1].client.url == cluster.url
