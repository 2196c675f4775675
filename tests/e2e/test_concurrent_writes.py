"""Many clients writing at once through a real server: nothing acknowledged is lost."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from servers import LiveServer

CLIENTS = 8
MESSAGES_EACH = 25


def call(
    url: str, method: str = "GET", body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.mark.slow
def test_concurrent_posts_and_resends_are_all_committed_once(
    live_server_on_each_database: LiveServer,
) -> None:
    api = live_server_on_each_database.url + "/api/v1"
    tokens = []
    for index in range(CLIENTS):
        status, body = call(
            f"{api}/auth/register",
            "POST",
            {"username": f"writer{index}", "password": "concurrent-pass"},
        )
        assert status == 201, body
        tokens.append(body["token"])
    status, room = call(f"{api}/rooms", "POST", {"name": "busy"}, tokens[0])
    assert status == 201
    for token in tokens[1:]:
        assert call(f"{api}/rooms/{room['id']}/join", "POST", {}, token)[0] == 201

    def write(index: int) -> list[tuple[int, int]]:
        acks = []
        for n in range(MESSAGES_EACH):
            payload = {"body": f"writer {index} message {n}", "client_id": f"w{index}-{n}"}
            url = f"{api}/rooms/{room['id']}/messages"
            status, message = call(url, "POST", payload, tokens[index])
            # Every other message is sent twice, as a client retrying after a lost ack.
            if n % 2 == 0:
                again, resent = call(url, "POST", payload, tokens[index])
                assert again == 200 and resent["id"] == message["id"]
            acks.append((status, message["id"]))
        return acks

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [ack for acks in pool.map(write, range(CLIENTS)) for ack in acks]

    assert all(status == 201 for status, _ in results)
    acked_ids = sorted(message_id for _, message_id in results)
    assert len(set(acked_ids)) == CLIENTS * MESSAGES_EACH

    stored: list[int] = []
    after = 0
    while True:
        status, page = call(
            f"{api}/rooms/{room['id']}/messages?after={after}&limit=100", token=tokens[0]
        )
        assert status == 200
        stored.extend(m["id"] for m in page["messages"])
        if not page["has_more"]:
            break
        after = page["messages"][-1]["id"]
    assert stored == acked_ids
