"""results.json, summary.md (figures as ratios to the baseline of the same run, with the
absolute figures and the machine) and charts."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "flask",
    "flask-socketio",
    "python-socketio",
    "python-engineio",
    "gevent",
    "gunicorn",
    "werkzeug",
    "sqlalchemy",
    "aiohttp",
)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        memory_kb = 0
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "git_commit": commit,
        "versions": versions,
        # The machine is shared: what else ran on it when the run started.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write(folder: Path, results: dict[str, Any]) -> None:
    (folder / "results.json").write_text(json.dumps(results, indent=2, default=str))
    charts = draw_charts(folder, results)
    (folder / "summary.md").write_text(summary(results, charts))


def entries(results: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    return [e for e in results["scenarios"].get(scenario, []) if "figures" in e]


def failures(results: dict[str, Any]) -> list[str]:
    """'<scenario> on <server>: <error>' for every scenario run that failed."""
    return [
        f"{name} on {label(e)}: {e['error']}"
        for name, found in results["scenarios"].items()
        for e in found
        if "error" in e
    ]


def label(entry: dict[str, Any]) -> str:
    if "processes" in entry:
        count = entry["processes"]
        queue = f", {entry['queue']}" if entry.get("queue") else ""
        return (
            f"{entry['server']} ({count} process{'es' if count > 1 else ''}, "
            f"{entry['mode']}, {entry['database']}{queue})"
        )
    database = f", {entry['database']}" if entry.get("database") else ""
    return f"{entry['server']} ({entry['mode']}{database})"


def find(results: dict[str, Any], scenario: str, server: str, mode: str) -> dict[str, Any] | None:
    for entry in entries(results, scenario):
        if entry["server"] == server and entry["mode"] == mode:
            return entry
    return None


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "n/a"
    return f"{a / b:.2f}"


def step_at(entry: dict[str, Any] | None, rate: float) -> dict[str, Any] | None:
    if entry is None:
        return None
    steps: list[dict[str, Any]] = entry["figures"]["steps"]
    for step in steps:
        if step["rate"] == rate:
            return step
    return None


def fmt(value: Any) -> str:
    return "n/a" if value is None else str(value)


def summary(results: dict[str, Any], charts: list[str]) -> str:
    m = results["machine"]
    lines = [
        f"# Benchmark results ({'smoke' if results['smoke'] else 'full'} run, "
        f"{results['started_at']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GiB, {m['os']}, "
        f"Python {m['python']}; git {m['git_commit'][:12]}. The load generator runs on the "
        "same machine as the server."
        + (
            " Load average (1, 5, 15 min) when the run started: "
            + ", ".join(f"{x:g}" for x in m["load_average"])
            + "."
            if m.get("load_average")
            else ""
        ),
        "",
    ]
    lines += fanout_section(results)
    lines += overload_section(results)
    lines += one_room_section(results)
    lines += connections_section(results)
    lines += other_sections(results)
    lines += video_section(results)
    lines += cpu_per_message_section(results)
    lines += processes_section(results)
    if not results["smoke"]:
        lines += targets_section(results)
        lines += issue17_section(results)
        lines += issue18_section(results)
    if failed := failures(results):
        lines += ["## Failures", "", *(f"- {line}" for line in failed), ""]
    if charts:
        lines += ["## Charts", "", *(f"![{c}]({c})" for c in charts), ""]
    return "\n".join(lines)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> list[str]:
    """A markdown section holding one table; nothing when there are no rows."""
    if not rows:
        return []
    return [
        f"## {title}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
        "",
    ]


def sustained_rates(results: dict[str, Any], mode: str) -> tuple[Any, Any] | None:
    """Parley's and the baseline's highest sustained fan-out rates in that mode."""
    ours = find(results, "fanout", "parley", mode)
    base = find(results, "fanout", "baseline", mode)
    if not ours or not base:
        return None
    return ours["figures"]["max_sustained_rate"], base["figures"]["max_sustained_rate"]


def runs_of(results: dict[str, Any], server: str, mode: str) -> str:
    """For a repeated fan-out, the rate of each run its median was taken from."""
    entry = find(results, "fanout", server, mode)
    rates = entry["figures"].get("max_sustained_rates") if entry else None
    if not rates:
        return ""
    return f" (median of {len(rates)} runs: {', '.join(f'{r:g}' for r in rates)})"


# Cores used during a step: the server's, the load generators' and the hypervisor's steal
# (the machine's share given to other tenants), which shows when a run was disturbed.
CPU_COLUMNS = ("server CPU", "generators CPU", "steal")


def cpu_columns(step: dict[str, Any]) -> list[str]:
    return [
        fmt(step.get("server_cpu_s_per_s")),
        fmt(step.get("generator_cpu_s_per_s")),
        fmt(step.get("steal_s_per_s")),
    ]


STEP_COLUMNS = [
    "server",
    "rate msg/s",
    "deliveries/s",
    "latency p50 / p95 / p99 ms",
    "ack p50 / p99 ms",
    "lost",
    *CPU_COLUMNS,
    "sustained",
]


def step_row(name: str, step: dict[str, Any]) -> list[Any]:
    """One fan-out step as a row under STEP_COLUMNS."""
    lat, ack = step["latency_ms"], step["ack_ms"]
    return [
        name,
        f"{step['rate']:g}",
        step["deliveries_per_s"],
        f"{fmt(lat['p50'])} / {fmt(lat['p95'])} / {fmt(lat['p99'])}",
        f"{fmt(ack['p50'])} / {fmt(ack['p99'])}",
        step["lost"],
        *cpu_columns(step),
        "yes" if step["sustained"] else "no",
    ]


def fanout_section(results: dict[str, Any]) -> list[str]:
    rows = [
        step_row(label(entry), step)
        for entry in entries(results, "fanout")
        for step in entry["figures"]["steps"]
    ]
    lines = table("Fan-out, open loop (rooms of 10, one sender per room)", STEP_COLUMNS, rows)
    if not lines:
        return []
    lines += [
        "Highest sustained rate (nothing lost, p99 < 100 ms), as a ratio to the baseline:",
        "",
    ]
    for mode in ("gevent", "threading"):
        if pair := sustained_rates(results, mode):
            a, b = pair
            lines.append(
                f"- {mode}: Parley {a} msg/s{runs_of(results, 'parley', mode)}, "
                f"baseline {b} msg/s{runs_of(results, 'baseline', mode)}, ratio {ratio(a, b)}"
            )
    lines.append("")
    return lines


def overload_section(results: dict[str, Any]) -> list[str]:
    """The overload step after the fan-out, one row a run, and whether the runs met
    issue 17's targets: every send answered within 10 s, every ok one delivered, p99
    back under 50 ms within 5 s of the burst's end."""
    rows = []
    met = []
    for entry in entries(results, "fanout"):
        for n, run in enumerate(entry["figures"].get("overload", []), start=1):
            recovered = run["recovered_after_s"]
            answered = run["answered_within_10s"] == run["sent"]
            delivered = run["ok_undelivered"] == 0 and run["refused_delivered"] == 0
            met.append(answered and delivered and recovered is not None and recovered <= 5)
            rows.append(
                [
                    label(entry),
                    n,
                    f"{run['rate']:g} for {run['burst_seconds']:g} s, "
                    f"then {run['normal_rate']:g} for {run['normal_seconds']:g} s",
                    f"{run['answered_within_10s']} / {run['sent']}",
                    f"{run['ok']} / {run['overloaded']} / {run['other_errors']}",
                    f"{run['ok_undelivered']} / {run['refused_delivered']}",
                    f"{fmt(run['answer_ms']['p50'])} / {fmt(run['answer_ms']['max'])}",
                    fmt(run["burst_latency_ms"]["p99"]),
                    fmt(recovered),
                    fmt(run["generator_lag_ms"]["p99"]),
                ]
            )
    columns = ["server", "run", "burst, then normal (msg/s)", "answered ≤ 10 s / sent"]
    columns += ["ok / overloaded / other errors", "ok undelivered / refused delivered"]
    columns += ["answer p50 / max ms", "burst p99 ms", "p99 < 50 ms after s"]
    columns += ["generator lag p99 ms"]
    lines = table("Overload (twice the highest sustained rate, then a normal rate)", columns, rows)
    if lines:
        verdict = "yes" if all(met) else "no"
        lines += [
            f"All runs answered every send, delivered every ok one and recovered "
            f"within 5 s: {verdict} ({sum(met)} of {len(met)} runs).",
            "",
        ]
    return lines


def one_room_section(results: dict[str, Any]) -> list[str]:
    rows = [
        [
            label(entry),
            run["clients"],
            f"{run['rate']:g}",
            run["deliveries_per_s"],
            f"{fmt(run['latency_ms']['p50'])} / {fmt(run['latency_ms']['p99'])}",
            fmt(run["ack_ms"]["p50"]),
            run["lost"],
            run["send_errors"],
            *cpu_columns(run),
            fmt(run.get("settle_seconds")),
        ]
        for entry in entries(results, "one_room")
        for run in entry["figures"]["runs"]
    ]
    columns = ["server", "clients", "rate msg/s", "deliveries/s", "latency p50 / p99 ms"]
    columns += ["ack p50 ms", "lost", "send errors", *CPU_COLUMNS, "settled after s"]
    return table("Fan-out in one room", columns, rows)


def connections_section(results: dict[str, Any]) -> list[str]:
    rows = [
        [
            label(entry),
            f"{f['opened']} / {f['asked']}",
            f["errors"],
            f"{f['rss_start_mb']} → {f['rss_end_mb']}",
            f["rss_per_socket_kb"],
        ]
        for entry in entries(results, "connections")
        for f in [entry["figures"]]
    ]
    columns = ["server", "opened / asked", "errors", "RSS start → end MB", "RSS per socket KB"]
    return table("Connections", columns, rows)


def other_sections(results: dict[str, Any]) -> list[str]:
    """Persisted sends, REST, reconnect storm and video: their headline figures."""
    titles = {
        "persisted": "Persisted sends (closed loop, ack after commit)",
        "rest": "REST",
        "reconnect": "Reconnect storm",
    }
    lines: list[str] = []
    for scenario, title in titles.items():
        found = entries(results, scenario)
        if not found:
            continue
        lines += [f"## {title}", ""]
        for entry in found:
            headline = {k: v for k, v in entry["figures"].items() if not isinstance(v, list | dict)}
            nested = {k: v for k, v in entry["figures"].items() if isinstance(v, dict)}
            lines.append(f"- {label(entry)}: " + ", ".join(f"{k} {v}" for k, v in headline.items()))
            for key, value in nested.items():
                lines.append(f"  - {key}: {json.dumps(value, default=str)}")
        lines.append("")
    return lines


def video_section(results: dict[str, Any]) -> list[str]:
    rows = [
        [
            label(entry),
            step["viewers"],
            f"{fmt(step.get('fps_min'))} / {fmt(step.get('fps_p50'))}",
            fmt(step.get("broadcaster_fps")),
            fmt(step.get("server_cpu_s_per_s_per_viewer")),
        ]
        for entry in entries(results, "video")
        for step in entry["figures"].get("steps", [])
        if step.get("viewers")
    ]
    columns = ["server", "viewers", "fps min / p50", "broadcaster fps"]
    columns += ["server CPU per viewer (cores)"]
    return table("Video (640x480 JPEG at 15 fps, viewers on live.mjpg)", columns, rows)


def targets_section(results: dict[str, Any]) -> list[str]:
    """Issue 7's targets, each with the figure measured in this run."""
    rows = []
    for mode in ("gevent", "threading"):
        if pair := sustained_rates(results, mode):
            a, b = pair
            met = bool(b) and a >= 0.7 * b
            rows.append(
                (
                    f"highest sustained rate ≥ 70% of baseline ({mode})",
                    f"{a} / {b} = {ratio(a, b)}",
                    met,
                )
            )
        step = step_at(find(results, "fanout", "parley", mode), 500)
        if step:
            p99, ack = step["latency_ms"]["p99"], step["ack_ms"]["p50"]
            rows.append(
                (
                    f"p99 at 500 msg/s ≤ 50 ms ({mode})",
                    f"{fmt(p99)} ms",
                    p99 is not None and p99 <= 50 and step["lost"] == 0,
                )
            )
            rows.append(
                (
                    f"ack p50 at 500 msg/s ≤ 10 ms ({mode})",
                    f"{fmt(ack)} ms",
                    ack is not None and ack <= 10,
                )
            )
    conn = find(results, "connections", "parley", "gevent")
    if conn:
        f = conn["figures"]
        rows.append(
            (
                "5,000 sockets, RSS ≤ 600 MB (gevent)",
                f"{f['opened']} sockets, {f['rss_end_mb']} MB",
                f["opened"] >= 5000 and f["rss_end_mb"] <= 600,
            )
        )
    for entry in entries(results, "persisted"):
        if entry["server"] == "parley" and entry.get("database") == "sqlite":
            rate = entry["figures"].get("committed_per_s")
            rows.append(
                (
                    f"≥ 1,000 persisted sends/s on SQLite ({entry['mode']})",
                    f"{fmt(rate)}/s",
                    rate is not None and rate >= 1000,
                )
            )
    for entry in entries(results, "video"):
        for run in entry["figures"].get("steps", []):
            if run.get("viewers") == 50:
                low = run.get("fps_min")
                rows.append(
                    (
                        f"50 viewers each ≥ 14 of 15 fps ({entry['mode']})",
                        f"min {fmt(low)} fps",
                        low is not None and low >= 14,
                    )
                )
    return table(
        "Targets (issue 7)",
        ["target", "measured", "met"],
        [[name, value, "yes" if met else "no"] for name, value, met in rows],
    )


# Issue 17's bounds for the send path, against the relay measured in the same run.
ISSUE17_RATE = 500.0
ISSUE17_CPU_RATIO = 1.3
ISSUE17_P99_MS = 50.0
ISSUE17_ACK_P50_MS = 10.0
ISSUE17_SUSTAINED_SHARE = 0.8


def cpu_ms_per_message(entry: dict[str, Any] | None, rate: float) -> float | None:
    """The server's CPU per message sent (ms) at that rate: the median over every
    sustained step at that rate, in every repeated run. The server's own CPU time is the
    steadiest figure on a shared machine; a rate given twice (`--rates 500,500`) is
    measured twice. A step that fell behind left part of its work for after the step,
    so its CPU says nothing of a message's cost."""
    if entry is None:
        return None
    figures = entry["figures"]
    runs = [figures["steps"], *figures.get("repeated_steps", [])]
    found = [
        1000 * step["server_cpu_s_per_s"] / rate
        for steps in runs
        for step in steps
        if step["rate"] == rate and step["sustained"] and step.get("server_cpu_s_per_s") is not None
    ]
    return round(statistics.median(found), 3) if found else None


def cpu_per_message_section(results: dict[str, Any]) -> list[str]:
    """Parley's CPU per message against the relay's, at each rate both were measured at."""
    rows = []
    for mode in ("gevent", "threading"):
        ours = find(results, "fanout", "parley", mode)
        base = find(results, "fanout", "baseline", mode)
        if ours is None or base is None:
            continue
        rates = sorted({s["rate"] for s in ours["figures"]["steps"]})
        for rate in rates:
            a, b = cpu_ms_per_message(ours, rate), cpu_ms_per_message(base, rate)
            if a is not None and b is not None:
                rows.append([mode, f"{rate:g}", f"{a:.3g}", f"{b:.3g}", ratio(a, b)])
    return table(
        "Server CPU per message (ms of CPU per message sent, ten deliveries and an ack)",
        ["mode", "rate msg/s", "Parley", "baseline", "ratio"],
        rows,
    )


def issue17_targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, figure measured, met) for the send path's targets on gevent."""
    mode = "gevent"
    ours = find(results, "fanout", "parley", mode)
    base = find(results, "fanout", "baseline", mode)
    rows: list[tuple[str, str, bool]] = []
    a, b = cpu_ms_per_message(ours, ISSUE17_RATE), cpu_ms_per_message(base, ISSUE17_RATE)
    if a is not None and b is not None:
        rows.append(
            (
                f"server CPU per message at {ISSUE17_RATE:g} msg/s ≤ "
                f"{ISSUE17_CPU_RATIO:g} times the relay's ({mode})",
                f"{a:.3g} vs {b:.3g} ms = {ratio(a, b)}",
                bool(b) and a <= ISSUE17_CPU_RATIO * b,
            )
        )
    if step := step_at(ours, ISSUE17_RATE):
        p99, ack = step["latency_ms"]["p99"], step["ack_ms"]["p50"]
        rows.append(
            (
                f"p99 at {ISSUE17_RATE:g} msg/s ≤ {ISSUE17_P99_MS:g} ms ({mode})",
                f"{fmt(p99)} ms",
                p99 is not None and p99 <= ISSUE17_P99_MS and step["lost"] == 0,
            )
        )
        rows.append(
            (
                f"ack p50 at {ISSUE17_RATE:g} msg/s ≤ {ISSUE17_ACK_P50_MS:g} ms ({mode})",
                f"{fmt(ack)} ms",
                ack is not None and ack <= ISSUE17_ACK_P50_MS,
            )
        )
    if pair := sustained_rates(results, mode):
        rate, relay = pair
        rows.append(
            (
                f"highest sustained rate ≥ {ISSUE17_SUSTAINED_SHARE:.0%} of the relay's ({mode})",
                f"{rate:g} / {relay:g} = {ratio(rate, relay)}",
                bool(relay) and rate >= ISSUE17_SUSTAINED_SHARE * relay,
            )
        )
    return rows


def issue17_section(results: dict[str, Any]) -> list[str]:
    rows = [[name, value, "yes" if met else "no"] for name, value, met in issue17_targets(results)]
    return table("Targets (issue 17)", ["target", "measured", "met"], rows)


# Issue 18's bounds for many processes, against one process measured in the same run.
ISSUE18_CPU_RATIO = 1.25


def process_entries(
    results: dict[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """The processes scenario's servers: one process with Redis (what the cluster is
    compared with), the cluster, and one process without a message queue."""
    one = many = alone = None
    for entry in entries(results, "processes"):
        if entry["processes"] > 1:
            many = entry
        elif entry.get("queue"):
            one = entry
        else:
            alone = entry
    return one, many, alone


def common_cpu_rates(a: dict[str, Any], b: dict[str, Any]) -> list[float]:
    """The rates at which both servers have a CPU per message (a sustained step)."""
    rates = sorted(
        {s["rate"] for s in a["figures"]["steps"]} & {s["rate"] for s in b["figures"]["steps"]}
    )
    return [
        r
        for r in rates
        if cpu_ms_per_message(a, r) is not None and cpu_ms_per_message(b, r) is not None
    ]


def processes_section(results: dict[str, Any]) -> list[str]:
    """Every step on each server of the processes scenario, the Nginx step, and the
    cluster's highest sustained rate and CPU per message as ratios to one process's."""
    found = entries(results, "processes")
    if not found:
        return []
    rows = [step_row(label(e), step) for e in found for step in e["figures"]["steps"]]
    lines = table(
        "Processes: the fan-out on one process and on a cluster "
        "(PostgreSQL and Redis; clients straight to the processes)",
        STEP_COLUMNS,
        rows,
    )
    lines += [
        "Server CPU is every Parley process's together (gunicorn masters and workers), "
        "not Nginx's. All the load generator's clients come from 127.0.0.1, and Nginx "
        "balances by a hash of the client's address, so through Nginx they would all land "
        "on one process: these clients connect straight to the processes, every room with "
        "members on each and the senders taking turns.",
        "",
    ]
    nginx_rows = []
    for entry in found:
        if step := entry["figures"].get("nginx"):
            lat = step["latency_ms"]
            nginx_rows.append(
                [
                    label(entry),
                    f"{step['through_nginx']} of {step['clients']}",
                    f"{step['rate']:g}",
                    f"{fmt(lat['p50'])} / {fmt(lat['p99'])}",
                    step["lost"],
                    fmt(step.get("server_cpu_s_per_s")),
                    fmt(step.get("nginx_cpu_s_per_s")),
                    "yes" if step["sustained"] else "no",
                ]
            )
    columns = ["server", "clients through Nginx", "rate msg/s", "latency p50 / p99 ms", "lost"]
    columns += ["server CPU", "Nginx CPU", "sustained"]
    lines += table("Processes: through Nginx", columns, nginx_rows)
    one, many, alone = process_entries(results)
    if one is None:
        return lines
    summary_rows = []
    for compared in (many, alone):
        if compared is None:
            continue
        a, b = compared["figures"]["max_sustained_rate"], one["figures"]["max_sustained_rate"]
        summary_rows.append(
            [label(compared), "highest sustained rate msg/s", f"{a:g}", f"{b:g}", ratio(a, b)]
        )
        for rate in common_cpu_rates(compared, one):
            x, y = cpu_ms_per_message(compared, rate), cpu_ms_per_message(one, rate)
            summary_rows.append(
                [
                    label(compared),
                    f"CPU ms per message at {rate:g} msg/s",
                    f"{x:.3g}",
                    f"{y:.3g}",
                    ratio(x, y),
                ]
            )
    lines += table(
        f"Processes against {label(one)}",
        ["server", "figure", "this server", "one process", "ratio"],
        summary_rows,
    )
    return lines


def issue18_targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, figure measured, met) for many processes against one, same run."""
    one, many, _ = process_entries(results)
    if one is None or many is None:
        return []
    n = many["processes"]
    rows: list[tuple[str, str, bool]] = []
    rates = common_cpu_rates(many, one)
    if rates:
        rate = rates[-1]
        a, b = cpu_ms_per_message(many, rate), cpu_ms_per_message(one, rate)
        assert a is not None and b is not None
        cpu = (
            f"{a:.3g} vs {b:.3g} ms at {rate:g} msg/s = {ratio(a, b)}",
            a <= ISSUE18_CPU_RATIO * b,
        )
    else:
        cpu = ("no rate sustained by both", False)
    rows.append(
        (
            f"server CPU per message, {n} processes together ≤ {ISSUE18_CPU_RATIO:g} times "
            "one process's (the highest rate both sustained)",
            *cpu,
        )
    )
    a, b = many["figures"]["max_sustained_rate"], one["figures"]["max_sustained_rate"]
    rows.append(
        (
            f"highest sustained rate of {n} processes ≥ one process's",
            f"{a:g} / {b:g} = {ratio(a, b)}",
            bool(a) and a >= b,
        )
    )
    if step := many["figures"].get("nginx"):
        rows.append(
            (
                f"through Nginx: nothing lost, p99 < 100 ms at {step['rate']:g} msg/s",
                f"{step['lost']} lost, p99 {fmt(step['latency_ms']['p99'])} ms",
                bool(step["sustained"]),
            )
        )
    return rows


def issue18_section(results: dict[str, Any]) -> list[str]:
    rows = [[name, value, "yes" if met else "no"] for name, value, met in issue18_targets(results)]
    return table("Targets (issue 18)", ["target", "measured", "met"], rows)


Series = list[tuple[str, list[float], list[float]]]


def series(
    results: dict[str, Any], scenario: str, points: str, x: str, y: Callable[[dict[str, Any]], Any]
) -> Series:
    """(server, xs, ys) for each server a scenario ran on, from one list of its figures."""
    return [
        (label(e), [p[x] for p in e["figures"][points]], [y(p) or 0 for p in e["figures"][points]])
        for e in entries(results, scenario)
    ]


def draw_charts(folder: Path, results: dict[str, Any]) -> list[str]:
    charts: list[tuple[str, Series, dict[str, Any], float | None]] = [
        (
            "latency.png",
            series(results, "fanout", "steps", "rate", lambda p: p["latency_ms"]["p99"]),
            {
                "xlabel": "messages/s (500 clients, 50 rooms)",
                "ylabel": "p99 send→receive (ms)",
                "yscale": "log",
                "title": "Latency against load",
            },
            100.0,
        ),
        (
            "deliveries.png",
            series(results, "one_room", "runs", "clients", lambda p: p["deliveries_per_s"]),
            {
                "xlabel": "clients in one room",
                "ylabel": "deliveries/s",
                "title": "Deliveries against clients",
            },
            None,
        ),
        (
            "memory.png",
            series(results, "connections", "curve", "sockets", lambda p: p["rss_mb"]),
            {
                "xlabel": "open sockets",
                "ylabel": "server RSS (MB)",
                "title": "Memory against sockets",
            },
            None,
        ),
    ]
    return [
        name
        for name, found, axes, line in charts
        if found and draw_chart(folder / name, found, axes, line)
    ]


def draw_chart(path: Path, series: Series, axes: dict[str, Any], line: float | None) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, xs, ys in series:
        ax.plot(xs, ys, marker="o", label=name)
    ax.set(**axes)
    if line is not None:
        ax.axhline(line, color="grey", linestyle=":")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
