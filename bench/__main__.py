"""Runs the benchmark suite and writes bench/results/<timestamp>/.

python -m bench            # the full set (make bench): minutes
python -m bench --smoke    # every scenario tiny (make bench-smoke): seconds
python -m bench --only fanout,connections
python -m bench --only processes  # one process against `parley cluster` (PostgreSQL, Redis)
python -m bench --only persisted --servers parley --modes gevent --databases sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import report
from .plan import FULL, SMOKE, Plan
from .scenarios.fanout import OverloadPlan
from .servers import MODES, Server, baseline, parley, processes

RESULTS = Path(__file__).resolve().parent / "results"
# In the order they run on each server. Connections come last: on threading, 5,000
# sockets are about 20,000 threads, and once they all close together the process (Parley
# and the bare relay alike) spends minutes in lock and GIL contention, long enough to
# fail whatever scenario came next.
SCENARIO_MODULES = {
    "fanout": "fanout",
    "one_room": "fanout",
    "persisted": "persisted",
    "rest": "rest",
    "reconnect": "reconnect",
    "video": "video",
    "connections": "connections",
    # Its own servers (one process and a cluster, on PostgreSQL and Redis): run_processes.
    "processes": "processes",
}
SCENARIOS = tuple(SCENARIO_MODULES)


def raise_open_files_limit() -> None:
    """Thousands of sockets need thousands of descriptors, here and in the servers."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def servers_for(chosen: list[str]) -> list[tuple[str, str, str | None]]:
    """(kind, mode, database) of every server the chosen scenarios need; each starts once
    and serves all of its scenarios in turn."""
    wanted: list[tuple[str, str, str | None]] = [("parley", mode, None) for mode in MODES]
    wanted += [("baseline", mode, None) for mode in MODES]
    if "persisted" in chosen:
        wanted += [("parley", mode, "postgresql") for mode in MODES]
    return wanted


def applies(scenario: str, kind: str, mode: str, database: str | None) -> bool:
    if scenario == "processes":
        return False
    if database == "postgresql":
        return scenario == "persisted"
    if kind == "baseline":
        return scenario in ("fanout", "one_room", "connections") or (
            scenario == "persisted" and mode == "gevent"
        )
    return True


@contextlib.contextmanager
def server_for(
    kind: str, mode: str, plan: Plan, database_url: str | None = None
) -> Iterator[Server]:
    if kind == "baseline":
        with baseline(mode) as server:
            yield server
    else:
        with parley(mode, database_url, presence_grace=plan.presence_grace_seconds) as server:
            yield server


def runner(scenario: str, plan: Plan) -> Callable[[Server], Any]:
    """The scenario's coroutine for one server, at the plan's size."""
    module = importlib.import_module(f"bench.scenarios.{SCENARIO_MODULES[scenario]}")
    calls: dict[str, Callable[[Server], Any]] = {
        "fanout": lambda s: module.rooms_of_ten_repeated(
            s,
            plan.fanout_repeats,
            rooms=plan.rooms,
            per_room=plan.per_room,
            rates=plan.rates,
            seconds=plan.step_seconds,
            rise=plan.rise,
            processes=plan.generator_processes,
            overload=OverloadPlan(
                plan.overload_runs, plan.burst_seconds, plan.normal_share, plan.normal_seconds
            )
            if plan.overload_runs
            else None,
        ),
        "one_room": lambda s: one_room_sizes(s, plan),
        "connections": lambda s: module.open_sockets(
            s, plan.sockets, plan.socket_step, plan.socket_accounts
        ),
        "persisted": lambda s: module.persisted_sends(s, plan.senders, plan.persist_seconds),
        "rest": lambda s: module.rest_load(
            s, plan.rest_concurrency, plan.rest_seconds, plan.rest_messages
        ),
        "reconnect": lambda s: module.reconnect_storm(
            s, plan.storm_clients, plan.storm_rooms, plan.storm_messages
        ),
        "video": lambda s: module.video_viewers(s, plan.viewers, plan.video_seconds),
    }
    return calls[scenario]


async def one_room_sizes(server: Server, plan: Plan) -> dict[str, Any]:
    from .scenarios.fanout import one_room

    runs = []
    for n, size in enumerate(plan.room_sizes):
        if n:
            # The previous room's clients have left; their departures are not this room's.
            await asyncio.to_thread(server.wait_out_departures)
        rate = max(1.0, plan.one_room_deliveries / size)
        runs.append(await one_room(server, size, rate, plan.step_seconds, plan.generator_processes))
    return {"runs": runs}


def run_server(
    kind: str,
    mode: str,
    database: str | None,
    chosen: list[str],
    plan: Plan,
    log: Callable[[str], None],
) -> list[tuple[str, dict[str, Any]]]:
    """Starts one server and runs every chosen scenario that applies to it."""
    scenarios = [s for s in chosen if applies(s, kind, mode, database)]
    if not scenarios:
        return []
    found = []
    with contextlib.ExitStack() as stack:
        url = None
        if database == "postgresql":
            from .scenarios.persisted import fresh_postgres_url

            url = stack.enter_context(fresh_postgres_url())
        server = stack.enter_context(server_for(kind, mode, plan, url))
        for n, scenario in enumerate(scenarios):
            # The previous scenario's leftovers (a login storm's presence, its clients
            # going offline) are not this one's.
            if n:
                server.wait_out_departures()
            else:
                server.wait_until_idle()
            entry: dict[str, Any] = {
                "server": kind,
                "mode": mode,
                "database": server.database if kind == "parley" else None,
            }
            with recorded(entry, scenario, server.label, log):
                entry["figures"] = asyncio.run(runner(scenario, plan)(server))
                entry["rss_mb_after"] = round(server.rss_bytes() / 2**20, 1)
            found.append((scenario, entry))
    return found


def redis_url() -> str:
    """The Redis the processes share: PARLEY_BENCH_REDIS_URL, else the tests' database 15
    (each server gets a key and channel prefix of its own, removed afterwards)."""
    return os.environ.get("PARLEY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def process_setups(plan: Plan) -> list[tuple[int, bool]]:
    """(processes, with Redis) of each server the processes scenario runs, in order:
    the one process the cluster is compared with, the cluster, and (in a full run) the
    one process without Redis."""
    setups = [(1, True), (plan.cluster_processes, True)]
    if plan.without_queue:
        setups.append((1, False))
    return setups


@contextlib.contextmanager
def recorded(
    entry: dict[str, Any], scenario: str, name: str, log: Callable[[str], None]
) -> Iterator[list[str]]:
    """Runs a scenario's block into its entry: a failure is recorded (and the run goes
    on), the seconds it took are, and one line says how it went, under the server's
    name (the block may set a better one, once it knows the server, in the list it
    is given)."""
    label = [name]
    started = time.perf_counter()
    try:
        yield label
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["traceback"] = traceback.format_exc()
    entry["seconds"] = round(time.perf_counter() - started, 1)
    outcome = "FAILED " + entry["error"] if "error" in entry else "ok"
    log(f"  {scenario:12} {label[0]:28} {outcome} ({entry['seconds']} s)")


def run_processes(plan: Plan, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """The processes scenario (scenarios/processes.py) on each of its servers, each on a
    fresh PostgreSQL schema."""
    from .scenarios.persisted import fresh_postgres_url
    from .scenarios.processes import on_processes

    found = []
    for count, with_queue in process_setups(plan):
        entry: dict[str, Any] = {
            "server": "parley",
            "mode": "gevent",
            "database": "postgresql",
            "processes": count,
            "queue": "redis" if with_queue else None,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        name = f"parley ({count} processes, {'redis' if with_queue else 'no queue'})"
        with recorded(entry, "processes", name, log) as label, contextlib.ExitStack() as stack:
            url = stack.enter_context(fresh_postgres_url())
            server = stack.enter_context(
                processes(
                    count,
                    url,
                    redis_url() if with_queue else None,
                    presence_grace=plan.presence_grace_seconds,
                )
            )
            label[0] = server.label
            server.wait_until_idle()
            entry["figures"] = asyncio.run(on_processes(server, plan))
            entry["rss_mb_after"] = round(server.rss_bytes() / 2**20, 1)
        found.append(entry)
    return found


def picked(choice: str | None, value: str) -> bool:
    return choice is None or value in choice.split(",")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every scenario, tiny")
    parser.add_argument("--only", help=f"comma-separated: {', '.join(SCENARIOS)}")
    parser.add_argument("--servers", help="comma-separated: parley, baseline (default both)")
    parser.add_argument("--modes", help=f"comma-separated: {', '.join(MODES)} (default all)")
    parser.add_argument("--databases", help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument(
        "--rates",
        help="fan-out rates to run (the processes scenario's too), comma-separated msg/s "
        "(no rising steps)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="run the fan-out this many times on each server and take the median",
    )
    parser.add_argument(
        "--overload-runs",
        type=int,
        help="runs of the overload step after the fan-out on Parley (0: none)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where result folders go")
    args = parser.parse_args()
    plan = SMOKE if args.smoke else FULL
    if args.rates:
        rates = [float(r) for r in args.rates.split(",")]
        plan = replace(plan, rates=rates, process_rates=tuple(rates), rise=False)
    if args.repeat is not None:
        if args.repeat < 1:
            parser.error("--repeat takes a count of at least 1")
        plan = replace(plan, fanout_repeats=args.repeat)
    if args.overload_runs is not None:
        plan = replace(plan, overload_runs=max(0, args.overload_runs))
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    raise_open_files_limit()
    # A client closing its own socket makes python-engineio log an error; it is not one.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = args.out / (stamp + ("-smoke" if args.smoke else ""))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"bench: {'smoke' if args.smoke else 'full'} run into {folder}", flush=True)
    results: dict[str, Any] = {
        "started_at": stamp,
        "smoke": args.smoke,
        "plan": plan.as_dict(),
        "machine": report.machine(),
    }
    results["scenarios"] = {scenario: [] for scenario in chosen}
    for kind, mode, database in servers_for(chosen):
        if not picked(args.servers, kind) or not picked(args.modes, mode):
            continue
        if not picked(args.databases, database or "sqlite"):
            continue
        for scenario, entry in run_server(
            kind, mode, database, chosen, plan, lambda line: print(line, flush=True)
        ):
            results["scenarios"][scenario].append(entry)
        # Written after each server, so a long run cut short still leaves its figures.
        report.write(folder, results)
    if (
        "processes" in chosen
        and picked(args.servers, "parley")
        and picked(args.modes, "gevent")
        and picked(args.databases, "postgresql")
    ):
        results["scenarios"]["processes"] = run_processes(
            plan, lambda line: print(line, flush=True)
        )
        report.write(folder, results)
    print(f"bench: wrote {folder}/results.json, summary.md and charts", flush=True)
    if failed := report.failures(results):
        print("bench: failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
