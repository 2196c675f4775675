"""Reconnect storm: every client drops at once, messages pile up while they are away,
then all reconnect together and catch up with `sync`, as docs/realtime.md tells clients
to ("Reconnecting without losing anything"). Measures the time until the last client
holds every message of its room, checks none was lost or doubled, and samples the
server's memory throughout. Parley only: the baseline has no `sync`."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..load import Fleet, Layout, Rest, gather_limited, lay_out, percentiles
from ..servers import Server

SYNC_LIMIT = 500  # the most `sync` returns per room
POSTERS = 20  # concurrent REST posters while the clients are away
SYNC_TIMEOUT = 60.0
RSS_EVERY = 0.05


@dataclass
class Holder:
    """What one client holds of its room: the ids it got, in the order it got them."""

    index: int
    room: int
    last_id: int = 0
    got: list[int] = field(default_factory=list)
    connected: float | None = None  # seconds from the storm's start
    caught_up: float | None = None
    syncs: int = 0
    error: str | None = None


class RssSampler:
    """Samples the server's RSS every `every` seconds in a thread (the event loop is
    busy during a storm), keeping the peak."""

    def __init__(self, server: Server, every: float = RSS_EVERY) -> None:
        self.server = server
        self.every = every
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_bytes())
            self.samples += 1
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.server.rss_bytes())


async def _sync_until_done(fleet: Fleet, holder: Holder, limit: int) -> None:
    """Calls `sync` from the held id, again while `more` says so (docs/realtime.md)."""
    client = next((c for c in fleet.clients if c.index == holder.index), None)
    if client is None:
        raise RuntimeError(f"client {holder.index} is not connected")
    start_from = holder.last_id
    while True:
        holder.syncs += 1
        ack = await client.sio.call(
            "sync", {"rooms": {str(holder.room): start_from}, "limit": limit}, timeout=SYNC_TIMEOUT
        )
        if not ack.get("ok"):
            raise RuntimeError(f"sync answered {ack.get('error')}")
        batch = ack["messages"].get(str(holder.room), [])
        holder.got.extend(m["id"] for m in batch)
        if batch:
            start_from = batch[-1]["id"]
        if not ack["more"].get(str(holder.room)):
            return


async def _post_while_away(
    server: Server, layout: Layout, messages: int
) -> tuple[dict[int, list[int]], float]:
    """`messages` messages over REST, round the rooms, each by a member of its room."""
    rest = Rest(server)
    rooms = layout.rooms

    async def post(k: int) -> tuple[int, int]:
        room = rooms[k % len(rooms)]
        members = layout.members[room]
        author = layout.accounts[members[(k // len(rooms)) % len(members)]]
        status, body = await rest.call(
            "POST",
            f"/rooms/{room}/messages",
            author.token,
            {"body": f"while away {k}", "client_id": f"away-{k}"},
        )
        assert status == 201, (status, body)
        return room, int(body["id"])

    try:
        start = time.perf_counter()
        made = await gather_limited((post(k) for k in range(messages)), limit=POSTERS)
        seconds = time.perf_counter() - start
    finally:
        await rest.close()
    posted: dict[int, list[int]] = {room: [] for room in rooms}
    for room, message_id in made:
        posted[room].append(message_id)
    return posted, seconds


async def reconnect_storm(
    server: Server, clients: int = 500, rooms: int = 50, messages: int = 5000
) -> dict[str, Any]:
    """`clients` clients in `rooms` rooms, connected and synced; all drop; `messages`
    messages are posted; all reconnect at once and sync until each holds its room."""
    assert server.kind == "parley", "the baseline has no sync"
    rooms = max(1, min(rooms, clients))
    layout = await lay_out(server, rooms, max(1, clients // rooms))
    holders = {i: Holder(i, room) for room, members in layout.members.items() for i in members}
    fleet = Fleet(server)
    await fleet.connect(layout)
    connect_errors = list(fleet.errors)
    # Synced before the drop: one message per room, so every client holds an id.
    rest = Rest(server)
    before_drop: dict[int, int] = {}
    try:
        for room in layout.rooms:
            owner = layout.accounts[layout.members[room][0]]
            status, body = await rest.call(
                "POST", f"/rooms/{room}/messages", owner.token, {"body": "before the drop"}
            )
            assert status == 201, (status, body)
            before_drop[room] = int(body["id"])
    finally:
        await rest.close()
    connected = {c.index for c in fleet.clients}
    await gather_limited(
        (_sync_until_done(fleet, h, SYNC_LIMIT) for h in holders.values() if h.index in connected),
        limit=100,
    )
    for holder in holders.values():
        if holder.index in connected:
            assert holder.got == [before_drop[holder.room]], (holder.got, before_drop)
        holder.last_id = before_drop[holder.room]
        holder.got = []
        holder.syncs = 0
    rss_connected = server.rss_bytes()

    dropped = time.perf_counter()
    await fleet.close()
    posted, post_seconds = await _post_while_away(server, layout, messages)
    rss_before = server.rss_bytes()
    down_seconds = time.perf_counter() - dropped

    fleet = Fleet(server)
    cpu_before = server.cpu_seconds()
    own_before = time.process_time()

    async def come_back(holder: Holder, start: float) -> None:
        await fleet.connect(layout, [holder.index], batch=1)
        if not any(c.index == holder.index for c in fleet.clients):
            holder.error = "connect failed"
            return
        holder.connected = time.perf_counter() - start
        try:
            await _sync_until_done(fleet, holder, SYNC_LIMIT)
        except Exception as exc:  # reported per client; the others go on
            holder.error = f"{type(exc).__name__}: {exc}"
            return
        holder.caught_up = time.perf_counter() - start

    try:
        with RssSampler(server) as rss:
            start = time.perf_counter()
            await asyncio.gather(*(come_back(h, start) for h in holders.values()))
            storm_seconds = time.perf_counter() - start
        cpu = server.cpu_seconds() - cpu_before
        own = time.process_time() - own_before
    finally:
        await fleet.close()

    lost = doubled = wrong = 0
    for holder in holders.values():
        expected = set(posted[holder.room])
        got = set(holder.got)
        lost += len(expected - got)
        doubled += len(holder.got) - len(got)
        wrong += len(got - expected)
    times = [h.caught_up for h in holders.values() if h.caught_up is not None]
    errors = [h.error for h in holders.values() if h.error]
    return {
        "clients": len(holders),
        "rooms": rooms,
        "messages": messages,
        "connect_errors": (connect_errors + fleet.errors)[:5],
        "post_seconds": round(post_seconds, 3),
        "posts_per_s": round(messages / post_seconds, 1) if post_seconds else None,
        "down_seconds": round(down_seconds, 3),
        "catch_up_seconds": round(max(times), 3) if len(times) == len(holders) else None,
        "storm_seconds": round(storm_seconds, 3),
        "catch_up_ms": percentiles(times),
        "connected_ms": percentiles(h.connected for h in holders.values() if h.connected),
        "syncs": sum(h.syncs for h in holders.values()),
        "caught_up": len(times),
        "errors": errors[:5],
        "failed_clients": len(errors),
        "lost": lost,
        "doubled": doubled,
        "unexpected": wrong,
        "exact": lost == doubled == wrong == 0 and not errors,
        "rss_connected_bytes": rss_connected,
        "rss_before_bytes": rss_before,
        "rss_peak_bytes": rss.peak,
        "rss_samples": rss.samples,
        "server_cpu_seconds": round(cpu, 3),
        "client_cpu_seconds": round(own, 3),  # this load generator's, for comparison
    }
