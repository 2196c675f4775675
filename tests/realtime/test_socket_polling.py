"""Long-polling batches: a poll hands out at most what python-engineio's client decodes, in
order; any packet from a client shows it alive."""

from __future__ import annotations

import queue
import time

import pytest
from engineio.exceptions import QueueEmpty

from parley.realtime.polling import BoundedPoll, alive_on_every_packet


def bounded(*answers: list[int] | type[Exception], limit: int = 3) -> BoundedPoll:
    """A BoundedPoll over a poll that gives these answers in turn."""
    pending: queue.SimpleQueue[list[int] | type[Exception]] = queue.SimpleQueue()
    for answer in answers:
        pending.put(answer)

    def poll() -> list[int]:
        answer = pending.get_nowait()
        if isinstance(answer, type):
            raise answer()
        return answer

    return BoundedPoll(poll, limit)


def test_a_large_batch_goes_out_in_order_over_several_polls() -> None:
    poll = bounded(list(range(8)), [8, 9])
    assert [poll(), poll(), poll(), poll()] == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]


def test_the_close_is_passed_on_only_after_every_held_packet() -> None:
    poll = bounded([1, 2, 3, 4], [])
    assert [poll(), poll(), poll()] == [[1, 2, 3], [4], []]


def test_a_poll_that_times_out_still_times_out_once_nothing_is_held() -> None:
    poll = bounded([1, 2, 3, 4], QueueEmpty)
    assert [poll(), poll()] == [[1, 2, 3], [4]]
    with pytest.raises(QueueEmpty):
        poll()


class Session:
    """The two attributes of an Engine.IO session that alive_on_every_packet uses."""

    def __init__(self, last_ping: float | None) -> None:
        self.last_ping = last_ping
        self.received: list[str] = []

    def receive(self, packet: str) -> None:
        self.received.append(packet)


def test_a_packet_restarts_the_wait_for_a_due_pong() -> None:
    session = Session(last_ping=time.time() - 100)
    before = time.time()
    alive_on_every_packet(session)("a send")
    assert session.received == ["a send"]
    assert session.last_ping is not None and session.last_ping >= before


def test_a_packet_starts_no_wait_when_no_ping_is_due() -> None:
    session = Session(last_ping=None)
    alive_on_every_packet(session)("a send")
    assert session.received == ["a send"] and session.last_ping is None
