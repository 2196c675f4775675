"""Acks over long-polling when the server falls behind its clients (issue 17).

A starved server queues more packets for a socket between two of its long-polls than
python-engineio's client decodes in one response (16): that client then drops the whole
response, acks included, and the connection with it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests
from api_client import Api
from engineio.payload import Payload

SEPARATOR = "\x1e"


class RawPolling:
    """An Engine.IO long-polling session spoken by hand, so that the test decides when
    the client reads: a python-engineio client reads as soon as it can."""

    def __init__(self, url: str) -> None:
        self.base = f"{url}/socket.io/?EIO=4&transport=polling"
        self.http = requests.Session()
        opened = self.http.get(self.base, timeout=10)
        opened.raise_for_status()
        assert opened.text.startswith("0"), opened.text
        self.base += "&sid=" + json.loads(opened.text[1:])["sid"]

    def post(self, packets: list[str]) -> None:
        response = self.http.post(self.base, data=SEPARATOR.join(packets), timeout=10)
        assert response.status_code == 200, response.text

    def get(self) -> list[str]:
        response = self.http.get(self.base, timeout=10)
        assert response.status_code == 200, response.text
        return response.text.split(SEPARATOR)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def member(shared_server) -> Iterator[tuple[str, str, int]]:
    tag = uuid.uuid4().hex[:8]
    api, body = Api.register(shared_server.url, f"poller-{tag}")
    room = api.call("POST", "/rooms", 201, json={"name": f"polled-{tag}"})
    yield shared_server.url, body["token"], room["id"]
    api.close()


@pytest.mark.slow
def test_a_long_poll_answers_no_more_packets_than_python_clients_decode(member):
    url, token, room_id = member
    session = RawPolling(url)
    try:
        session.post([f"40{json.dumps({'token': token})}"])
        while not any(p.startswith("40") for p in session.get()):
            pass  # the connect's answer, after any presence events
        count = 20
        sends = [
            f'42{n}["message:send",{json.dumps({"room_id": room_id, "body": f"queued {n}"})}]'
            for n in range(count)
        ]
        # Each POST is handled before it is answered: forty packets (an ack and a
        # message:new per send) wait for the next long-poll, as they do when a starved
        # client reads late.
        session.post(sends[:10])
        session.post(sends[10:])
        acks: list[int] = []
        polls = 0
        while len(acks) < count:
            packets = session.get()
            polls += 1
            assert len(packets) <= Payload.max_decode_packets, len(packets)
            acks.extend(int(p[2 : p.index("[")]) for p in packets if p.startswith("43"))
            assert polls < 10, acks
        assert acks == list(range(count))
    finally:
        session.close()
