"""Operations against real servers: JSON logs with request ids on every server Parley
runs on, and /metrics as Prometheus scrapes it."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from api_client import Api
from chat_client import ChatClient
from servers import BIN, LiveServer, start_gunicorn, start_server

JSON_LOGS = {"PARLEY_LOG_FORMAT": "json"}
NEW_ID = re.compile(r"[0-9a-f]{32}")
METRICS = (
    "parley_sockets_connected",
    "parley_events_published_total",
    "parley_socketio_packets_delivered_total",
    "parley_send_seconds_bucket",
    "parley_send_seconds_count",
    "parley_send_queue_depth",
    "parley_send_gather_seconds",
    "parley_db_pool_checked_out",
    "parley_db_pool_size",
    "parley_video_broadcasts",
    "parley_video_viewers",
)


def run_until_stopped(
    servers: Generator[LiveServer, None, None],
) -> tuple[LiveServer, Callable[[], None]]:
    """The server, and a function that stops it (SIGTERM) so its log is complete."""
    server = next(servers)
    return server, servers.close


def log_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, each parsed as JSON (a line that is not fails the test)."""
    lines = path.read_text().splitlines()
    assert lines, "the log is empty"
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"line {number} of the log is not JSON: {line!r}")
    return parsed


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gevent", "threading", "gunicorn"])
def test_json_logs_give_every_request_its_id_on_each_server(kind: str, tmp_path: Path) -> None:
    if kind == "gunicorn":
        servers = start_gunicorn(tmp_path, JSON_LOGS, log_name="server.log")
    else:
        servers = start_server(tmp_path, None, JSON_LOGS, async_mode=kind)
    server, stop = run_until_stopped(servers)
    try:
        sent = f"nginx-{secrets.token_hex(8)}"
        given = requests.get(f"{server.url}/healthz", headers={"X-Request-ID": sent}, timeout=10)
        assert given.headers["X-Request-ID"] == sent
        made = requests.get(f"{server.url}/api/v1/rooms", timeout=10)
        assert made.status_code == 401
        new_id = made.headers["X-Request-ID"]
        assert NEW_ID.fullmatch(new_id)
        forged = requests.get(
            f"{server.url}/healthz", headers={"X-Request-ID": 'x" "level": "ERROR'}, timeout=10
        )
        replaced = forged.headers["X-Request-ID"]
        assert NEW_ID.fullmatch(replaced)
        api, _ = Api.register(server.url, "logged")
        client = ChatClient(server.url, api.http.headers["Authorization"][7:], ["polling"])
        client.connect([])
        assert client.synced.wait(10)
        client.close()
        api.close()
    finally:
        stop()
    lines = log_lines(tmp_path / "server.log")
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
    access = [line for line in lines if line["logger"] == "parley.access"]
    by_id = {line.get("request_id"): line for line in access}
    assert by_id[sent]["path"] == "/healthz"
    assert by_id[sent]["status"] == 200
    assert by_id[sent]["method"] == "GET"
    assert by_id[sent]["duration_ms"] >= 0
    assert by_id[new_id]["path"] == "/api/v1/rooms"
    assert by_id[new_id]["status"] == 401
    assert by_id[replaced]["path"] == "/healthz"
    # Socket.IO's own requests are logged like any other, each with its id.
    polls = [line for line in access if line["path"].startswith("/socket.io")]
    assert polls and all(NEW_ID.fullmatch(line["request_id"]) for line in polls)
    assert all(line.get("request_id") for line in access)


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`parley run` behind a (pretend) proxy it trusts, so X-Forwarded-For names the client."""
    tmp_path = tmp_path_factory.mktemp("metrics")
    yield from start_server(tmp_path, None, {"PARLEY_TRUSTED_PROXIES": "1"})


def scrape(url: str, **kwargs: Any) -> dict[str, float]:
    response = requests.get(f"{url}/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    values = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def wait_for(url: str, name: str, predicate: Any, seconds: float = 10) -> dict[str, float]:
    deadline = time.monotonic() + seconds
    while True:
        values = scrape(url)
        if predicate(values.get(name)) or time.monotonic() > deadline:
            return values
        time.sleep(0.1)


@pytest.mark.slow
def test_metrics_name_each_measure_and_follow_sockets_and_sends(
    metrics_server: LiveServer,
) -> None:
    url = metrics_server.url
    before = scrape(url)
    names = {re.sub(r"\{.*\}", "", key) for key in before}
    assert sorted(set(METRICS) - names - {"parley_events_published_total"}) == []
    api, _ = Api.register(url, "counted")
    room = api.call("POST", "/rooms", 201, json={"name": "metered"})
    client = ChatClient(url, api.http.headers["Authorization"][7:], ["websocket"])
    try:
        client.connect([room["id"]])
        assert client.synced.wait(10)
        connected = before["parley_sockets_connected"] + 1
        during = wait_for(url, "parley_sockets_connected", lambda v: v == connected)
        assert during["parley_sockets_connected"] == connected
        ack = client.sio.call("message:send", {"room_id": room["id"], "body": "measured"})
        assert ack["ok"]
        after = scrape(url)
        assert after["parley_send_seconds_count"] == before["parley_send_seconds_count"] + 1
        assert after["parley_send_seconds_sum"] > before["parley_send_seconds_sum"]
        published = 'parley_events_published_total{type="message:new"}'
        assert after[published] >= before.get(published, 0) + 1
        delivered = "parley_socketio_packets_delivered_total"
        assert after[delivered] > before[delivered]
    finally:
        client.close()
        api.close()
    gone = wait_for(url, "parley_sockets_connected", lambda v: v == connected - 1)
    assert gone["parley_sockets_connected"] == connected - 1


def make_admin(server: LiveServer, username: str) -> str:
    """An administrator made with `parley create-admin`, logged in: their token."""
    password = "e2e-admin-password-1"
    subprocess.run(
        [BIN / "parley", "create-admin", "--username", username, "--password", password],
        env=server.env,
        check=True,
        capture_output=True,
    )
    body = Api(server.url).call(
        "POST", "/auth/login", 200, json={"username": username, "password": password}
    )
    return str(body["token"])


@pytest.mark.slow
def test_metrics_through_a_proxy_need_an_administrators_token(
    metrics_server: LiveServer,
) -> None:
    url = metrics_server.url
    remote = {"X-Forwarded-For": "203.0.113.7"}
    refused = requests.get(f"{url}/metrics", headers=remote, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "metrics_forbidden"
    member, _ = Api.register(url, "nosy")
    token = member.http.headers["Authorization"]
    member.close()
    as_member = requests.get(
        f"{url}/metrics", headers={**remote, "Authorization": token}, timeout=10
    )
    assert as_member.status_code == 403
    assert as_member.json()["error"]["code"] == "missing_permission"
    admin = make_admin(metrics_server, "operator")
    values = scrape(url, headers={**remote, "Authorization": f"Bearer {admin}"})
    assert "parley_sockets_connected" in values
