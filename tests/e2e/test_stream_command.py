"""`parley stream` against a real server: the room goes live, frames arrive, it ends."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from api_client import Api
from chaos import ChaosProxy
from PIL import Image
from servers import BIN, LiveServer, start_server

pytestmark = pytest.mark.slow

PARLEY = str(BIN / "parley")


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the tests that each bring their own user and room (a server's
    start is seconds of a loaded machine's CPU); rate limits off, as they register many
    people from one address."""
    yield from start_server(tmp_path_factory.mktemp("stream"), None, {"PARLEY_RATE_LIMITS": "off"})


def start_stream(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PARLEY, "stream", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_stream(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARLEY, "stream", *args], capture_output=True, text=True, env=env, timeout=60
    )


def live_jpg(server: LiveServer, api: Api, room_id: int) -> requests.Response:
    return api.http.get(f"{server.url}/rooms/{room_id}/live.jpg", timeout=10)


def wait_for_frame(
    server: LiveServer, api: Api, room_id: int, process: subprocess.Popen[str]
) -> Image.Image:
    """The room's latest frame, decoded, as soon as there is one."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = live_jpg(server, api, room_id)
        if response.status_code == 200:
            assert response.headers["Content-Type"] == "image/jpeg"
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "JPEG"
            image.load()
            return image
        assert response.status_code == 404, response.text
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"parley stream exited with {process.returncode}:\n{out}\n{err}")
        time.sleep(0.1)
    pytest.fail("no frame reached live.jpg in 20 s")


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"parley stream did not end:\n{out}\n{err}")
    assert process.returncode == 0, (out, err)
    return out, err


def assert_not_live_soon(server: LiveServer, api: Api, room_id: int) -> None:
    deadline = time.monotonic() + 5
    while live_jpg(server, api, room_id).status_code != 404:
        assert time.monotonic() < deadline, "the room stayed live after the stream ended"
        time.sleep(0.1)


def owner_with_room(server: LiveServer, username: str, room: str) -> tuple[Api, str, int]:
    api, body = Api.register(server.url, username)
    created = api.call("POST", "/rooms", 201, json={"name": room})
    return api, body["token"], created["id"]


def test_stream_of_the_test_pattern_goes_live_and_ends(stream_server: LiveServer) -> None:
    api, token, room_id = owner_with_room(stream_server, "broadcaster", "Studio")
    process = start_stream(
        "--server", stream_server.url, "--token", token, "--room", "studio",
        "--source", "test", "--fps", "10", "--duration", "4",
    )  # fmt: skip
    frame = wait_for_frame(stream_server, api, room_id, process)
    assert frame.size == (640, 480)

    out, _ = finish(process)
    assert f"Live in Studio (room {room_id}): 640x480 at up to 10 fps" in out
    assert "Stopped:" in out
    sent = int(out.split("Stopped: ")[1].split(" frames")[0])
    # Paced by the clock: about 10 a second for 4 s, never a burst above that.
    assert 25 <= sent <= 41, out
    assert_not_live_soon(stream_server, api, room_id)


def test_stream_of_a_folder_shows_its_pictures(stream_server: LiveServer, tmp_path: Path) -> None:
    api, token, room_id = owner_with_room(stream_server, "slideshow", "Slides")
    folder = tmp_path / "slides"
    folder.mkdir()
    for name, colour in (("1.jpg", (255, 0, 0)), ("2.jpg", (0, 0, 255))):
        Image.new("RGB", (320, 240), colour).save(folder / name, "JPEG")
    process = start_stream(
        "--server", stream_server.url, "--token", token, "--room", "Slides",
        "--source", str(folder), "--fps", "5", "--duration", "3",
    )  # fmt: skip
    frame = wait_for_frame(stream_server, api, room_id, process)
    assert frame.size == (320, 240)
    red, green, blue = frame.convert("RGB").getpixel((160, 120))  # type: ignore[misc]
    assert green < 30 and abs(red - blue) > 200, (red, green, blue)

    out, _ = finish(process)
    assert "320x240" in out
    assert_not_live_soon(stream_server, api, room_id)


def test_stream_without_server_or_token_uses_the_local_install_as_its_first_admin(
    live_server: LiveServer,
) -> None:
    api, _, room_id = owner_with_room(live_server, "host", "Lobby")
    admin = subprocess.run(
        [PARLEY, "create-admin", "--username", "root", "--password", "stream admin passphrase"],
        env=live_server.env,
        capture_output=True,
        text=True,
    )
    assert admin.returncode == 0, admin.stderr
    # No --server, no --token: the server and database come from the environment.
    process = start_stream("--room", "LOBBY", "--source", "test", "--fps", "5", env=live_server.env)
    wait_for_frame(live_server, api, room_id, process)
    process.terminate()  # like Ctrl+C: the broadcast stops and the token is revoked
    out, _ = finish(process)
    assert "Streaming as root with a temporary token." in out
    assert "Joined the public room Lobby" in out
    assert_not_live_soon(live_server, api, room_id)

    root = Api(live_server.url)
    login = root.call(
        "POST", "/auth/login", 200, json={"username": "root", "password": "stream admin passphrase"}
    )
    root.http.headers["Authorization"] = f"Bearer {login['token']}"
    names = [t["name"] for t in root.call("GET", "/auth/tokens", 200)["tokens"]]
    assert "parley stream (temporary)" not in names


def test_a_dropped_connection_goes_live_again_at_once(stream_server: LiveServer) -> None:
    api, token, room_id = owner_with_room(stream_server, "wobbly", "Wifi")
    proxy = ChaosProxy(int(stream_server.url.rsplit(":", 1)[1]))
    try:
        process = start_stream(
            "--server", proxy.url, "--token", token, "--room", "Wifi",
            "--source", "test", "--fps", "10", "--duration", "8",
        )  # fmt: skip
        wait_for_frame(stream_server, api, room_id, process)
        proxy.cut()
        out, _ = finish(process)
    finally:
        proxy.close()
    # The broadcast the dead connection left is taken over at once: waiting until the
    # server calls it idle (10 s) would outlast the 8 s stream and fail it.
    assert "Connection lost" in out and "Live again." in out, out
    sent = int(out.split("Stopped: ")[1].split(" frames")[0])
    assert sent >= 30, out
    assert_not_live_soon(stream_server, api, room_id)


def test_a_token_revoked_mid_stream_ends_it_with_a_clear_message(stream_server: LiveServer) -> None:
    api, _, room_id = owner_with_room(stream_server, "revoked", "Hall")
    made = api.call("POST", "/auth/tokens", 201, json={"name": "camera"})
    process = start_stream(
        "--server", stream_server.url, "--token", made["token"], "--room", "Hall",
        "--source", "test", "--fps", "10", "--duration", "20",
    )  # fmt: skip
    wait_for_frame(stream_server, api, room_id, process)
    api.call("DELETE", f"/auth/tokens/{made['id']}", 204)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1, (out, err)
    # The socket is dropped, and a new one refused; or a frame in flight is refused first.
    assert "the token is not valid (revoked, or its account deactivated)" in err
    assert "Traceback" not in err


def test_a_second_broadcaster_is_told_the_room_is_already_live(stream_server: LiveServer) -> None:
    api, token, room_id = owner_with_room(stream_server, "first", "Stage")
    _, second = Api.register(stream_server.url, "second")
    process = start_stream(
        "--server", stream_server.url, "--token", token, "--room", "Stage",
        "--source", "test", "--fps", "5", "--duration", "30",
    )  # fmt: skip
    try:
        wait_for_frame(stream_server, api, room_id, process)
        refused = run_stream(
            "--server", stream_server.url, "--token", second["token"], "--room", "stage",
            "--source", "test", "--duration", "2",
        )  # fmt: skip
        assert refused.returncode == 1, refused
        assert "Stage is already live: first is broadcasting there" in refused.stderr
    finally:
        process.terminate()
        finish(process)


def test_a_wrong_token_fails_with_a_clear_message(stream_server: LiveServer) -> None:
    result = run_stream(
        "--server", stream_server.url, "--token", "prly_not-a-real-token",
        "--room", "anything", "--source", "test", "--duration", "2",
    )  # fmt: skip
    assert result.returncode == 1
    assert "refused the token (401)" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_room_fails_with_a_clear_message(stream_server: LiveServer) -> None:
    _, token, _ = owner_with_room(stream_server, "lonely", "Kitchen")
    result = run_stream(
        "--server", stream_server.url, "--token", token,
        "--room", "Garden", "--source", "test", "--duration", "2",
    )  # fmt: skip
    assert result.returncode == 1
    assert "No room named 'Garden' among your rooms or public rooms." in result.stderr
    assert "Your rooms: Kitchen." in result.stderr


def test_a_bad_source_fails_before_connecting_with_exit_code_2() -> None:
    result = run_stream(
        "--server", "http://127.0.0.1:9", "--token", "unused", "--room", "any", "--source", "tset"
    )
    assert result.returncode == 2
    assert "No source 'tset': use test (a generated test pattern)" in result.stderr
