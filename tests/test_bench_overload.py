"""The benchmark's overload step: a burst at twice the highest sustained rate, then a
normal rate, in one schedule; every send's answer and every delivery counted, and the
time until the latency is back under 50 ms p99 after the burst."""

from __future__ import annotations

import pytest
from bench.load import Layout
from bench.report import overload_section
from bench.scenarios.overload import (
    RECOVERED_P99_MS,
    all_answered,
    recovery_seconds,
    summarize_overload,
)
from bench.workers import StepPlan, StepRaw


def test_a_step_of_one_phase_keeps_the_schedule_it_always_had() -> None:
    step = StepPlan(rate=50, seconds=2, start_at=100.0, tag="t")
    senders = 5
    interval = senders / step.rate
    before = [
        100.0 + (k // senders) * interval + (k % senders) * interval / senders for k in range(100)
    ]
    assert [due for _, due in step.schedule()] == pytest.approx(before)


def test_phases_follow_one_another_without_a_pause() -> None:
    step = StepPlan(rate=20, seconds=1, start_at=0.0, tag="t", phases=((5, 2),))
    found = list(step.schedule())
    assert [k for k, _ in found] == list(range(30))
    assert found[19][1] == 19 / 20
    assert found[20][1] == 1.0
    assert found[-1][1] == 1.0 + 9 / 5
    assert step.total_seconds == 3


def test_answers_are_waited_for_as_long_as_the_step_asks() -> None:
    assert StepPlan(1, 20, 0, "t").settle == 3.0
    assert StepPlan(1, 20, 0, "t", answer_within=10).settle == 10


def test_the_latency_has_recovered_from_where_the_p99_of_what_follows_stays_low() -> None:
    slow = RECOVERED_P99_MS * 4 / 1000
    fast = RECOVERED_P99_MS / 2 / 1000
    # Sent from 10 s (the burst's end) to 14 s: slow for 1.2 s, then fast.
    delivered = [(f"{i}", 10 + i / 100, slow if i < 120 else fast) for i in range(400)]
    assert recovery_seconds(delivered, 10.0, 14.0) == 1.5
    assert recovery_seconds([(k, s, slow) for k, s, _ in delivered], 10.0, 14.0) is None
    assert recovery_seconds([(k, s, fast) for k, s, _ in delivered], 10.0, 14.0) == 0


def test_every_send_is_counted_once_by_what_answered_it() -> None:
    layout = Layout(accounts=[], rooms=[1, 2], members={1: [0, 1, 2], 2: [3, 4]})
    step = StepPlan(rate=4, seconds=1, start_at=0.0, tag="t", phases=((2, 1),), timeline=True)
    raw = StepRaw(
        answers=[
            ("a", 1, 0.0, 0.01, ""),  # ok, delivered to all three
            ("b", 2, 0.2, 0.02, ""),  # ok, delivered to one of two
            ("c", 1, 0.4, 0.01, "overloaded"),  # refused, delivered to nobody
            ("d", 2, 0.6, None, ""),  # never answered
            ("e", 1, 1.2, 11.0, ""),  # answered too late, delivered
        ],
        delivered=[
            *[("a", 0.0, 0.01)] * 3,
            ("b", 0.2, 0.02),
            *[("e", 1.2, 0.02)] * 3,
        ],
    )

    run = summarize_overload(layout, step, [raw])

    assert (run["sent"], run["answered_within_10s"], run["unanswered"]) == (5, 3, 1)
    assert (run["ok"], run["overloaded"], run["other_errors"]) == (3, 1, 0)
    assert run["ok_undelivered"] == 1
    assert run["refused_delivered"] == 0
    assert run["rate"] == 4 and run["normal_rate"] == 2
    assert not all_answered(run)


def test_the_summary_shows_each_run_and_whether_all_met_the_targets() -> None:
    run = {
        "rate": 1000,
        "burst_seconds": 5,
        "normal_rate": 250,
        "normal_seconds": 10,
        "sent": 7500,
        "answered_within_10s": 7500,
        "ok": 6000,
        "overloaded": 1500,
        "other_errors": 0,
        "ok_undelivered": 0,
        "refused_delivered": 0,
        "answer_ms": {"p50": 5.0, "max": 2100.0},
        "burst_latency_ms": {"p99": 900.0},
        "recovered_after_s": 2.5,
        "generator_lag_ms": {"p99": 3.0},
    }
    entry = {
        "server": "parley",
        "mode": "gevent",
        "database": "sqlite",
        "figures": {"steps": [], "overload": [run, {**run, "recovered_after_s": None}]},
    }
    lines = overload_section({"scenarios": {"fanout": [entry]}})
    text = "\n".join(lines)
    assert "1000 for 5 s, then 250 for 10 s" in text
    assert "7500 / 7500" in text
    assert "6000 / 1500 / 0" in text
    assert "within 5 s: no (1 of 2 runs)" in text
    assert overload_section({"scenarios": {"fanout": []}}) == []
