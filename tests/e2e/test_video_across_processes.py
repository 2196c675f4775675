"""Live video across two `parley serve` processes on one PostgreSQL and one Redis.

A broadcast started on process A (a python-socketio broadcaster sending frames at 15 fps)
is watched through process B over MJPEG and Socket.IO; ending it on A, or stopping it
through B, ends it everywhere; killing A ends it on B within the relay's TTL.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import redis
import socketio
from api_client import Api
from servers import BIN, TEST_REDIS_URL, LiveServer, free_port, require_redis, wait_until_up
from test_stream_command import finish, start_stream
from test_video_stream import (
    Broadcaster,
    MjpegReader,
    assert_increasing,
    broadcasting,
    close_socket,
    connect_socket,
    frames,
    go_live,
    open_room,
    seqs,
    tag,
    token_of,
    wait_for,
)

from databases import postgres_schema

pytestmark = pytest.mark.slow

REDIS_URL = TEST_REDIS_URL
# How long a broadcast outlives its killed process elsewhere, here.
TTL = 2.0
# What a viewer on the other process may miss of the frames sent, at most.
LOSS_MARGIN = 0.2


@contextlib.contextmanager
def two_processes(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two `parley serve` processes (gunicorn's gevent worker) on a fresh PostgreSQL
    schema and one Redis, under a key prefix of their own."""
    require_redis()
    prefix = f"parley-test:{uuid.uuid4().hex[:12]}"
    with postgres_schema() as database_url:
        env = {
            **os.environ,
            "PARLEY_CONFIG": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "PARLEY_MESSAGE_QUEUE": REDIS_URL,
            "PARLEY_REDIS_PREFIX": prefix,
            "PARLEY_VIDEO_RELAY_TTL_SECONDS": str(TTL),
            "PARLEY_VIDEO_IDLE_SECONDS": "60",
            "PARLEY_RATE_LIMITS": "off",
            "PARLEY_ARGON2_TIME_COST": "1",
            "PARLEY_ARGON2_MEMORY_COST": "1024",
            "PARLEY_ARGON2_PARALLELISM": "1",
        }
        subprocess.run([BIN / "parley", "db", "upgrade"], env=env, check=True, capture_output=True)
        processes: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        try:
            servers = []
            # Both start at once: a gunicorn takes seconds to come up on a busy machine.
            for name in ("a", "b"):
                folder = tmp_path / name
                folder.mkdir()
                port = free_port()
                own = {**env, "PARLEY_INSTANCE_PATH": str(folder / "instance")}
                log: IO[bytes] = open(folder / "gunicorn.log", "wb")  # noqa: SIM115  (closed below)
                command: list[Path | str] = [BIN / "parley", "serve", "--bind", f"127.0.0.1:{port}"]
                process = subprocess.Popen(
                    command, env=own, stdout=log, stderr=subprocess.STDOUT, cwd=folder
                )
                processes.append((process, log))
                servers.append(LiveServer(f"http://127.0.0.1:{port}", process, own))
            for server in servers:
                # Generous: a loaded machine imports slowly, and both start at once.
                wait_until_up(server.url, server.process, timeout=90)
            yield servers[0], servers[1]
        finally:
            for process, _ in processes:
                process.terminate()
            for process, log in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                log.close()
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)
            client.close()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_processes(tmp_path_factory.mktemp("pair")) as both:
        yield both


@dataclass
class Scene:
    """A room opened by its owner through A, with a viewer who joined it through B."""

    a: LiveServer
    b: LiveServer
    owner: Api
    room: dict[str, Any]
    viewer: Api

    @property
    def room_id(self) -> int:
        return int(self.room["id"])


@pytest.fixture
def scene(pair: tuple[LiveServer, LiveServer]) -> Scene:
    a, b = pair
    owner, room = open_room(a)
    return Scene(a, b, owner, room, member_on(b, room["id"]))


class Watcher:
    """A socket on a process watching a room with `video:watch`, acking every frame."""

    def __init__(self, server: LiveServer, api: Api, room_id: int) -> None:
        self.frames: list[tuple[int, bytes]] = []
        self.stops: list[dict[str, Any]] = []
        self.room_id = room_id
        self.sio = connect_socket(server, api)
        self.sio.on("video:frame", self._frame)
        self.sio.on("video:stop", self.stops.append)
        ack = self.sio.call("video:watch", {"room_id": room_id}, timeout=10)
        assert ack["ok"], ack
        self.live: dict[str, Any] = ack["live"]

    def _frame(self, meta: dict[str, Any], frame: bytes) -> bool:
        self.frames.append((int(meta["seq"]), frame))
        return True

    def close(self) -> None:
        # Frames stop before the socket closes, so none is being acked as it goes.
        with contextlib.suppress(socketio.exceptions.SocketIOError):
            self.sio.call("video:unwatch", {"room_id": self.room_id}, timeout=10)
        close_socket(self.sio)


def member_on(server: LiveServer, room_id: int) -> Api:
    """A new user, through this process, in the room."""
    api, _ = Api.register(server.url, f"viewer-{tag()}")
    api.call("POST", f"/rooms/{room_id}/join", 201)
    return api


def live_of(api: Api, room_id: int) -> dict[str, Any] | None:
    live: dict[str, Any] | None = api.call("GET", f"/rooms/{room_id}", 200)["live"]
    return live


def subscribers(server: LiveServer, room_id: int) -> int:
    """How many processes subscribe to the frames of the room's broadcast."""
    prefix = server.env["PARLEY_REDIS_PREFIX"] + ":video"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        raw = client.get(f"{prefix}:live:{room_id}")
        assert raw is not None, "the room is not live in Redis"
        channel = f"{prefix}:frames:{json.loads(raw)['broadcast_id']}"
        return int(dict(client.pubsub_numsub(channel))[channel.encode()])
    finally:
        client.close()


def read_until_closed(reader: MjpegReader, limit: int = 500) -> None:
    for _ in range(limit):
        if reader.read_part() is None:
            return
    pytest.fail("the stream did not end")


def test_a_broadcast_on_one_process_is_watched_through_another_at_full_rate(
    scene: Scene,
) -> None:
    a, b, owner, room_id, viewer = scene.a, scene.b, scene.owner, scene.room_id, scene.viewer
    window = 3.0
    with broadcasting(a, owner, room_id) as broadcaster:
        reader = MjpegReader(b, room_id, token_of(viewer))
        watcher = Watcher(b, viewer, room_id)
        try:
            # The room's shape on either process shows it live, with both viewers on B.
            for api in (viewer, Api(a.url, token_of(owner))):
                wait_for(lambda api=api: (live_of(api, room_id) or {}).get("viewers") == 2)
            live = live_of(viewer, room_id)
            assert live is not None and live["broadcaster"]["id"] == owner_id(owner)
            # One subscriber for B's two viewers; A, which publishes, subscribes to nothing.
            assert subscribers(b, room_id) == 1
            reader.read_part()
            first = broadcaster.seq
            end = time.monotonic() + window
            while time.monotonic() < end:
                part = reader.read_part()
                assert part is not None
                assert part.body in frames()
            last = broadcaster.seq
            broadcaster.assert_healthy()
        finally:
            reader.close()
        sent = last - first
        assert sent >= window * 15 * 0.7, f"the broadcaster sent only {sent} frames"
        by_mjpeg = {seq for seq in seqs(reader.parts) if first < seq <= last}
        by_socket = {seq for seq, _ in watcher.frames if first < seq <= last}
        assert len(by_mjpeg) >= sent * (1 - LOSS_MARGIN), (len(by_mjpeg), sent)
        assert len(by_socket) >= sent * (1 - LOSS_MARGIN), (len(by_socket), sent)
        assert_increasing(seqs(reader.parts))
        assert_increasing([seq for seq, _ in watcher.frames])
        assert all(frame in frames() for _, frame in watcher.frames)

        # B's viewers leave (noticed at the next frame written), and B stops listening:
        # the publish is all a broadcast costs where no one watches it.
        watcher.close()
        wait_for(lambda: subscribers(b, room_id) == 0, message="B to unsubscribe")

        # The broadcaster pauses: B's snapshot is the last frame A took, at once.
        broadcaster.stop()
        sent_last = frames()[(len(broadcaster.acks) - 1) % len(frames())]
        snapshot = viewer.http.get(f"{b.url}/rooms/{room_id}/live.jpg", timeout=10)
        assert snapshot.status_code == 200, snapshot.text
        assert snapshot.headers["Content-Type"] == "image/jpeg"
        assert int(snapshot.headers["X-Frame-Seq"]) == broadcaster.seq
        assert snapshot.content == sent_last


def owner_id(api: Api) -> int:
    return int(api.call("GET", "/users/me", 200)["id"])


def test_stopping_on_the_origin_ends_the_streams_on_the_other_process(
    scene: Scene,
) -> None:
    a, b, owner, room_id, viewer = scene.a, scene.b, scene.owner, scene.room_id, scene.viewer
    with broadcasting(a, owner, room_id):
        reader = MjpegReader(b, room_id, token_of(viewer))
        watcher = Watcher(b, viewer, room_id)
        try:
            assert reader.read_part() is not None
            wait_for(lambda: watcher.frames, message="a frame on B's socket")
            owner.call("DELETE", f"/rooms/{room_id}/live", 204)
            read_until_closed(reader)
            wait_for(lambda: watcher.stops, message="video:stop on B")
            assert watcher.stops == [{"room_id": room_id, "reason": "stopped"}]
            answer = viewer.call("GET", f"/rooms/{room_id}/live", 404)
            assert answer["error"]["code"] == "not_live"
            assert live_of(viewer, room_id) is None
        finally:
            reader.close()
            watcher.close()


def test_a_moderator_stops_through_another_process_a_broadcast_live_on_the_first(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    owner, room = open_room(a)
    room_id = room["id"]
    through_b = Api(b.url, token_of(owner))  # the owner moderates the room
    broadcaster_api, _ = Api.register(a.url, f"caster-{tag()}")
    broadcaster_api.call("POST", f"/rooms/{room_id}/join", 201)
    go_live(broadcaster_api, room_id)
    broadcaster = Broadcaster(a, broadcaster_api, room_id, frames())
    try:
        wait_for(lambda: broadcaster.seq >= 1, message="the first frame")
        reader = MjpegReader(b, room_id, token_of(owner))
        try:
            assert reader.read_part() is not None
            through_b.call("DELETE", f"/rooms/{room_id}/live", 204)
            read_until_closed(reader)
        finally:
            reader.close()
        # The origin finds its broadcast ended within a renewal: the next frames are refused.
        wait_for(lambda: broadcaster.refused, timeout=TTL + 3, message="a refused frame on A")
        assert broadcaster.refused[0]["error"]["code"] == "not_live", broadcaster.refused
        assert live_of(broadcaster_api, room_id) is None
        # A new broadcast may start in the room at once, on either process.
        go_live(Api(b.url, token_of(broadcaster_api)), room_id)
        broadcaster_api.call("DELETE", f"/rooms/{room_id}/live", 204)
    finally:
        broadcaster.stop()


def test_parley_stream_on_one_process_plays_through_another_at_its_rate(
    scene: Scene,
) -> None:
    """The real broadcaster, `parley stream`, on A; an MJPEG viewer on B from its first
    frames until the command stops by itself, which ends B's stream."""
    a, b, owner, room, room_id = scene.a, scene.b, scene.owner, scene.room, scene.room_id
    viewer = scene.viewer
    process = start_stream(
        "--server", a.url, "--token", token_of(owner), "--room", room["name"],
        "--source", "test", "--fps", "15", "--duration", "4",
    )  # fmt: skip
    try:
        wait_for(lambda: live_of(viewer, room_id) is not None, timeout=30, message="live on B")
        reader = MjpegReader(b, room_id, token_of(viewer))
        try:
            read_until_closed(reader)
        finally:
            reader.close()
    finally:
        out, _ = finish(process)
    sent = int(out.split("Stopped: ")[1].split(" frames")[0])
    numbers = seqs(reader.parts)
    assert_increasing(numbers)
    watched = numbers[-1] - numbers[0] + 1
    # B watched most of the broadcast, up to its last frames, and missed few of them.
    assert watched >= 2 * 15 * 0.7, (watched, sent)
    assert numbers[-1] >= sent - 3, (numbers[-1], sent)
    assert len(numbers) >= watched * (1 - LOSS_MARGIN), (len(numbers), watched)


def kill_with_its_workers(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to gunicorn's worker (the process serving) and its master: no clean
    shutdown anywhere."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    process.kill()
    process.wait()


# Last in the module: it kills the pair's first process.
def test_killing_the_origin_ends_its_broadcast_everywhere_within_the_ttl(
    scene: Scene,
) -> None:
    a, b, owner, room_id, viewer = scene.a, scene.b, scene.owner, scene.room_id, scene.viewer
    go_live(owner, room_id)
    broadcaster = Broadcaster(a, owner, room_id, frames())
    reader = MjpegReader(b, room_id, token_of(viewer))
    watcher = Watcher(b, viewer, room_id)
    try:
        assert reader.read_part() is not None
        kill_with_its_workers(a.process)
        killed = time.monotonic()
        read_until_closed(reader)
        ended_after = time.monotonic() - killed
        # The TTL, a look at the record each second, and room for a busy machine.
        assert ended_after < TTL + 4, ended_after
        wait_for(lambda: watcher.stops, message="video:stop on B")
        assert watcher.stops == [{"room_id": room_id, "reason": "lost"}]
        assert live_of(viewer, room_id) is None
        snapshot = viewer.http.get(f"{b.url}/rooms/{room_id}/live.jpg", timeout=10)
        assert snapshot.status_code == 404, snapshot.text
        # Nothing holds the room: it can go live again, through B.
        go_live(Api(b.url, token_of(owner)), room_id)
    finally:
        reader.close()
        watcher.close()
        # Its thread may wait out an ack from the dead process: it is a daemon.
        broadcaster._stop.set()
        with contextlib.suppress(Exception):
            close_socket(broadcaster.sio)
