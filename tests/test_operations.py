"""Operations in one process: /readyz and the message queue, request ids, the JSON log
format, and who may read /metrics."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from databases import unavailable
from parley import create_app
from parley.config import ConfigError, load_config
from parley.logs import RequestIdFilter
from parley.request_ids import request_id_for
from support import Member

REDIS_URL = "redis://127.0.0.1:6379/15"
NEW_ID_LENGTH = 32


def app_with(**overrides: Any) -> Flask:
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.fixture
def reachable_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        unavailable(f"No Redis answers at {REDIS_URL}; start one to test /readyz with it")
    return REDIS_URL


def test_readyz_says_the_message_queue_is_not_configured_in_one_process() -> None:
    response = app_with().test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "message_queue": "not configured",
    }


def test_readyz_is_503_naming_the_message_queue_when_redis_refuses(closed_port: int) -> None:
    app = app_with(PARLEY_MESSAGE_QUEUE=f"redis://127.0.0.1:{closed_port}/15")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["message_queue"] == "unreachable"
    assert body["reasons"] == {"message_queue": "ConnectionError"}


def test_readyz_gives_up_on_a_queue_that_never_answers_within_seconds(silent_port: int) -> None:
    app = app_with(PARLEY_MESSAGE_QUEUE=f"redis://127.0.0.1:{silent_port}/15")
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["message_queue"] == "unreachable"
    assert time.monotonic() - started < 5


def test_readyz_is_200_when_redis_answers(reachable_redis: str) -> None:
    client = app_with(PARLEY_MESSAGE_QUEUE=reachable_redis).test_client()
    for _ in range(2):  # the second probe reuses the first one's connection
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["message_queue"] == "ok"


def test_readyz_names_both_parts_when_both_are_down(tmp_path: Any, closed_port: int) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "parley.db"
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}",
            "PARLEY_MESSAGE_QUEUE": f"redis://127.0.0.1:{closed_port}/15",
        },
    )
    body = app.test_client().get("/readyz").get_json()
    assert (body["database"], body["message_queue"]) == ("unreachable", "unreachable")
    assert set(body["reasons"]) == {"database", "message_queue"}


@pytest.mark.parametrize("sent", ["0123456789abcdef0123456789abcdef", "3f2c-aa.b_c:d", "x" * 128])
def test_a_safe_request_id_from_the_proxy_is_kept(sent: str) -> None:
    response = app_with().test_client().get("/healthz", headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", ["", "x" * 129, "two words", 'a"b', "line\\nbreak", "é"])
def test_an_unsafe_request_id_is_replaced_by_a_new_one(sent: str) -> None:
    made = request_id_for(sent)
    assert made != sent
    assert len(made) == NEW_ID_LENGTH


def test_every_answer_carries_a_new_request_id_when_none_was_sent() -> None:
    client = app_with(PARLEY_ALLOWED_HOSTS="chat.example.org").test_client()
    ids = set()
    for path, status in (("/healthz", 200), ("/api/v1/rooms", 400), ("/nowhere", 400)):
        response = client.get(path)
        assert response.status_code == status
        ids.add(response.headers["X-Request-ID"])
    assert len(ids) == 3


def test_log_format_must_be_text_or_json() -> None:
    with pytest.raises(ConfigError, match="PARLEY_LOG_FORMAT"):
        load_config("testing", "/tmp", {"PARLEY_LOG_FORMAT": "xml"})


@pytest.fixture
def json_log(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines written to stderr; the root handler JSON mode adds is removed after."""
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    yield lines
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_json_lines_written_for_a_request_carry_its_id(
    json_log: Callable[[], list[dict[str, Any]]], closed_port: int
) -> None:
    app = app_with(
        PARLEY_LOG_FORMAT="json", PARLEY_MESSAGE_QUEUE=f"redis://127.0.0.1:{closed_port}/15"
    )
    json_log()  # what building the app wrote
    response = app.test_client().get("/readyz", headers={"X-Request-ID": "probe-7"})
    assert response.status_code == 503
    response.close()  # the access line is written once the body is sent
    lines = json_log()
    warning = next(line for line in lines if line["logger"] == "parley.health")
    assert warning["level"] == "WARNING"
    assert warning["message"] == "not ready: the message queue is unreachable (ConnectionError)"
    access = next(line for line in lines if line["logger"] == "parley.access")
    assert access["method"] == "GET"
    assert access["path"] == "/readyz"
    assert access["status"] == 503
    assert {line["request_id"] for line in lines} == {"probe-7"}
    outside = logging.LogRecord("parley", logging.INFO, __file__, 1, "idle", None, None)
    RequestIdFilter().filter(outside)
    assert not hasattr(outside, "request_id")


def test_json_lines_carry_the_traceback_of_an_error(
    json_log: Callable[[], list[dict[str, Any]]],
) -> None:
    app_with(PARLEY_LOG_FORMAT="json")
    json_log()
    try:
        raise RuntimeError("the disk is on fire")
    except RuntimeError:
        logging.getLogger("parley.test").exception("it failed")
    (line,) = json_log()
    assert line["message"] == "it failed"
    assert "RuntimeError: the disk is on fire" in line["exception"]


def test_metrics_answer_loopback_in_the_prometheus_format(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    for name in ("parley_sockets_connected", "parley_send_seconds", "parley_send_queue_depth"):
        assert f"# TYPE {name} " in text


REMOTE_HINTS = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"X-Forwarded-For": "127.0.0.1, 203.0.113.7"},
    {"X-Real-IP": "2001:db8::1"},
    {"Forwarded": "for=203.0.113.7;proto=https"},
    {"Forwarded": 'for="[2001:db8::1]:4711"'},
    {"Forwarded": "proto=https"},
]


@pytest.mark.parametrize("headers", REMOTE_HINTS)
def test_metrics_are_refused_when_a_proxy_says_the_client_is_remote(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "metrics_forbidden"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "127.0.0.1"},
        {"X-Forwarded-For": "::1, 127.0.0.5"},
        {"Forwarded": 'for="[::1]:5000", for=127.0.0.1'},
    ],
)
def test_metrics_answer_a_local_proxy_forwarding_for_this_machine(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    assert client.get("/metrics", headers=headers).status_code == 200


def test_metrics_from_another_machine_need_an_administrator(
    client: FlaskClient, make_user: Callable[..., Member]
) -> None:
    remote = {"REMOTE_ADDR": "198.51.100.4"}
    refused = client.get("/metrics", environ_base=remote)
    assert refused.status_code == 403
    member = make_user("member")
    as_member = client.get("/metrics", environ_base=remote, headers=member.headers)
    assert as_member.status_code == 403
    assert as_member.get_json()["error"]["code"] == "missing_permission"
    admin = make_user("root", role="Administrator")
    as_admin = client.get("/metrics", environ_base=remote, headers=admin.headers)
    assert as_admin.status_code == 200
    bad = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


GEVENT_JSON_SCRIPT = r"""
from gevent import monkey

monkey.patch_all()

import gevent

from parley import create_app

create_app(
    "testing",
    {"SQLALCHEMY_DATABASE_URI": "sqlite://", "PARLEY_LOG_FORMAT": "json",
     "PARLEY_ASYNC_MODE": "gevent"},
)


def doomed():
    raise LookupError("nothing left to find")


gevent.spawn(doomed).join()
"""


def test_a_greenlet_that_dies_is_logged_as_one_json_line() -> None:
    run = subprocess.run(
        [sys.executable, "-c", GEVENT_JSON_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    (died,) = [line for line in lines if line["logger"] == "gevent.hub"]
    assert died["level"] == "ERROR"
    assert died["message"].endswith("failed with LookupError")
    assert "LookupError: nothing left to find" in died["exception"]


def scraped(client: FlaskClient) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


@pytest.mark.usefixtures("broadcasts")
def test_metrics_count_live_broadcasts_and_their_viewers(
    client: FlaskClient, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    assert scraped(client)["parley_video_broadcasts"] == 0
    live = {"width": 640, "height": 480, "fps": 15}
    assert alice.post(f"/api/v1/rooms/{room['id']}/live", json=live).status_code == 201
    assert scraped(client)["parley_video_broadcasts"] == 1
    assert scraped(client)["parley_video_viewers"] == 0
    stream = bob.get(f"/rooms/{room['id']}/live.mjpg", buffered=False)
    assert stream.status_code == 200
    assert scraped(client)["parley_video_viewers"] == 1
    stream.close()
    assert scraped(client)["parley_video_viewers"] == 0
    assert alice.delete(f"/api/v1/rooms/{room['id']}/live").status_code == 204
    assert scraped(client)["parley_video_broadcasts"] == 0
