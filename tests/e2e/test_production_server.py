"""The production command from the README, `parley serve`: gunicorn's gevent worker
serving REST and Socket.IO (WebSocket and long-polling) from one process."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio
from api_client import Api
from chat_client import ChatClient
from servers import start_gunicorn

from support import jpeg


@pytest.fixture
def gunicorn_server(gunicorn_process: tuple[str, subprocess.Popen[bytes]]) -> str:
    return gunicorn_process[0]


@pytest.fixture
def gunicorn_process(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    for server in start_gunicorn(tmp_path):
        yield server.url, server.process


@pytest.mark.slow
def test_gunicorn_gevent_serves_rest_and_both_socket_transports(gunicorn_server: str) -> None:
    url = gunicorn_server
    alice, _ = Api.register(url, "alice")
    bob, _ = Api.register(url, "bob")
    room = alice.call("POST", "/rooms", 201, json={"name": "prod"})
    bob.call("POST", f"/rooms/{room['id']}/join", 201)
    clients = [
        ChatClient(url, api.http.headers["Authorization"][7:], transports)
        for api, transports in ((alice, ["websocket"]), (bob, ["polling"]))
    ]
    try:
        for client in clients:
            client.connect([room["id"]])
            assert client.synced.wait(10)
        ack = clients[0].sio.call("message:send", {"room_id": room["id"], "body": "over ws"})
        assert ack["ok"]
        alice.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": "over REST"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(clients[1].snapshot(room["id"])) < 2:
            time.sleep(0.05)
        assert [body for body, _ in clients[1].snapshot(room["id"]).values()] == [
            "over ws",
            "over REST",
        ]
    finally:
        for client in clients:
            client.close()
        alice.close()
        bob.close()


@pytest.mark.slow
def test_gevent_streams_live_video_and_a_shutdown_ends_the_streams_cleanly(
    gunicorn_process: tuple[str, subprocess.Popen[bytes]],
) -> None:
    """Frames over Socket.IO reach MJPEG viewers under gevent; SIGTERM ends each stream
    with its final boundary at once instead of after gunicorn's graceful timeout."""
    url, process = gunicorn_process
    alice, _ = Api.register(url, "alice")
    room = alice.call("POST", "/rooms", 201, json={"name": "studio"})
    token = alice.http.headers["Authorization"][7:]
    broadcaster = socketio.Client()
    broadcaster.connect(url, auth={"token": token}, transports=["websocket"])
    try:
        assert broadcaster.call(
            "video:start", {"room_id": room["id"], "width": 64, "height": 48, "fps": 15}
        )["ok"]
        frame = jpeg(64, 48)
        assert broadcaster.call("video:frame", ({"room_id": room["id"]}, frame))["ok"]
        viewers = [
            requests.get(
                f"{url}/rooms/{room['id']}/live.mjpg",
                headers={"Authorization": f"Bearer {token}"},
                stream=True,
                timeout=10,
            )
            for _ in range(2)
        ]
        for _ in range(5):
            assert broadcaster.call("video:frame", ({"room_id": room["id"]}, frame))["ok"]
            time.sleep(0.05)
        for viewer in viewers:
            assert viewer.status_code == 200
            assert viewer.raw.read(200).startswith(b"--parleyframe\r\nContent-Type: image/jpeg")
        broadcaster.disconnect()
        started = time.monotonic()
        process.terminate()
        for viewer in viewers:
            rest = viewer.raw.read()  # to the end of the response
            assert rest.endswith(b"--parleyframe--\r\n")
            viewer.close()
        process.wait(timeout=15)
        assert time.monotonic() - started < 10  # gunicorn's graceful timeout is 30 s
    finally:
        broadcaster.disconnect()
