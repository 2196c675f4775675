"""Fan-out, open loop: sends are scheduled by the clock, not by the previous ack, so a
server that stalls shows it in the latency instead of slowing the load down."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import socketio

from ..load import Client, Fleet, Layout, lay_out, percentiles
from ..servers import Server

# A run counts as sustained when nothing was lost, p99 stayed under this, and the
# generator itself kept to its schedule.
SUSTAINED_P99_MS = 100.0
MAX_LAG_MS = 50.0


@dataclass
class Step:
    rate: float  # messages per second, all senders together
    seconds: float


async def measure(
    server: Server, layout: Layout, fleet: Fleet, senders: list[tuple[Client, int]], step: Step
) -> dict[str, Any]:
    """Sends `step.rate` messages a second for `step.seconds` from the senders (each in
    its room), and measures every delivery to every member."""
    latencies: list[float] = []
    acks: list[float] = []
    lags: list[float] = []
    send_errors: list[str] = []
    tag = f"{time.monotonic_ns()}"

    def received(client: Client, data: dict[str, Any]) -> None:
        body = data["message"]["body"]
        if body.startswith(tag):
            latencies.append(time.perf_counter() - float(body[len(tag) + 1 :]))

    fleet.on_message = received
    interval = len(senders) / step.rate
    count = max(1, int(step.rate * step.seconds))
    loop = asyncio.get_running_loop()
    start = time.perf_counter() + 0.1
    pending: set[asyncio.Future[Any]] = set()
    expected = 0
    for k in range(count):
        client, room_id = senders[k % len(senders)]
        due = start + (k // len(senders)) * interval + (k % len(senders)) * interval / len(senders)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter()
        lags.append(max(0.0, now - due))
        done = loop.create_future()
        pending.add(done)

        def acked(*_ack: Any, sent: float = now, done: asyncio.Future[Any] = done) -> None:
            acks.append(time.perf_counter() - sent)
            if not done.done():
                done.set_result(None)

        try:
            await client.sio.emit(
                "message:send",
                {"room_id": room_id, "body": f"{tag} {now:.6f}", "client_id": f"{tag}-{k}"},
                callback=acked,
            )
        except socketio.exceptions.SocketIOError as exc:
            # The server dropped this sender (it missed pings under load): a failed send.
            send_errors.append(type(exc).__name__)
            done.set_result(None)
            continue
        expected += len(layout.members[room_id])
    send_seconds = time.perf_counter() - start
    deadline = time.perf_counter() + 5
    while len(latencies) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.wait(pending, timeout=max(0.1, deadline - time.perf_counter()))
    fleet.on_message = None
    latency = percentiles(latencies)
    lag = percentiles(lags)
    lost = expected - len(latencies)
    return {
        "rate": step.rate,
        "sent": count,
        "acked": len(acks),
        "send_errors": len(send_errors),
        "expected_deliveries": expected,
        "deliveries": len(latencies),
        "lost": lost,
        "deliveries_per_s": round(len(latencies) / send_seconds, 1),
        "latency_ms": latency,
        "ack_ms": percentiles(acks),
        "generator_lag_ms": lag,
        "sustained": lost == 0
        and not send_errors
        and len(acks) == count
        and (latency["p99"] or 0) < SUSTAINED_P99_MS
        and (lag["p99"] or 0) < MAX_LAG_MS,
    }


async def rooms_of_ten(
    server: Server, rooms: int, per_room: int, rates: list[float], seconds: float, rise: bool
) -> dict[str, Any]:
    """(a) `rooms` rooms of `per_room`, one sender per room, at each rate; then, when
    `rise`, 1.5 times faster each step until a step is not sustained."""
    layout = await lay_out(server, rooms, per_room)
    fleet = Fleet(server)
    await fleet.connect(layout)
    try:
        by_index = {c.index: c for c in fleet.clients}
        senders = [(by_index[members[0]], room) for room, members in layout.members.items()]
        steps = []
        for rate in rates:
            steps.append(await measure(server, layout, fleet, senders, Step(rate, seconds)))
        rate = rates[-1]
        while rise and steps[-1]["sustained"] and rate < 20_000:
            rate = round(rate * 1.5)
            steps.append(await measure(server, layout, fleet, senders, Step(rate, seconds)))
        sustained = [s["rate"] for s in steps if s["sustained"]]
        return {
            "clients": len(fleet.clients),
            "connect_errors": fleet.errors[:5],
            "steps": steps,
            "max_sustained_rate": max(sustained) if sustained else 0,
        }
    finally:
        await fleet.close()


async def one_room(server: Server, size: int, rate: float, seconds: float) -> dict[str, Any]:
    """(b) one room of `size` clients, ten of them sending."""
    layout = await lay_out(server, 1, size)
    fleet = Fleet(server)
    await fleet.connect(layout)
    try:
        room = layout.rooms[0]
        senders = [(c, room) for c in fleet.clients[:10]]
        step = await measure(server, layout, fleet, senders, Step(rate, seconds))
        return {"clients": len(fleet.clients), "connect_errors": fleet.errors[:5], **step}
    finally:
        await fleet.close()
