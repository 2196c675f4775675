"""A flood against a real server with a queue of one: every send over Socket.IO and REST
is answered, stored and acknowledged or refused as overloaded and stored by none; a
resend of each with its client_id tells the client which."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from api_client import Api
from servers import LiveServer, start_gunicorn, start_server

SOCKETS = 4
SENDS_PER_SOCKET = 40
REST_SENDS = 40
ANSWER_SECONDS = 30

QUEUE_OF_ONE = {
    "PARLEY_SEND_QUEUE_LIMIT": "1",
    "PARLEY_RATE_LIMITS": "off",
    "PARLEY_PRESENCE_GRACE_SECONDS": "1",
}


@pytest.fixture(params=["gunicorn", "threading"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    if request.param == "gunicorn":
        yield from start_gunicorn(tmp_path, QUEUE_OF_ONE)
    else:
        yield from start_server(tmp_path, None, QUEUE_OF_ONE)


def flood_sockets(
    url: str, token: str, room_id: int
) -> tuple[dict[str, dict[str, Any]], list[socketio.Client]]:
    """Every socket sends all its messages at once, without waiting for an ack; returns
    each send's ack by client_id."""
    acks: dict[str, dict[str, Any]] = {}
    all_answered = threading.Event()
    total = SOCKETS * SENDS_PER_SOCKET
    lock = threading.Lock()
    clients = []
    for _ in range(SOCKETS):
        client = socketio.Client(reconnection=False)
        client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        clients.append(client)

    def answered(client_id: str) -> Any:
        def callback(ack: dict[str, Any]) -> None:
            with lock:
                acks[client_id] = ack
                if len(acks) == total:
                    all_answered.set()

        return callback

    for n, client in enumerate(clients):
        for i in range(SENDS_PER_SOCKET):
            client_id = f"sock-{n}-{i}"
            client.emit(
                "message:send",
                {"room_id": room_id, "body": client_id, "client_id": client_id},
                callback=answered(client_id),
            )
    all_answered.wait(ANSWER_SECONDS)
    return acks, clients


def flood_rest(url: str, token: str, room_id: int) -> dict[str, tuple[int, Any, str | None]]:
    def send(i: int) -> tuple[str, tuple[int, Any, str | None]]:
        client_id = f"rest-{i}"
        response = requests.post(
            f"{url}/api/v1/rooms/{room_id}/messages",
            json={"body": client_id, "client_id": client_id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=ANSWER_SECONDS,
        )
        return client_id, (
            response.status_code,
            response.json(),
            response.headers.get("Retry-After"),
        )

    with ThreadPoolExecutor(REST_SENDS) as pool:
        return dict(pool.map(send, range(REST_SENDS)))


@pytest.mark.slow
def test_a_flood_is_answered_send_by_send_and_resends_tell_which_were_stored(
    server: LiveServer,
) -> None:
    api, me = Api.register(server.url, "flooder")
    room = api.call("POST", "/rooms", 201, json={"name": "flooded"})
    rest_answers: dict[str, tuple[int, Any, str | None]] = {}
    rest = threading.Thread(
        target=lambda: rest_answers.update(flood_rest(server.url, me["token"], room["id"]))
    )
    rest.start()
    acks, clients = flood_sockets(server.url, me["token"], room["id"])
    rest.join(ANSWER_SECONDS)

    # Every send was answered: an ok ack or 201, or overloaded.
    assert len(acks) == SOCKETS * SENDS_PER_SOCKET
    assert len(rest_answers) == REST_SENDS
    stored_ids: dict[str, int] = {}
    refused: set[str] = set()
    for client_id, ack in acks.items():
        if ack["ok"]:
            stored_ids[client_id] = ack["message"]["id"]
        else:
            assert ack["error"]["code"] == "overloaded", ack
            assert ack["error"]["details"]["retry_after"] > 0
            refused.add(client_id)
    for client_id, (status, body, retry_after) in rest_answers.items():
        if status == 201:
            stored_ids[client_id] = body["id"]
        else:
            assert status == 503, body
            assert body["error"]["code"] == "overloaded"
            assert retry_after is not None and int(retry_after) >= 1
            refused.add(client_id)
    assert refused, "a queue of one took the whole flood"

    # Every acknowledged send is stored, and no refused one.
    history = {m["client_id"]: m["id"] for m in api.history(room["id"])}
    assert history == stored_ids

    # A resend of each with its client_id: the stored ones answer with their message
    # and create nothing; the refused ones are stored now.
    resender = clients[0]
    for client_id in sorted(acks):
        again = resender.call(
            "message:send",
            {"room_id": room["id"], "body": client_id, "client_id": client_id},
            timeout=ANSWER_SECONDS,
        )
        assert again["ok"], again
        assert again["created"] is (client_id in refused)
        if client_id in stored_ids:
            assert again["message"]["id"] == stored_ids[client_id]
    for client_id in sorted(rest_answers):
        body = api.call(
            "POST",
            f"/rooms/{room['id']}/messages",
            json={"body": client_id, "client_id": client_id},
        )
        assert body["client_id"] == client_id
        if client_id in stored_ids:
            assert body["id"] == stored_ids[client_id]
    assert len(api.history(room["id"])) == SOCKETS * SENDS_PER_SOCKET + REST_SENDS
    for client in clients:
        client.disconnect()
    api.close()
