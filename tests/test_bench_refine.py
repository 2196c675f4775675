"""The fan-out benchmark narrows the highest sustained rate between its rising steps, and
takes the median of repeated runs."""

from __future__ import annotations

from typing import Any

from bench.scenarios.fanout import median_of_runs, refine_between


def steps(*rates: tuple[float, bool]) -> list[dict[str, Any]]:
    return [{"rate": rate, "sustained": sustained} for rate, sustained in rates]


def test_the_next_rate_lies_between_the_highest_sustained_and_the_lowest_failed_above() -> None:
    assert refine_between(steps((500, True), (1000, True), (1500, False))) == 1225


def test_a_failure_below_the_highest_sustained_step_is_not_a_bound() -> None:
    found = refine_between(steps((300, False), (500, True), (750, False), (1125, False)))
    assert found == 612


def test_nothing_is_tried_once_the_bounds_are_within_ten_percent() -> None:
    assert refine_between(steps((1000, True), (1100, False))) is None


def test_nothing_is_tried_without_a_sustained_step_or_a_failed_one_above() -> None:
    assert refine_between(steps((100, False), (200, False))) is None
    assert refine_between(steps((100, True), (200, True))) is None


def run(rate: float) -> dict[str, Any]:
    return {"steps": steps((rate, True), (rate * 1.1, False)), "max_sustained_rate": rate}


def test_repeated_runs_report_the_median_rate_and_keep_every_run() -> None:
    runs = [run(917), run(649), run(1000)]
    merged = median_of_runs(runs)
    assert merged["max_sustained_rate"] == 917
    assert merged["max_sustained_rates"] == [917, 649, 1000]
    assert merged["steps"] == runs[0]["steps"]
    assert merged["repeated_steps"] == [runs[1]["steps"], runs[2]["steps"]]


def test_a_single_run_is_reported_as_it_is() -> None:
    only = run(700)
    assert median_of_runs([only]) == only
