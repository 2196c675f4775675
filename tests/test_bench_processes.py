"""The processes scenario (issue 18): clients spread over a cluster's processes, the
server's CPU counted over every process below it, and summary.md's comparison of many
processes with one, measured in the same run, with issue 18's targets met or not."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import report
from bench.__main__ import process_setups
from bench.load import Account, Layout, spread
from bench.plan import FULL, SMOKE
from bench.servers import Server, _tree

from support import bench_machine

URLS = ("http://127.0.0.1:8081", "http://127.0.0.1:8082")


def layout(rooms: int, per_room: int) -> Layout:
    members = {100 + r: list(range(r * per_room, (r + 1) * per_room)) for r in range(rooms)}
    return Layout([Account(i, "") for i in range(rooms * per_room)], list(members), members)


def test_every_room_has_members_on_each_process_and_the_senders_take_turns() -> None:
    found = spread(layout(4, 10), URLS)

    assert len(found) == 40
    for r in range(4):
        room = Counter(found[i] for i in range(r * 10, (r + 1) * 10))
        assert room == {URLS[0]: 5, URLS[1]: 5}
    senders = [found[r * 10] for r in range(4)]
    assert senders == [URLS[0], URLS[1], URLS[0], URLS[1]]


def test_a_third_go_through_nginx_when_it_is_one_of_three_addresses() -> None:
    nginx = "http://127.0.0.1:8080"

    found = spread(layout(3, 10), (nginx, *URLS))

    assert Counter(found.values()) == {nginx: 10, URLS[0]: 10, URLS[1]: 10}
    assert {found[r * 10] for r in range(3)} == {nginx, *URLS}


def test_no_addresses_leave_every_client_on_the_server_url() -> None:
    assert spread(layout(2, 3), ()) == {}


def test_a_full_run_also_measures_one_process_without_redis_and_a_smoke_run_does_not() -> None:
    assert process_setups(FULL) == [(1, True), (2, True), (1, False)]
    assert process_setups(SMOKE) == [(1, True), (2, True)]


def test_the_server_cpu_counts_every_process_below_the_one_started() -> None:
    grandchild = "import subprocess; subprocess.run(['sleep', '30'])"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    process = subprocess.Popen([sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + 20
        while len(_tree(process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = _tree(process.pid)
        server = Server("parley", "gevent", "http://x", process, Path("log"))

        assert len(tree) == 3 and tree[0] == process.pid
        assert Path(f"/proc/{tree[2]}/comm").read_text().strip() == "sleep"
        assert server.rss_bytes() > 0
        assert server.nginx_cpu_seconds() == 0
    finally:
        for pid in reversed(_tree(process.pid)):
            subprocess.run(["kill", str(pid)], check=False)
        process.wait(timeout=10)


def step(rate: float, cpu: float, p99: float = 5.0) -> dict[str, Any]:
    return {
        "rate": rate,
        "deliveries_per_s": rate * 10,
        "server_cpu_s_per_s": cpu,
        "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": p99},
        "ack_ms": {"p50": 1.0, "p99": 3.0},
        "lost": 0,
        "sustained": p99 < 100,
    }


def entry(processes: int, queue: str | None, steps: list[dict[str, Any]], **extra: Any) -> Any:
    sustained = max((s["rate"] for s in steps if s["sustained"]), default=0)
    figures = {"steps": steps, "max_sustained_rate": sustained, **extra}
    return {
        "server": "parley",
        "mode": "gevent",
        "database": "postgresql",
        "processes": processes,
        "queue": queue,
        "figures": figures,
    }


def nginx_step(lost: int = 0, p99: float = 20.0) -> dict[str, Any]:
    return {
        **step(100, 0.2, p99),
        "lost": lost,
        "sustained": lost == 0 and p99 < 100,
        "clients": 100,
        "through_nginx": 34,
        "nginx_cpu_s_per_s": 0.01,
    }


def results(*found: dict[str, Any]) -> dict[str, Any]:
    return {"scenarios": {"processes": list(found)}}


def test_two_processes_within_the_bounds_meet_issue_18s_targets() -> None:
    found = results(
        entry(1, "redis", [step(200, 0.4), step(300, 0.6), step(450, 2.0, p99=400.0)]),
        entry(2, "redis", [step(200, 0.5), step(300, 0.74), step(450, 1.0)], nginx=nginx_step()),
    )

    rows = {name: (value, met) for name, value, met in report.issue18_targets(found)}

    cpu = "server CPU per message, 2 processes together ≤ 1.25 times one process's"
    assert rows[f"{cpu} (the highest rate both sustained)"] == (
        "2.47 vs 2 ms at 300 msg/s = 1.23",
        True,
    )
    assert rows["highest sustained rate of 2 processes ≥ one process's"] == (
        "450 / 300 = 1.50",
        True,
    )
    assert rows["through Nginx: nothing lost, p99 < 100 ms at 100 msg/s"][1] is True


def test_two_processes_past_the_bounds_miss_issue_18s_targets() -> None:
    found = results(
        entry(1, "redis", [step(200, 0.4), step(300, 0.6)]),
        entry(2, "redis", [step(200, 0.6), step(300, 0.9, p99=300.0)], nginx=nginx_step(lost=3)),
    )

    rows = {name: (value, met) for name, value, met in report.issue18_targets(found)}

    cpu = "server CPU per message, 2 processes together ≤ 1.25 times one process's"
    assert rows[f"{cpu} (the highest rate both sustained)"] == (
        "3 vs 2 ms at 200 msg/s = 1.50",
        False,
    )
    assert rows["highest sustained rate of 2 processes ≥ one process's"][1] is False
    assert rows["through Nginx: nothing lost, p99 < 100 ms at 100 msg/s"] == (
        "3 lost, p99 20.0 ms",
        False,
    )


def test_no_targets_without_both_servers() -> None:
    assert report.issue18_targets(results(entry(1, "redis", [step(200, 0.4)]))) == []


def test_the_summary_compares_each_server_with_one_process_on_redis() -> None:
    found = results(
        entry(1, "redis", [step(200, 0.4)]),
        entry(2, "redis", [step(200, 0.5)], nginx=nginx_step()),
        entry(1, None, [step(200, 0.3)]),
    )
    found.update(
        smoke=False,
        started_at="now",
        machine=bench_machine(load_average=[3.5, 2.0, 1.25]),
    )

    text = report.summary(found, [])

    assert "Load average (1, 5, 15 min) when the run started: 3.5, 2, 1.25." in text
    assert "## Processes against parley (1 process, gevent, postgresql, redis)" in text
    two = "| parley (2 processes, gevent, postgresql, redis) |"
    assert f"{two} CPU ms per message at 200 msg/s | 2.5 | 2 | 1.25 |" in text
    assert f"{two} 34 of 100 | 100 |" in text
    alone = "| parley (1 process, gevent, postgresql) |"
    assert f"{alone} highest sustained rate msg/s | 200 | 200 | 1.00 |" in text
    assert "## Targets (issue 18)" in text
