"""Acks over long-polling when the server falls behind its clients (issue 17).

A starved server queues more packets for a socket between two of its long-polls than
python-engineio's client decodes in one response (16): that client dropped the whole
response, acks included, and the connection with it (parley.realtime.polling).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from api_client import Api
from servers import SHARED_SERVER_ENV, LiveServer, start_server
from test_realtime import TRANSPORTS, chat_room, sends_without_waiting_are_acked_and_stored_in_order

from parley.realtime.polling import MAX_POST_PACKETS

SEPARATOR = "\x1e"
# The most packets python-engineio's client decodes from one long-poll response (its
# Payload.max_decode_packets by default).
PYTHON_CLIENT_PACKETS = 16
RUNS = 10
# Two busy loops a core, as the failure was found with; each ends itself after this
# long even if the test process dies before it can stop them.
BUSY_LOOPS_PER_CORE = 2
BUSY_SECONDS = 110
TIME_LIMIT_SECONDS = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`parley run` on SQLite, with the shared servers' fast ping (a session whose client
    falls silent for 4 s is dropped), so that starving it shows lost sessions too."""
    yield from start_server(tmp_path_factory.mktemp("starved"), None, SHARED_SERVER_ENV)


@contextmanager
def starved_cpu(seconds: float) -> Iterator[None]:
    """Busy loops on every core until the block ends (or `seconds` pass)."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    loops = [
        subprocess.Popen([sys.executable, "-c", code])
        for _ in range(BUSY_LOOPS_PER_CORE * (os.cpu_count() or 1))
    ]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()


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

    @classmethod
    @contextmanager
    def connected(cls, url: str, token: str) -> Iterator[RawPolling]:
        """A session with its Socket.IO connect answered."""
        session = cls(url)
        try:
            session.post([f"40{json.dumps({'token': token})}"])
            while not any(p.startswith("40") for p in session.get()):
                pass  # the connect's answer comes after any presence events
            yield session
        finally:
            session.close()

    def acks(self, count: int) -> list[int]:
        """The ack ids of the next `count` acks, in the order they come, checking that
        no response holds more packets than python-engineio's client decodes."""
        found: list[int] = []
        for _ in range(10):
            packets = self.get()
            assert len(packets) <= PYTHON_CLIENT_PACKETS, len(packets)
            if "2" in packets:
                self.post(["3"])  # the server's ping, answered as a client does
            found.extend(int(p[2 : p.index("[")]) for p in packets if p.startswith("43"))
            if len(found) >= count:
                return found
        raise AssertionError(f"only acks {found} in 10 polls")


@pytest.fixture
def member(server: LiveServer) -> Iterator[tuple[str, str, int]]:
    tag = uuid.uuid4().hex[:8]
    api, body = Api.register(server.url, f"poller-{tag}")
    room = api.call("POST", "/rooms", 201, json={"name": f"polled-{tag}"})
    yield server.url, body["token"], room["id"]
    api.close()


def sends(room_id: int, count: int) -> list[str]:
    """`count` message:send events, each asking for the ack numbered like it."""
    return [
        f'42{n}["message:send",{json.dumps({"room_id": room_id, "body": f"queued {n}"})}]'
        for n in range(count)
    ]


@pytest.mark.slow
def test_a_long_poll_answers_no_more_packets_than_python_clients_decode(
    member: tuple[str, str, int],
) -> None:
    url, token, room_id = member
    with RawPolling.connected(url, token) as session:
        # Each POST is handled before it is answered: forty packets (an ack and a
        # message:new per send) wait for the next long-poll, as they do when a starved
        # client reads late.
        batch = sends(room_id, 20)
        session.post(batch[:10])
        session.post(batch[10:])
        assert session.acks(20) == list(range(20))


@pytest.mark.slow
def test_a_long_polling_post_of_many_sends_has_every_send_acked(
    member: tuple[str, str, int],
) -> None:
    url, token, room_id = member
    with RawPolling.connected(url, token) as session:
        # A browser's engine.io-client posts every packet it has buffered at once; a
        # starved page buffers many while its previous POST is under way.
        session.post(sends(room_id, 40))
        assert session.acks(40) == list(range(40))


@pytest.mark.slow
def test_a_post_over_the_packet_limit_is_refused_and_handles_none_of_them(
    member: tuple[str, str, int],
) -> None:
    url, token, room_id = member
    api = Api(url, token)
    try:
        with RawPolling.connected(url, token) as session:
            response = session.http.post(
                session.base,
                data=SEPARATOR.join(sends(room_id, MAX_POST_PACKETS + 1)),
                timeout=10,
            )
            # Not a 200 that handled nothing: the client is told, and reconnects.
            assert response.status_code == 400, response.text
        assert api.history(room_id) == []
    finally:
        api.close()


@pytest.mark.slow
def test_a_client_that_keeps_posting_is_alive_while_its_pong_waits(
    member: tuple[str, str, int],
) -> None:
    url, token, room_id = member
    with RawPolling.connected(url, token) as session:
        while "2" not in session.get():
            pass  # the server's first ping, left unanswered for now
        # A long-polling client's pong waits behind its POST in flight, and a starved
        # server can take longer than the ping timeout (2 s here) to handle one: the
        # packets it is handling show the client alive all the same.
        batch = sends(room_id, 2)
        time.sleep(1.2)
        session.post(batch[:1])
        time.sleep(1.2)
        session.post(batch[1:])
        session.post(["3"])
        assert session.acks(2) == [0, 1]


@pytest.mark.slow
def test_sends_without_waiting_are_acked_in_order_on_a_starved_cpu(server: LiveServer) -> None:
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    with starved_cpu(BUSY_SECONDS):
        for run in range(RUNS):
            for transports in TRANSPORTS:
                with chat_room(server.url) as chat:
                    try:
                        sends_without_waiting_are_acked_and_stored_in_order(chat, transports)
                    except AssertionError as failed:
                        failed.add_note(f"run {run + 1} of {RUNS} over {transports[0]}")
                        raise
            assert time.monotonic() < deadline, f"{run + 1} of {RUNS} runs in the time limit"
