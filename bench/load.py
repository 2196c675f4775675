"""The load generator's parts: accounts and rooms over REST, and fleets of asyncio
Socket.IO clients that connect to Parley or to the baseline alike."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import socketio

from .servers import Server

PASSWORD = "bench-password-1"
_names = itertools.count(1)


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50/p95/p99 (and max) in milliseconds of values in seconds."""
    data = sorted(values)
    if not data:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}

    def at(q: float) -> float:
        return round(data[min(len(data) - 1, int(q * len(data)))] * 1000, 3)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": at(1.0), "count": len(data)}


def mean(values: Iterable[float]) -> float | None:
    data = list(values)
    return statistics.fmean(data) if data else None


async def gather_limited(jobs: Iterable[Awaitable[Any]], limit: int = 20) -> list[Any]:
    """Runs the jobs at most `limit` at a time, keeping their order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


class Rest:
    """The REST API with one HTTP session (keep-alive), for setting up and for load."""

    def __init__(self, server: Server) -> None:
        self.base = server.url + "/api/v1"
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(total=60)
        )

    async def close(self) -> None:
        await self.http.close()

    async def call(
        self, method: str, path: str, token: str | None = None, json: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.base + path, json=json, headers=headers) as r:
            body = await r.json() if r.content_type == "application/json" else None
            return r.status, body

    async def register(self, prefix: str = "b") -> tuple[int, str]:
        name = f"{prefix}{next(_names)}x{time.monotonic_ns() % 1_000_000}"
        status, body = await self.call(
            "POST", "/auth/register", json={"username": name, "password": PASSWORD}
        )
        assert status == 201, (status, body)
        return body["user"]["id"], body["token"]


@dataclass
class Account:
    user_id: int
    token: str


@dataclass
class Layout:
    """Who is where: accounts, rooms, and the accounts in each room."""

    accounts: list[Account]
    rooms: list[int]
    members: dict[int, list[int]]  # room id -> indexes into accounts


async def lay_out(server: Server, rooms: int, per_room: int) -> Layout:
    """`rooms` rooms of `per_room` members each, every member its own account (on the
    baseline, rooms are just numbers and nobody needs an account)."""
    if server.kind == "baseline":
        accounts = [Account(0, "") for _ in range(rooms * per_room)]
        numbers = list(range(1, rooms + 1))
        members = {r: list(range(i * per_room, (i + 1) * per_room)) for i, r in enumerate(numbers)}
        return Layout(accounts, numbers, members)
    rest = Rest(server)
    try:
        made = await gather_limited(rest.register() for _ in range(rooms * per_room))
        accounts = [Account(uid, token) for uid, token in made]
        room_ids: list[int] = []
        members = {}
        for i in range(rooms):
            owner = accounts[i * per_room]
            status, room = await rest.call(
                "POST", "/rooms", owner.token, {"name": f"bench-{next(_names)}-{i}"}
            )
            assert status == 201, room
            room_ids.append(room["id"])
            indexes = list(range(i * per_room, (i + 1) * per_room))
            members[room["id"]] = indexes
            await gather_limited(
                rest.call("POST", f"/rooms/{room['id']}/join", accounts[j].token)
                for j in indexes[1:]
            )
        return Layout(accounts, room_ids, members)
    finally:
        await rest.close()


def spread(layout: Layout, urls: Sequence[str]) -> dict[int, str]:
    """Each room's members dealt round-robin over `urls`, from a place that moves on by
    one room by room: every room has members at each address, and its first member (the
    fan-out's sender) is at a different one from the previous room's, so the sends are
    spread as evenly as the deliveries."""
    if not urls:
        return {}
    found: dict[int, str] = {}
    for offset, members in enumerate(layout.members.values()):
        for place, index in enumerate(members):
            found.setdefault(index, urls[(offset + place) % len(urls)])
    return found


@dataclass
class Client:
    sio: socketio.AsyncClient
    index: int
    rooms: list[int]
    received: int = 0


class Endpoint(Protocol):
    """Where clients connect: a Server here, or its kind and URL in a worker process."""

    @property
    def kind(self) -> str: ...

    @property
    def url(self) -> str: ...


@dataclass
class Fleet:
    """Many Socket.IO clients in this process, each recording what it receives."""

    server: Endpoint
    clients: list[Client] = field(default_factory=list)
    on_message: Callable[[Client, dict[str, Any]], None] | None = None
    errors: list[str] = field(default_factory=list)
    # Where each account's client connects, when not to the server's URL: account index
    # -> its address (a cluster's processes, or its Nginx).
    addresses: dict[int, str] = field(default_factory=dict)

    async def connect(
        self, layout: Layout, indexes: Iterable[int] | None = None, batch: int = 50
    ) -> None:
        rooms_of: dict[int, list[int]] = {}
        for room_id, members in layout.members.items():
            for i in members:
                rooms_of.setdefault(i, []).append(room_id)
        wanted = list(range(len(layout.accounts)) if indexes is None else indexes)
        for start in range(0, len(wanted), batch):
            await asyncio.gather(
                *(
                    self._open(i, layout.accounts[i], rooms_of.get(i, []))
                    for i in wanted[start : start + batch]
                )
            )

    async def _open(self, index: int, account: Account, rooms: list[int]) -> None:
        sio = socketio.AsyncClient(reconnection=False)
        client = Client(sio, index, rooms)

        async def message_new(data: dict[str, Any]) -> None:
            client.received += 1
            if self.on_message is not None:
                self.on_message(client, data)

        sio.on("message:new", message_new)
        # Parley's clients take presence in batches, as its web page does.
        auth = (
            {"rooms": rooms}
            if self.server.kind == "baseline"
            else {"token": account.token, "presence": "batched"}
        )
        try:
            url = self.addresses.get(index, self.server.url)
            await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=30)
        except Exception as exc:  # counted: the connection scenario looks for the limit
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return
        self.clients.append(client)

    async def close(self) -> None:
        await gather_limited((c.sio.disconnect() for c in self.clients), limit=200)
        self.clients.clear()
