"""A long-poll hands out at most what python-engineio's client decodes, in order."""

from __future__ import annotations

import queue

import pytest
from engineio.exceptions import QueueEmpty

from parley.realtime.polling import BoundedPoll


def bounded(*answers: list[int] | type[Exception], limit: int = 3) -> BoundedPoll:
    """A BoundedPoll over a poll that gives these answers in turn."""
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for answer in answers:
        pending.put(answer)

    def poll() -> list[int]:
        answer = pending.get_nowait()
        if isinstance(answer, type):
            raise answer()
        return answer

    return BoundedPoll(poll, limit)


def test_a_large_batch_goes_out_in_order_over_several_polls():
    poll = bounded(list(range(8)), [8, 9])
    assert [poll(), poll(), poll(), poll()] == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]


def test_the_close_is_passed_on_only_after_every_held_packet():
    poll = bounded([1, 2, 3, 4], [])
    assert [poll(), poll(), poll()] == [[1, 2, 3], [4], []]


def test_a_poll_that_times_out_still_times_out_once_nothing_is_held():
    poll = bounded([1, 2, 3, 4], QueueEmpty)
    assert [poll(), poll()] == [[1, 2, 3], [4]]
    with pytest.raises(QueueEmpty):
        poll()
