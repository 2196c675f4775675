"""The shutdown's intake in front of socket events: it counts the events being handled,
says when none is left, and once closed handles no more (tests/e2e/test_shutdown.py
stops real servers)."""

from __future__ import annotations

import threading

import pytest

from parley.shutdown import EventIntake


def test_the_intake_hands_events_on_until_closed_then_drops_them() -> None:
    handled: list[tuple[str, str]] = []

    def handle(sid: str, data: str) -> str:
        handled.append((sid, data))
        return "answered"

    intake = EventIntake(handle)
    assert intake("a", "first") == "answered"
    intake.close()
    assert intake("a", "second") is None
    assert handled == [("a", "first")]


def test_waiting_for_the_intake_lasts_until_the_events_being_handled_are_done() -> None:
    release = threading.Event()
    started = threading.Event()

    def slow(_sid: str, _data: str) -> None:
        started.set()
        release.wait(10)

    intake = EventIntake(slow)
    handling = threading.Thread(target=intake, args=("a", "send"))
    handling.start()
    assert started.wait(10)
    intake.close()
    assert intake.busy == 1
    assert not intake.wait_idle(0.05)
    release.set()
    assert intake.wait_idle(10)
    handling.join()
    assert intake.busy == 0


def test_an_event_that_fails_still_leaves_the_intake_idle() -> None:
    def failing(_sid: str, _data: str) -> None:
        raise ValueError("bad packet")

    intake = EventIntake(failing)
    with pytest.raises(ValueError):
        intake("a", "x")
    assert intake.busy == 0 and intake.wait_idle(0)
