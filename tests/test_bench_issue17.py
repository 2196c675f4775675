"""summary.md gives the server's CPU per message as a ratio to the relay's, and issue 17's
targets for the send path, met or not."""

from __future__ import annotations

from typing import Any

from bench import report

from support import bench_machine


def step(rate: float, cpu: float, p99: float = 5.0, ack_p50: float = 1.0) -> dict[str, Any]:
    return {
        "rate": rate,
        "deliveries_per_s": rate * 10,
        "server_cpu_s_per_s": cpu,
        "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": p99},
        "ack_ms": {"p50": ack_p50, "p99": 3.0},
        "lost": 0,
        "sustained": p99 < 100,
    }


def fanout(server: str, steps: list[dict[str, Any]], sustained: float, **extra: Any) -> Any:
    figures = {"steps": steps, "max_sustained_rate": sustained, **extra}
    return {"server": server, "mode": "gevent", "database": None, "figures": figures}


def results(parley: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    return {"scenarios": {"fanout": [parley, baseline]}}


def test_cpu_per_message_is_the_median_over_every_sustained_step_at_that_rate() -> None:
    entry = fanout(
        "parley",
        [step(500, 0.5), step(500, 0.6), step(500, 0.1, p99=900.0), step(1000, 0.9)],
        1000,
        repeated_steps=[[step(500, 0.7)]],
    )

    assert report.cpu_ms_per_message(entry, 500) == 1.2
    assert report.cpu_ms_per_message(entry, 1000) == 0.9
    assert report.cpu_ms_per_message(entry, 200) is None


def test_a_step_that_fell_behind_gives_no_cpu_per_message() -> None:
    entry = fanout("parley", [step(500, 0.25, p99=8000.0)], 0)

    assert report.cpu_ms_per_message(entry, 500) is None


def test_cpu_per_message_is_reported_as_a_ratio_to_the_relay_at_each_common_rate() -> None:
    found = results(
        fanout("parley", [step(200, 0.3), step(500, 0.6)], 500),
        fanout("baseline", [step(500, 0.4), step(1000, 0.6)], 1000),
    )

    lines = report.cpu_per_message_section(found)

    text = "\n".join(lines)
    assert "| gevent | 500 | 1.2 | 0.8 | 1.50 |" in text
    assert "| gevent | 200 |" not in text


def test_issue_17_targets_are_met_within_their_bounds() -> None:
    found = results(
        fanout("parley", [step(500, 0.62, p99=49.0, ack_p50=9.9)], 850, max_sustained_rates=[850]),
        fanout("baseline", [step(500, 0.5)], 1000),
    )

    rows = {name: met for name, _, met in report.issue17_targets(found)}

    assert rows == {
        "server CPU per message at 500 msg/s ≤ 1.3 times the relay's (gevent)": True,
        "p99 at 500 msg/s ≤ 50 ms (gevent)": True,
        "ack p50 at 500 msg/s ≤ 10 ms (gevent)": True,
        "highest sustained rate ≥ 80% of the relay's (gevent)": True,
    }


def test_issue_17_targets_are_missed_past_their_bounds() -> None:
    found = results(
        fanout("parley", [step(500, 0.95, p99=70.0, ack_p50=10.5)], 700),
        fanout("baseline", [step(500, 0.48)], 1000),
    )

    rows = {name: (value, met) for name, value, met in report.issue17_targets(found)}

    assert rows["server CPU per message at 500 msg/s ≤ 1.3 times the relay's (gevent)"] == (
        "1.9 vs 0.96 ms = 1.98",
        False,
    )
    assert rows["p99 at 500 msg/s ≤ 50 ms (gevent)"][1] is False
    assert rows["ack p50 at 500 msg/s ≤ 10 ms (gevent)"][1] is False
    assert rows["highest sustained rate ≥ 80% of the relay's (gevent)"] == (
        "700 / 1000 = 0.70",
        False,
    )


def test_the_summary_holds_both_sections_in_a_full_run() -> None:
    found = results(
        fanout("parley", [step(500, 0.6)], 500),
        fanout("baseline", [step(500, 0.4)], 1000),
    )
    found.update(
        smoke=False,
        started_at="now",
        machine=bench_machine(),
    )

    text = report.summary(found, [])

    assert "## Server CPU per message" in text
    assert "## Targets (issue 17)" in text
