"""Overload, after the fan-out found the highest sustained rate R: a burst at twice R,
then a normal rate, in one open-loop schedule on the fan-out's clients. Every send must
be answered (ok, or refused as overloaded) within ANSWER_WITHIN seconds, every ok one
delivered to every member of its room and no refused one to anyone; the step reports
how long after the burst the latency was back under RECOVERED_P99_MS at p99."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from ..load import Layout, percentiles
from ..workers import StepPlan, StepRaw

ANSWER_WITHIN = 10.0
RECOVERED_P99_MS = 50.0
# The latency has recovered from the first moment after the burst, in steps of this
# many seconds, from which on the deliveries' p99 (by send time) is under
# RECOVERED_P99_MS.
WINDOW_SECONDS = 0.5


def burst_plan(
    rate: float, burst_seconds: float, normal_rate: float, normal_seconds: float
) -> StepPlan:
    return StepPlan(
        2 * rate,
        burst_seconds,
        time.perf_counter() + 0.5,
        f"o{time.monotonic_ns()}",
        phases=((normal_rate, normal_seconds),),
        answer_within=ANSWER_WITHIN,
        timeline=True,
    )


def recovery_seconds(
    delivered: list[tuple[str, float, float]], burst_end: float, run_end: float
) -> float | None:
    """Seconds from the burst's end to the first window start (by send time) from which
    the p99 latency of every delivery sent until the run's end is under
    RECOVERED_P99_MS; None when it never got back under it."""
    after = sorted((sent_at, latency) for _, sent_at, latency in delivered if sent_at >= burst_end)
    windows = int((run_end - burst_end) / WINDOW_SECONDS)
    for n in range(windows):
        since = burst_end + n * WINDOW_SECONDS
        p99 = percentiles(latency for sent_at, latency in after if sent_at >= since)["p99"]
        if p99 is None:
            return None
        if p99 < RECOVERED_P99_MS:
            return round(n * WINDOW_SECONDS, 2)
    return None


def summarize_overload(layout: Layout, step: StepPlan, raws: list[StepRaw]) -> dict[str, Any]:
    answers = [a for raw in raws for a in raw.answers]
    delivered = [d for raw in raws for d in raw.delivered]
    deliveries = Counter(key for key, _, _ in delivered)
    codes = Counter(code for *_, seconds, code in answers if seconds is not None)
    in_time = [a for a in answers if a[3] is not None and a[3] <= ANSWER_WITHIN]
    ok = [a for a in answers if a[3] is not None and a[4] == ""]
    refused = [a for a in answers if a[3] is not None and a[4] == "overloaded"]
    undelivered = sum(
        1 for key, room_id, *_ in ok if deliveries[key] < len(layout.members[room_id])
    )
    burst_end = step.start_at + step.seconds
    run_end = step.start_at + step.total_seconds
    burst = [d[2] for d in delivered if d[1] < burst_end]
    after = [d[2] for d in delivered if d[1] >= burst_end]
    normal_rate = step.phases[0][0] if step.phases else None
    return {
        "rate": step.rate,
        "burst_seconds": step.seconds,
        "normal_rate": normal_rate,
        "normal_seconds": step.total_seconds - step.seconds,
        "sent": len(answers),
        "answered_within_10s": len(in_time),
        "unanswered": sum(1 for a in answers if a[3] is None),
        "ok": len(ok),
        "overloaded": len(refused),
        "other_errors": sum(n for code, n in codes.items() if code not in ("", "overloaded")),
        "ok_undelivered": undelivered,
        "refused_delivered": sum(1 for key, *_ in refused if deliveries[key]),
        "answer_ms": percentiles(a[3] for a in answers if a[3] is not None),
        "burst_latency_ms": percentiles(burst),
        "after_latency_ms": percentiles(after),
        "recovered_after_s": recovery_seconds(delivered, burst_end, run_end),
        "generator_lag_ms": percentiles(x for raw in raws for x in raw.lags),
    }


def all_answered(run: dict[str, Any]) -> bool:
    """Every send answered in time, every ok one delivered, no refused one delivered."""
    return bool(
        run["answered_within_10s"] == run["sent"]
        and run["ok_undelivered"] == 0
        and run["refused_delivered"] == 0
    )
