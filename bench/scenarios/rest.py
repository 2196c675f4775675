"""REST under concurrency: (a) history pages of 50 at random `before` cursors, (b) posts.

Each worker is closed loop (one request in flight at a time), so `concurrency` is the
number of requests the server holds at once. Parley only: the baseline has no REST."""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..load import Account, Rest, gather_limited, lay_out, percentiles
from ..servers import Server

PAGE = 50
SETUP_POSTERS = 10  # concurrent posters filling the room before the measurements

# One request of a worker: answers (ok, error label or None).
Request = Callable[[int], Awaitable[tuple[bool, str | None]]]


async def _closed_loop(workers: int, seconds: float, request: Request) -> dict[str, Any]:
    """`workers` loops each sending `request(worker)` back to back for `seconds`."""
    latencies: list[float] = []
    errors: dict[str, int] = {}

    async def worker(number: int, end: float) -> float:
        while time.perf_counter() < end:
            sent = time.perf_counter()
            try:
                ok, label = await request(number)
            except Exception as exc:  # counted, not fatal: the load goes on
                ok, label = False, type(exc).__name__
            latencies.append(time.perf_counter() - sent)
            if not ok:
                errors[label or "?"] = errors.get(label or "?", 0) + 1
        return time.perf_counter()

    start = time.perf_counter()
    stops = await asyncio.gather(*(worker(n, start + seconds) for n in range(workers)))
    elapsed = max(stops) - start
    failed = sum(errors.values())
    return {
        "requests": len(latencies),
        "ok": len(latencies) - failed,
        "errors": errors,
        "seconds": round(elapsed, 3),
        "per_s": round((len(latencies) - failed) / elapsed, 1),
        "latency_ms": percentiles(latencies),
    }


async def rest_load(
    server: Server, concurrency: int = 20, seconds: float = 10, messages: int = 500
) -> dict[str, Any]:
    """A room of `messages` messages, then `concurrency` workers reading history pages
    for `seconds`, then `concurrency` workers (each its own member) posting for `seconds`.
    Rest's connection pool holds 100 connections: keep `concurrency` at or under that."""
    assert server.kind == "parley", "the baseline has no REST API"
    layout = await lay_out(server, 1, max(concurrency, 2))
    room = layout.rooms[0]
    members: list[Account] = [layout.accounts[i] for i in layout.members[room]]
    rest = Rest(server)
    try:
        setup_start = time.perf_counter()

        async def post(number: int, tag: str) -> int:
            status, body = await rest.call(
                "POST",
                f"/rooms/{room}/messages",
                members[number % len(members)].token,
                {"body": f"{tag} message {number}", "client_id": f"{tag}-{number}"},
            )
            assert status == 201, (status, body)
            return int(body["id"])

        ids = await gather_limited((post(n, "setup") for n in range(messages)), limit=SETUP_POSTERS)
        setup_seconds = time.perf_counter() - setup_start
        ids.sort()
        low, high = ids[0], ids[-1]
        rng = random.Random(7)
        reader = members[0].token
        cpu_before = server.cpu_seconds()

        async def page(_worker: int) -> tuple[bool, str | None]:
            before = rng.randint(low + 1, high + 1)
            status, body = await rest.call(
                "GET", f"/rooms/{room}/messages?before={before}&limit={PAGE}", reader
            )
            if status != 200:
                return False, f"http_{status}"
            expected = min(PAGE, bisect.bisect_left(ids, before))
            if len(body["messages"]) != expected:
                return False, "short_page"
            return True, None

        history = await _closed_loop(concurrency, seconds, page)
        history["server_cpu_s_per_s"] = round(
            (server.cpu_seconds() - cpu_before) / history["seconds"], 3
        )

        counters = [0] * concurrency
        cpu_before = server.cpu_seconds()

        async def send(worker: int) -> tuple[bool, str | None]:
            counters[worker] += 1
            status, _ = await rest.call(
                "POST",
                f"/rooms/{room}/messages",
                members[worker % len(members)].token,
                {"body": f"load {worker} {counters[worker]}"},
            )
            return (True, None) if status == 201 else (False, f"http_{status}")

        posts = await _closed_loop(concurrency, seconds, send)
        posts["server_cpu_s_per_s"] = round(
            (server.cpu_seconds() - cpu_before) / posts["seconds"], 3
        )
    finally:
        await rest.close()
    return {
        "concurrency": concurrency,
        "messages_in_room": messages,
        "setup_posts_per_s": round(messages / setup_seconds, 1) if setup_seconds else None,
        "history": history,
        "posts": posts,
    }
