"""Fan-out, open loop: sends are scheduled by the clock, not by the previous ack, so a
server that stalls shows it in the latency instead of slowing the load down. The clients
are spread over generator processes (bench/workers.py)."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Any

from ..load import Layout, lay_out, percentiles, spread
from ..machine import CpuTimes, cores_used
from ..servers import Server
from ..workers import Generators, StepPlan, StepRaw, Target, generators
from .overload import burst_plan, summarize_overload

# A run counts as sustained when nothing was lost, p99 stayed under this, and the
# generator itself kept to its schedule.
SUSTAINED_P99_MS = 100.0
MAX_LAG_MS = 50.0
WARM_UP_SECONDS = 2.0
# After the rising steps, rates between the highest sustained step and the lowest one
# above it that was not sustained are tried until the two are this close (the steps
# rise by half each time, too coarse to compare two servers by), in at most this many
# more steps.
REFINE_RATIO = 1.1
MAX_REFINE_STEPS = 4


def summarize(layout: Layout, step: StepPlan, raws: list[StepRaw]) -> dict[str, Any]:
    """One step's figures from every worker's observations."""
    latencies = [x for raw in raws for x in raw.latencies]
    acks = [x for raw in raws for x in raw.acks]
    lags = [x for raw in raws for x in raw.lags]
    send_errors = sum(len(raw.send_errors) for raw in raws)
    sent = sum(raw.sent for raw in raws)
    expected = sum(
        count * len(layout.members[room_id])
        for raw in raws
        for room_id, count in raw.sent_to_rooms.items()
    )
    send_seconds = max((raw.send_seconds for raw in raws), default=step.seconds)
    latency = percentiles(latencies)
    lag = percentiles(lags)
    lost = expected - len(latencies)
    return {
        "rate": step.rate,
        "sent": sent,
        "acked": len(acks),
        "send_errors": send_errors,
        "expected_deliveries": expected,
        "deliveries": len(latencies),
        "lost": lost,
        "deliveries_per_s": round(len(latencies) / send_seconds, 1),
        "latency_ms": latency,
        "ack_ms": percentiles(acks),
        "generator_lag_ms": lag,
        "generator_cpu_s_per_s": round(sum(raw.cpu_seconds for raw in raws) / send_seconds, 3),
        "sustained": lost == 0
        and not send_errors
        and len(acks) == sent
        and (latency["p99"] or 0) < SUSTAINED_P99_MS
        and (lag["p99"] or 0) < MAX_LAG_MS,
    }


@dataclass(frozen=True)
class Load:
    """A server, its clients spread over the generators, and who sends to which room."""

    server: Server
    layout: Layout
    fleet: Generators
    senders: list[tuple[int, int]]

    def measure(self, rate: float, seconds: float) -> dict[str, Any]:
        """Sends `rate` messages a second for `seconds` from the senders (each in its
        room), and measures every delivery to every member, and the server's CPU."""
        step = StepPlan(rate, seconds, time.perf_counter() + 0.5, f"{time.monotonic_ns()}")
        self.fleet.start(self.senders, step)
        # The server's CPU while the sends go out (not while deliveries settle).
        time.sleep(max(0.0, step.start_at - time.perf_counter()))
        cpu_before, machine_before = self.server.cpu_seconds(), CpuTimes.now()
        nginx_before = self.server.nginx_cpu_seconds() if self.server.behind_nginx else 0.0
        time.sleep(seconds)
        cpu = self.server.cpu_seconds() - cpu_before
        machine = cores_used(machine_before, CpuTimes.now(), seconds)
        if self.server.behind_nginx:
            nginx = self.server.nginx_cpu_seconds() - nginx_before
            machine["nginx_cpu_s_per_s"] = round(nginx / seconds, 3)
        figures = summarize(self.layout, step, self.fleet.collect())
        return {**figures, "server_cpu_s_per_s": round(cpu / seconds, 3), **machine}

    def overload(self, rate: float, plan: OverloadPlan) -> dict[str, Any]:
        """The overload step (scenarios/overload.py) from the highest sustained rate."""
        step = burst_plan(rate, plan.burst_seconds, rate * plan.normal_share, plan.normal_seconds)
        self.fleet.start(self.senders, step)
        return summarize_overload(self.layout, step, self.fleet.collect())

    def warm_up(self, rate: float, seconds: float) -> float:
        """An unmeasured step first, alike for every server: the first sends after
        hundreds of clients connect meet cold caches (statements, database pages, the
        connection pool) and the tail of the connection storm. Returns the seconds the
        server took to settle after the clients arrived."""
        settled = self.server.wait_until_idle()
        self.measure(rate, min(WARM_UP_SECONDS, seconds))
        return settled


def refine_between(steps: list[dict[str, Any]]) -> float | None:
    """The rate to try next, between the highest sustained step and the lowest step above
    it that was not; None when they are close enough, or when there is no such pair."""
    sustained = [step["rate"] for step in steps if step["sustained"]]
    if not sustained:
        return None
    low = max(sustained)
    above = [step["rate"] for step in steps if not step["sustained"] and step["rate"] > low]
    if not above or min(above) / low <= REFINE_RATIO:
        return None
    return float(round((low * min(above)) ** 0.5))


def median_of_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Repeated runs of the fan-out as one: the first run's steps, and as the highest
    sustained rate the median of every run's (near its limit a server's figure moves
    by as much as half from one run to the next), with each run's kept beside it."""
    first = runs[0]
    if len(runs) == 1:
        return first
    rates = [run["max_sustained_rate"] for run in runs]
    return {
        **first,
        "max_sustained_rate": statistics.median(rates),
        "max_sustained_rates": rates,
        "repeated_steps": [run["steps"] for run in runs[1:]],
    }


async def rooms_of_ten_repeated(server: Server, repeats: int, **fanout: Any) -> dict[str, Any]:
    """`rooms_of_ten` `repeats` times on one server, each from idle, once the previous
    run's clients have gone offline (see median_of_runs; the runner waits for idle
    before the first); the overload step, if asked for, after the last."""
    overload = fanout.pop("overload", None)
    runs = []
    for n in range(repeats):
        if n:
            await _in_thread(server.wait_out_departures)
        # The overload step follows the last run only.
        last = n == repeats - 1
        runs.append(await rooms_of_ten(server, **fanout, overload=overload if last else None))
    merged = median_of_runs(runs)
    if "overload" in runs[-1]:
        merged["overload"] = runs[-1]["overload"]
    return merged


def target_of(server: Server) -> Target:
    return Target(server.kind, server.url)


@dataclass(frozen=True)
class OverloadPlan:
    """After the fan-out, this many runs of: twice the highest sustained rate for
    `burst_seconds`, then `normal_share` of it for `normal_seconds`."""

    runs: int
    burst_seconds: float
    normal_share: float
    normal_seconds: float


async def rooms_of_ten(
    server: Server,
    rooms: int,
    per_room: int,
    rates: list[float],
    seconds: float,
    rise: bool,
    processes: int = 1,
    overload: OverloadPlan | None = None,
    over: tuple[str, ...] = (),
    connect_batch: int = 50,
) -> dict[str, Any]:
    """(a) `rooms` rooms of `per_room`, one sender per room, at each rate; then, when
    `rise`, 1.5 times faster each step until a step is not sustained; then on Parley
    the overload step from the highest sustained rate (or the first rate, when none
    was), on the same clients. Given addresses `over` (a cluster's processes), the
    clients are spread over them (load.spread) instead of connecting to the server's URL."""
    layout = await lay_out(server, rooms, per_room)
    senders = [(members[0], room) for room, members in layout.members.items()]
    target = Target(server.kind, server.url, spread(layout, over), connect_batch)
    with generators(target, layout, processes, senders) as fleet:
        load = Load(server, layout, fleet, senders)
        settled = await _in_thread(load.warm_up, rates[0], seconds)
        steps = [await _in_thread(load.measure, rate, seconds) for rate in rates]
        rate = rates[-1]
        while rise and steps[-1]["sustained"] and rate < 20_000:
            rate = round(rate * 1.5)
            steps.append(await _in_thread(load.measure, rate, seconds))
        for _ in range(MAX_REFINE_STEPS if rise else 0):
            between = refine_between(steps)
            if between is None:
                break
            # A step that fell behind leaves a backlog; the next one starts from idle.
            await _in_thread(server.wait_until_idle)
            steps.append({**await _in_thread(load.measure, between, seconds), "refined": True})
        steps.sort(key=lambda step: step["rate"])
        sustained = [s["rate"] for s in steps if s["sustained"]]
        overload_runs = []
        if overload is not None and server.kind == "parley":
            from_rate = max(sustained) if sustained else rates[0]
            for _ in range(overload.runs):
                await _in_thread(server.wait_until_idle)
                overload_runs.append(await _in_thread(load.overload, from_rate, overload))
    found = {
        "clients": fleet.clients,
        "generator_processes": processes,
        "connect_errors": fleet.connect_errors,
        "settle_seconds": settled,
        "steps": steps,
        "max_sustained_rate": max(sustained) if sustained else 0,
    }
    if overload_runs:
        found["overload"] = overload_runs
    return found


async def one_room(
    server: Server, size: int, rate: float, seconds: float, processes: int = 1
) -> dict[str, Any]:
    """(b) one room of `size` clients, ten of them sending."""
    layout = await lay_out(server, 1, size)
    room = layout.rooms[0]
    senders = [(index, room) for index in layout.members[room][:10]]
    with generators(target_of(server), layout, processes, senders) as fleet:
        load = Load(server, layout, fleet, senders)
        settled = await _in_thread(load.warm_up, rate, seconds)
        step = await _in_thread(load.measure, rate, seconds)
    return {
        "clients": fleet.clients,
        "generator_processes": processes,
        "connect_errors": fleet.connect_errors,
        "settle_seconds": settled,
        **step,
    }


async def _in_thread(fn: Any, *args: Any) -> Any:
    """The parent only waits on its workers: keep its own loop free meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
