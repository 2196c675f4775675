"""Live video ends with the right to watch it, against real servers.

A viewer watches a private room's broadcast over MJPEG and over Socket.IO at once; then
the right goes (removed, banned, left, deactivated, token revoked, password changed).
No frame made after the change may reach either view (one already on its way may), and
both end. With two server processes over one database, the one serving the views never
hears of a change made through the other, and still ends them within seconds.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio
from api_client import Api
from servers import BIN, SHARED_SERVER_ENV, LiveServer, start_server
from test_video_stream import (
    Broadcaster,
    MjpegReader,
    broadcasting,
    close_socket,
    connect_socket,
    tag,
    token_of,
    wait_for,
)

ENV = {**SHARED_SERVER_ENV, "PARLEY_VIDEO_IDLE_SECONDS": "60"}
ADMIN_PASSWORD = "violet-harbour-tangent-58"
# Frames made after the change that may still arrive: the one being sent at that moment.
IN_FLIGHT = 1
# How long a process that never heard of the change may take to end the views.
UNHEARD_SECONDS = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from start_server(tmp_path_factory.mktemp("access"), database_url=None, extra_env=ENV)


def make_admin(server: LiveServer) -> Api:
    username = f"root{tag()}"
    made = subprocess.run(
        [BIN / "parley", "create-admin", "--username", username, "--password", ADMIN_PASSWORD],
        env=server.env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    body = Api(server.url).call(
        "POST", "/auth/login", 200, json={"username": username, "password": ADMIN_PASSWORD}
    )
    return Api(server.url, body["token"])


@dataclass
class Viewer:
    """A member of the room with two logins: `api` makes changes, `watching` watches."""

    api: Api
    user_id: int
    username: str
    watching: Api


def invited_viewer(server: LiveServer, owner: Api, room_id: int) -> Viewer:
    username = f"viewer-{tag()}"
    api, body = Api.register(server.url, username)
    login = Api(server.url).call(
        "POST", "/auth/login", 200, json={"username": username, "password": "e2e-password-1"}
    )
    user_id = body["user"]["id"]
    owner.call("POST", f"/rooms/{room_id}/members", 201, json={"user_id": user_id})
    return Viewer(api, user_id, username, Api(server.url, login["token"]))


@dataclass
class SocketWatch:
    sio: socketio.Client
    seqs: list[int] = field(default_factory=list)
    stops: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def watch_over_socket(server: LiveServer, api: Api, room_id: int) -> SocketWatch:
    watch = SocketWatch(connect_socket(server, api))

    def on_frame(meta: dict[str, Any], _data: bytes) -> bool:
        with watch.lock:
            watch.seqs.append(int(meta["seq"]))
        return True

    watch.sio.on("video:frame", on_frame)
    watch.sio.on("video:stop", watch.stops.append)
    ack = watch.sio.call("video:watch", {"room_id": room_id}, timeout=10)
    assert ack["ok"], ack
    return watch


def read_until_end(reader: MjpegReader, within: float) -> list[int]:
    """The seqs of the parts read until the stream ends; fails if it is still going after
    `within` seconds."""
    deadline = time.monotonic() + within
    seqs: list[int] = []
    while True:
        try:
            part = reader.read_part()
        except (OSError, AssertionError):
            return seqs  # the connection closed at a part boundary or mid-read
        if part is None:
            return seqs
        seqs.append(part.seq)
        assert time.monotonic() < deadline, f"the stream still sends frames: {seqs}"


def lose_right(path: str, server: LiveServer, owner: Api, viewer: Viewer, room_id: int) -> None:
    if path == "removed":
        owner.call("DELETE", f"/rooms/{room_id}/members/{viewer.user_id}", 204)
    elif path == "banned":
        owner.call("POST", f"/rooms/{room_id}/members/{viewer.user_id}/ban", 200)
    elif path == "left":
        viewer.api.call("POST", f"/rooms/{room_id}/leave", 204)
    elif path == "deactivated":
        make_admin(server).call("PATCH", f"/users/{viewer.user_id}", 200, json={"active": False})
    elif path == "token_revoked":
        viewer.watching.call("POST", "/auth/logout", 204)
    elif path == "password_changed":
        body = {"password": "a-whole-new-passphrase-71", "old_password": "e2e-password-1"}
        viewer.api.call("PATCH", "/users/me", 200, json=body)
    else:
        raise AssertionError(path)


def assert_views_end(
    reader: MjpegReader,
    watch: SocketWatch,
    broadcaster: Broadcaster,
    change: Callable[[], None],
    within: float | None = None,
) -> None:
    """Both views got frames before the change, and the broadcast goes on after it. With
    `within` None, no frame made after the change reaches either view (but one in
    flight); else both views end within that many seconds of it."""
    assert reader.read_part() is not None
    wait_for(lambda: len(watch.seqs) >= 2, message="frames over the socket")
    change()
    at_change = broadcaster.seq
    streamed = read_until_end(reader, within or 1.0)
    if within is not None:
        time.sleep(max(0.0, within - 1.0))
        with watch.lock:
            settled = list(watch.seqs)
        wait_for(lambda: broadcaster.seq > at_change + 10, message="frames after the change")
        time.sleep(1.0)
        assert watch.seqs == settled, "frames still come over the socket"
    else:
        wait_for(lambda: broadcaster.seq > at_change + 10, message="frames after the change")
        with watch.lock:
            late = [seq for seq in watch.seqs if seq > at_change + IN_FLIGHT]
        assert not late, (at_change, watch.seqs)
        assert not [seq for seq in streamed if seq > at_change + IN_FLIGHT], (at_change, streamed)
    broadcaster.assert_healthy()


PATHS = ["removed", "banned", "left", "deactivated", "token_revoked", "password_changed"]


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS)
def test_losing_the_right_ends_the_mjpeg_stream_and_the_socket_watch_at_once(
    server: LiveServer, path: str
) -> None:
    owner, _ = Api.register(server.url, f"owner-{tag()}")
    room = owner.call("POST", "/rooms", 201, json={"name": f"studio-{tag()}", "kind": "private"})
    viewer = invited_viewer(server, owner, room["id"])
    with broadcasting(server, owner, room["id"]) as broadcaster:
        reader = MjpegReader(server, room["id"], token_of(viewer.watching))
        watch = watch_over_socket(server, viewer.watching, room["id"])
        try:
            assert_views_end(
                reader,
                watch,
                broadcaster,
                lambda: lose_right(path, server, owner, viewer, room["id"]),
            )
            # Watching again is refused.
            refused = viewer.watching.http.get(
                f"{server.url}/rooms/{room['id']}/live.mjpg", timeout=10
            )
            assert refused.status_code in (401, 403, 404), refused.status_code
        finally:
            reader.close()
            close_socket(watch.sio)
    if path not in ("token_revoked", "password_changed", "deactivated"):
        assert watch.stops == [{"room_id": room["id"], "reason": "not_allowed"}]


@pytest.mark.slow
def test_a_broadcaster_who_loses_the_right_stops_broadcasting(server: LiveServer) -> None:
    owner, _ = Api.register(server.url, f"owner-{tag()}")
    room = owner.call("POST", "/rooms", 201, json={"name": f"studio-{tag()}", "kind": "private"})
    caster = invited_viewer(server, owner, room["id"])
    with broadcasting(server, caster.watching, room["id"]) as broadcaster:
        reader = MjpegReader(server, room["id"], token_of(owner))
        try:
            assert reader.read_part() is not None
            owner.call("DELETE", f"/rooms/{room['id']}/members/{caster.user_id}", 204)
            read_until_end(reader, within=1.0)
            wait_for(lambda: broadcaster.refused, timeout=3, message="a refused frame")
            assert broadcaster.refused[0]["error"]["code"] == "not_found", broadcaster.refused
            broadcaster.refused.clear()
        finally:
            reader.close()
    owner.call("GET", f"/rooms/{room['id']}/live", 404)


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, ...]]:
    """Two server processes over one SQLite database: neither hears the other's events."""
    shared = tmp_path_factory.mktemp("shared")
    url = f"sqlite:///{Path(shared) / 'parley.db'}"
    first = start_server(tmp_path_factory.mktemp("first"), database_url=url, extra_env=ENV)
    second = start_server(tmp_path_factory.mktemp("second"), database_url=url, extra_env=ENV)
    try:
        yield next(first), next(second)
    finally:
        for started in (second, first):
            started.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["banned", "token_revoked", "deactivated"])
def test_a_process_that_never_heard_of_the_change_ends_the_views_within_seconds(
    two_servers: tuple[LiveServer, LiveServer], path: str
) -> None:
    changes, serves = two_servers
    owner, _ = Api.register(serves.url, f"owner-{tag()}")
    room = owner.call("POST", "/rooms", 201, json={"name": f"studio-{tag()}", "kind": "private"})
    viewer = invited_viewer(serves, owner, room["id"])
    elsewhere = Viewer(
        Api(changes.url, token_of(viewer.api)),
        viewer.user_id,
        viewer.username,
        Api(changes.url, token_of(viewer.watching)),
    )
    with broadcasting(serves, owner, room["id"]) as broadcaster:
        reader = MjpegReader(serves, room["id"], token_of(viewer.watching))
        watch = watch_over_socket(serves, viewer.watching, room["id"])
        try:
            assert_views_end(
                reader,
                watch,
                broadcaster,
                lambda: lose_right(
                    path, changes, Api(changes.url, token_of(owner)), elsewhere, room["id"]
                ),
                within=UNHEARD_SECONDS,
            )
        finally:
            reader.close()
            close_socket(watch.sio)
