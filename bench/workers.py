"""The fan-out load spread over several generator processes.

One asyncio process tops out at a few thousand Socket.IO packets a second, below what a
bare python-socketio server can relay, so the fan-out's clients are dealt out to worker
processes. Every worker keeps the one global send schedule (it sends only the turns of
its own senders), and latencies are measured across processes on the shared monotonic
clock (`time.perf_counter` is CLOCK_MONOTONIC on Linux).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import socketio

from .load import Fleet, Layout

# Setting up thousands of clients in every worker takes a while on two cores.
READY_TIMEOUT = 300.0


@dataclass(frozen=True)
class Target:
    """What a worker needs to know of the server: a Server holds a process handle."""

    kind: str
    url: str
    # Account index -> the address its client connects to (load.spread), when not `url`.
    addresses: dict[int, str] = field(default_factory=dict)
    # Clients each worker connects at once.
    connect_batch: int = 50


@dataclass(frozen=True)
class StepPlan:
    rate: float  # messages a second, all senders together
    seconds: float
    start_at: float  # perf_counter time of the first send, the same in every worker
    tag: str
    # More (rate, seconds) phases after the first, in one schedule with no pause.
    phases: tuple[tuple[float, float], ...] = ()
    # Seconds after the last send that answers and deliveries are waited for, when set.
    answer_within: float | None = None
    # Keep each send's answer and each delivery's send time (the overload step's figures).
    timeline: bool = False

    @property
    def settle(self) -> float:
        """How long after the last send deliveries are waited for; later ones are lost."""
        if self.answer_within is not None:
            return self.answer_within
        return min(3.0, max(1.0, self.seconds))

    @property
    def total_seconds(self) -> float:
        return self.seconds + sum(seconds for _, seconds in self.phases)

    def schedule(self) -> Iterator[tuple[int, float]]:
        """(k, due) for the k-th send of the run: at `rate` a second, phase after phase."""
        k = 0
        start = self.start_at
        for rate, seconds in ((self.rate, self.seconds), *self.phases):
            for j in range(max(1, int(rate * seconds))):
                yield k, start + j / rate
                k += 1
            start += seconds


@dataclass
class StepRaw:
    """What one worker saw during a step, in seconds."""

    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    send_errors: list[str] = field(default_factory=list)
    sent_to_rooms: dict[int, int] = field(default_factory=dict)  # room id -> sends that went
    sent: int = 0
    send_seconds: float = 0.0
    cpu_seconds: float = 0.0  # this worker's own CPU while it sent
    # With StepPlan.timeline: every send as (its key, room id, when sent, seconds to
    # its answer or None, the error code or "" for ok), and every delivery as (the
    # send's key, when sent, latency). A send's key is its body's time stamp.
    answers: list[tuple[str, int, float, float | None, str]] = field(default_factory=list)
    delivered: list[tuple[str, float, float]] = field(default_factory=list)


async def run_step(fleet: Fleet, senders: list[tuple[int, int]], step: StepPlan) -> StepRaw:
    """Sends this worker's share of the schedule and records every delivery it receives.

    `senders` is the whole run's list of (account index, room id); the k-th send of the
    run belongs to senders[k % len(senders)], and only those whose client is here go out.
    """
    raw = StepRaw()
    tag = step.tag

    def received(_client: Any, data: dict[str, Any]) -> None:
        body = data["message"]["body"]
        if body.startswith(tag):
            key = body[len(tag) + 1 :]
            sent_at = float(key.partition("#")[0])
            latency = time.perf_counter() - sent_at
            raw.latencies.append(latency)
            if step.timeline:
                raw.delivered.append((key, sent_at, latency))

    fleet.on_message = received
    mine = {c.index: c for c in fleet.clients}
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future[Any]] = set()
    answers: dict[str, tuple[float, str]] = {}
    sends: list[tuple[str, int, float]] = []
    cpu_start = time.process_time()
    for k, due in step.schedule():
        index, room_id = senders[k % len(senders)]
        client = mine.get(index)
        if client is None:
            continue
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter()
        raw.lags.append(max(0.0, now - due))
        raw.sent += 1
        done = loop.create_future()
        pending.add(done)

        # The send time, for the latency, and its place in the schedule: two generator
        # processes may send in the same microsecond, and a shared key made a refused
        # send look delivered.
        key = f"{now:.6f}#{k}"

        def acked(
            *ack: Any, sent: float = now, done: asyncio.Future[Any] = done, key: str = key
        ) -> None:
            raw.acks.append(time.perf_counter() - sent)
            if step.timeline:
                answer = ack[0] if ack and isinstance(ack[0], dict) else {}
                code = "" if answer.get("ok") else str(answer.get("error", {}).get("code"))
                answers[key] = (time.perf_counter() - sent, code)
            if not done.done():
                done.set_result(None)

        if step.timeline:
            sends.append((key, room_id, now))
        try:
            await client.sio.emit(
                "message:send",
                {"room_id": room_id, "body": f"{tag} {key}", "client_id": f"{tag}-{k}"},
                callback=acked,
            )
        except socketio.exceptions.SocketIOError as exc:
            # The server dropped this sender (it missed pings under load): a failed send.
            raw.send_errors.append(type(exc).__name__)
            done.set_result(None)
            continue
        raw.sent_to_rooms[room_id] = raw.sent_to_rooms.get(room_id, 0) + 1
    raw.send_seconds = time.perf_counter() - step.start_at
    raw.cpu_seconds = time.process_time() - cpu_start
    # Deliveries from other workers' senders keep coming: wait out the same settle time.
    end = step.start_at + step.total_seconds + step.settle
    if pending:
        await asyncio.wait(pending, timeout=max(0.1, end - time.perf_counter()))
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    fleet.on_message = None
    for key, room_id, sent_at in sends:
        seconds, code = answers.get(key, (None, ""))
        raw.answers.append((key, room_id, sent_at, seconds, code))
    return raw


@contextmanager
def collected_after() -> Iterator[None]:
    """No garbage collection inside the block, one after it.

    A collection pauses a generator for tens of milliseconds, which would be measured
    as the server's latency and followed by a burst of late sends; a step's garbage is
    collected once the step is over.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _worker(target: Target, layout: Layout, indexes: list[int], pipe: Connection) -> None:
    asyncio.run(_serve(target, layout, indexes, pipe))


async def _serve(target: Target, layout: Layout, indexes: list[int], pipe: Connection) -> None:
    import logging

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    fleet = Fleet(target, addresses=target.addresses)
    try:
        await fleet.connect(layout, indexes, batch=target.connect_batch)
        # The fleet lives until the end: keep its objects out of every later collection,
        # so none walks thousands of clients.
        gc.collect()
        gc.freeze()
        pipe.send(("ready", len(fleet.clients), fleet.errors[:5]))
        loop = asyncio.get_running_loop()
        while True:
            message = await loop.run_in_executor(None, pipe.recv)
            if message[0] == "stop":
                return
            _, senders, step = message
            with collected_after():
                raw = await run_step(fleet, senders, step)
            pipe.send(("step", raw))
    finally:
        await fleet.close()
        pipe.close()


@dataclass
class Generators:
    """Worker processes, each with its share of the clients connected."""

    pipes: list[Connection]
    clients: int
    connect_errors: list[str]

    def start(self, senders: list[tuple[int, int]], step: StepPlan) -> None:
        for pipe in self.pipes:
            pipe.send(("step", senders, step))

    def collect(self) -> list[StepRaw]:
        found = []
        for pipe in self.pipes:
            kind, raw = pipe.recv()
            assert kind == "step", kind
            found.append(raw)
        return found


@contextmanager
def generators(
    target: Target, layout: Layout, processes: int, senders: list[tuple[int, int]]
) -> Iterator[Generators]:
    """Start `processes` workers, deal the layout's accounts out to them round-robin
    (the senders first, so each worker sends its share), and wait until every worker
    has its clients connected."""
    context = multiprocessing.get_context("spawn")
    sending = list(dict.fromkeys(index for index, _ in senders))
    others = sorted({i for members in layout.members.values() for i in members} - set(sending))
    everyone = sending + others
    workers = []
    pipes = []
    try:
        for n in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_worker, args=(target, layout, everyone[n::processes], theirs), daemon=True
            )
            process.start()
            theirs.close()
            workers.append(process)
            pipes.append(ours)
        clients = 0
        errors: list[str] = []
        for pipe in pipes:
            if not pipe.poll(READY_TIMEOUT):
                raise TimeoutError("a load generator process did not get its clients connected")
            kind, connected, failed = pipe.recv()
            assert kind == "ready", kind
            clients += connected
            errors += failed
        yield Generators(pipes, clients, errors)
    finally:
        for pipe in pipes:
            with suppress(OSError):
                pipe.send(("stop",))
        for process in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
