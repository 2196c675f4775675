"""The fan-out benchmark reports the CPU the generators and the whole machine used in a
step, and keeps the generators' garbage collection out of its steps."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from bench.load import Layout
from bench.machine import CpuTimes, cores_used
from bench.scenarios.fanout import summarize
from bench.workers import StepPlan, StepRaw, collected_after

TICKS = os.sysconf("SC_CLK_TCK")


def stat_file(tmp_path: Path, name: str, user: int, system: int, idle: int, steal: int) -> Path:
    path = tmp_path / name
    # user nice system idle iowait irq softirq steal guest guest_nice
    path.write_text(f"cpu  {user} 0 {system} {idle} 5 0 1 {steal} 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\n")
    return path


def test_machine_cpu_and_steal_are_read_in_cores(tmp_path: Path) -> None:
    before = CpuTimes.now(stat_file(tmp_path, "a", 1000, 500, 9000, 10))
    after = CpuTimes.now(stat_file(tmp_path, "b", 1000 + 2 * TICKS, 500 + TICKS, 9000, 10 + TICKS))

    used = cores_used(before, after, seconds=2.0)

    assert used == {"machine_cpu_s_per_s": 1.5, "steal_s_per_s": 0.5}


def test_the_running_machine_is_read() -> None:
    now = CpuTimes.now()

    assert now is not None and now.busy > 0 and now.steal >= 0


def test_nothing_is_reported_without_both_readings(tmp_path: Path) -> None:
    missing = CpuTimes.now(tmp_path / "absent")
    reading = CpuTimes.now(stat_file(tmp_path, "a", 1, 1, 1, 0))

    assert missing is None
    assert cores_used(missing, reading, 1.0) == {}
    assert cores_used(reading, reading, 0.0) == {}


def test_a_step_runs_without_collections_and_its_garbage_is_collected_after() -> None:
    assert gc.isenabled()

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    with collected_after():
        assert not gc.isenabled()
        Cycle()
    assert gc.isenabled()
    assert not any(isinstance(found, Cycle) for found in gc.get_objects())


def test_the_generators_cpu_is_the_sum_of_the_workers_over_the_send_time() -> None:
    layout = Layout(accounts=[], rooms=[1], members={1: [0, 1]})
    step = StepPlan(rate=10, seconds=2.0, start_at=0.0, tag="t")
    raws = [
        StepRaw(
            latencies=[0.001] * 4,
            acks=[0.001] * 2,
            sent=2,
            sent_to_rooms={1: 2},
            send_seconds=2.0,
            cpu_seconds=0.5,
        ),
        StepRaw(send_seconds=1.5, cpu_seconds=0.3),
    ]

    figures = summarize(layout, step, raws)

    assert figures["generator_cpu_s_per_s"] == 0.4
    assert figures["lost"] == 0
