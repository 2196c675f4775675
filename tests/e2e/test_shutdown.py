"""A clean stop: SIGTERM or SIGINT to `parley run` (gevent and threading) or to `parley
serve` (gunicorn's master, or its gevent worker alone) while clients stream messages and
a room is live.

Every send acknowledged is stored; the live broadcast ends with video:stop "shutdown";
the server exits 0 within its shutdown time and logs no traceback; restarted on the same
port and database, it gets the clients back by themselves (Socket.IO's reconnect: the
server closed their transports, it did not disconnect them), and they catch up with
`sync`. Sends that got no ack are sent again with their client_id, and stored once.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import socketio
from api_client import Api
from chat_client import ChatClient
from servers import BIN, free_port, migrate, run_env, wait_until_up

pytestmark = pytest.mark.slow

SHUTDOWN_SECONDS = 10
# Rate limits off: the senders are a load of their own.
SERVER_ENV = {"PARLEY_SHUTDOWN_SECONDS": str(SHUTDOWN_SECONDS), "PARLEY_RATE_LIMITS": "off"}
# Beyond the shutdown time: a loaded machine's slack for the process to go.
EXIT_MARGIN = 5
MESSAGES_EACH = 40
SENDERS = [("ws1", "websocket"), ("ws2", "websocket"), ("poll", "polling")]


@dataclass
class Server:
    """One server command on a fixed port and database, started and stopped by hand."""

    command: list[str]
    env: dict[str, str]
    port: int
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_dir / f"server-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_until_up(self.url, self.process, timeout=60)

    def worker_pid(self) -> int:
        """gunicorn's one worker, a child of the master."""
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            children = path.read_text().split()
            if children:
                return int(children[0])
            time.sleep(0.1)
        raise AssertionError("gunicorn has no worker")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=SHUTDOWN_SECONDS + EXIT_MARGIN)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def parley_run(tmp_path: Path, mode: str) -> Server:
    port = free_port()
    env = run_env(tmp_path, port, SERVER_ENV)
    command = [str(BIN / "parley"), "run", "--async-mode", mode]
    return Server(command, env, port, tmp_path)


def parley_serve(tmp_path: Path) -> Server:
    port = free_port()
    env = {
        **run_env(tmp_path, port, SERVER_ENV),
        "PARLEY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
    }
    command = [str(BIN / "parley"), "serve", "--bind", f"127.0.0.1:{port}"]
    return Server(command, env, port, tmp_path)


class Sender(threading.Thread):
    """Sends MESSAGES_EACH messages over its own socket, each until acknowledged: a send
    that got no ack (the server stopped) is sent again, same client_id, once the client
    has reconnected by itself."""

    def __init__(self, name: str, client: ChatClient, room_id: int) -> None:
        super().__init__(daemon=True, name=name)
        self.client = client
        self.room_id = room_id
        self.acked: dict[str, int] = {}
        self.unanswered = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(MESSAGES_EACH):
                client_id = f"{self.name}-{n}"
                while client_id not in self.acked:
                    self.send(client_id)
                time.sleep(0.02)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def send(self, client_id: str) -> None:
        sio = self.client.sio
        if not sio.connected:
            time.sleep(0.05)
            return
        try:
            ack = sio.call(
                "message:send",
                {"room_id": self.room_id, "body": client_id, "client_id": client_id},
                timeout=3,
            )
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            self.unanswered += 1
            return
        assert ack["ok"], ack
        self.acked[client_id] = ack["message"]["id"]


def exited_cleanly_within(process: subprocess.Popen[bytes] | None, seconds: float) -> int:
    assert process is not None
    return process.wait(timeout=seconds)


def pid_gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    ("server_kind", "signum"),
    [
        # Each server once, and each signal on each kind of server: the handlers are one
        # per server, and both signals take the same path within it.
        ("gevent", signal.SIGTERM),
        ("threading", signal.SIGINT),
        ("gunicorn master", signal.SIGTERM),
        ("gunicorn worker", signal.SIGINT),
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_a_stop_signal_loses_no_acknowledged_send_and_clients_come_back(
    tmp_path: Path, server_kind: str, signum: signal.Signals
) -> None:
    if server_kind.startswith("gunicorn"):
        server = parley_serve(tmp_path)
    else:
        server = parley_run(tmp_path, server_kind)
    migrate(server.env)
    server.start()
    apis: list[Api] = []
    clients: list[ChatClient] = []
    worker: int | None = None
    try:
        owner, _ = Api.register(server.url, "owner")
        apis.append(owner)
        room_id = owner.call("POST", "/rooms", 201, json={"name": "stopping"})["id"]

        def member(name: str, transport: str) -> ChatClient:
            api, _ = Api.register(server.url, name)
            apis.append(api)
            api.call("POST", f"/rooms/{room_id}/join", 201)
            client = ChatClient(server.url, api.http.headers["Authorization"][7:], [transport])
            client.connect([room_id])
            assert client.synced.wait(15), client.state()
            clients.append(client)
            return client

        listener = member("listener", "websocket")
        broadcaster = member("broadcaster", "websocket")
        live = broadcaster.sio.call(
            "video:start", {"room_id": room_id, "width": 64, "height": 48, "fps": 5}, timeout=10
        )
        assert live["ok"], live
        senders = [Sender(name, member(name, transport), room_id) for name, transport in SENDERS]
        for sender in senders:
            sender.start()
        # Mid-stream: some sends acknowledged, more on their way.
        deadline = time.monotonic() + 30
        while sum(len(s.acked) for s in senders) < 15:
            assert time.monotonic() < deadline, "the senders got no acks"
            time.sleep(0.02)

        worker = server.worker_pid() if server_kind.startswith("gunicorn") else None
        if server_kind == "gunicorn worker":
            assert worker is not None
            os.kill(worker, signum)
            assert pid_gone_within(worker, SHUTDOWN_SECONDS + EXIT_MARGIN)
            # The master starts a new worker on the same port and database.
        else:
            assert server.process is not None
            server.process.send_signal(signum)
            code = exited_cleanly_within(server.process, SHUTDOWN_SECONDS + EXIT_MARGIN)
            assert code == 0
            acked_before_restart = {
                client_id for s in senders for client_id in s.acked
            }  # all from the stopped server
            assert acked_before_restart
            server.start()

        for sender in senders:
            sender.join(timeout=90)
            assert not sender.is_alive(), [c.state() for c in clients]
            assert sender.error is None, repr(sender.error)

        history = owner.history(room_id)
        stored = {m["client_id"]: m["id"] for m in history}
        assert len(history) == len(stored) == MESSAGES_EACH * len(SENDERS)  # each once
        for sender in senders:
            for client_id, message_id in sender.acked.items():
                assert stored[client_id] == message_id
        # Every client came back by itself, more than once connected, and caught up.
        truth = {m["id"]: (m["body"], m["deleted"]) for m in history}
        deadline = time.monotonic() + 30
        while listener.snapshot(room_id) != truth and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listener.snapshot(room_id) == truth, listener.state()
        for client in clients:
            assert client.connects >= 2 and client.sio.connected, client.state()
        assert listener.syncs >= 2
        stops = [data for event, data in listener.events if event == "video:stop"]
        assert stops == [{"room_id": room_id, "reason": "shutdown"}]
    finally:
        for client in clients:
            client.close()
        for api in apis:
            api.close()
        server.stop()
    logs = [log.read_text(errors="replace") for log in server.logs]
    for text in logs:
        assert "Traceback" not in text, text
        assert "at the deadline" not in text, text  # the sequence finished in time
    if server_kind.startswith("gunicorn"):
        # The signalled worker went by itself, before gunicorn's graceful timeout.
        assert f"Worker exiting (pid: {worker})" in logs[0], logs[0]
        for text in logs:
            for trouble in ("exited with code", "SIGKILL", "graceful timeout", "Error"):
                assert trouble not in text, text


IDLE_STOP_SECONDS = 30


@pytest.mark.parametrize("mode", ["gevent", "threading"])
def test_idle_connections_do_not_hold_the_stop_until_its_deadline(
    tmp_path: Path, mode: str
) -> None:
    """A WebSocket, a long-polling client and a kept-alive HTTP connection, each with
    nothing left to hear, are ended once the sessions are closed: the server does not
    wait for their clients to hang up or time out."""
    port = free_port()
    env = run_env(tmp_path, port, {"PARLEY_SHUTDOWN_SECONDS": str(IDLE_STOP_SECONDS)})
    server = Server([str(BIN / "parley"), "run", "--async-mode", mode], env, port, tmp_path)
    migrate(env)
    server.start()
    clients: list[socketio.Client] = []
    kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        api, _ = Api.register(server.url, "idle")
        token = api.http.headers["Authorization"][7:]
        api.close()
        for transport in ("websocket", "polling"):
            client = socketio.Client(reconnection=False)
            client.connect(server.url, auth={"token": token}, transports=[transport])
            clients.append(client)
        kept_alive.request("GET", "/healthz")
        assert kept_alive.getresponse().read()
        assert server.process is not None
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert exited_cleanly_within(server.process, IDLE_STOP_SECONDS + EXIT_MARGIN) == 0
        # Well inside the deadline (the stop itself takes well under a second).
        assert time.monotonic() - started < IDLE_STOP_SECONDS / 3
    finally:
        kept_alive.close()
        for client in clients:
            client.disconnect()
        server.stop()
