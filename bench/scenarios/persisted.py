"""Persisted sends, closed loop: every sender sends `message:send` over Socket.IO, waits
for the ack, and sends the next, as fast as the server commits. Afterwards the stored
messages are read back over REST: each acked message must be there ("never ack before
commit"), and nothing acked may be missing.

The same code runs on Parley (SQLite, PostgreSQL in a fresh schema) and on the baseline,
which stores nothing (so nothing is verified there)."""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import socketio

from ..load import Client, Fleet, Rest, lay_out, percentiles
from ..servers import Server

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# A send whose ack takes longer than this counts as an error (and the sender goes on).
ACK_TIMEOUT = 30.0
HISTORY_PAGE = 100  # the API's largest page


def postgres_base_url() -> str:
    """The PostgreSQL server to bench on: PARLEY_BENCH_POSTGRES_URL, else the tests' one."""
    return os.environ.get(
        "PARLEY_BENCH_POSTGRES_URL",
        os.environ.get("PARLEY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )


@contextmanager
def fresh_postgres_url(base: str | None = None) -> Iterator[str]:
    """A new schema `bench_<random>` on the PostgreSQL server, dropped afterwards; yields
    a URL whose connections use it (search_path), as tests/databases.py does."""
    import sqlalchemy as sa

    base = base or postgres_base_url()
    schema = f"bench_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base else "?"
        try:
            yield f"{base}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


async def _send_loop(
    client: Client,
    room_id: int,
    number: int,
    tag: str,
    end: float,
    latencies: list[float],
    acked: dict[int, list[int]],
    errors: dict[str, int],
) -> float:
    """One sender: send, await the ack, repeat until `end`. Answers when it stopped."""
    n = 0
    while time.perf_counter() < end:
        n += 1
        sent = time.perf_counter()
        try:
            ack = await client.sio.call(
                "message:send",
                {
                    "room_id": room_id,
                    "body": f"{tag} {number} {n}",
                    "client_id": f"{tag}-{number}-{n}",
                },
                timeout=ACK_TIMEOUT,
            )
        except socketio.exceptions.TimeoutError:
            errors["ack_timeout"] = errors.get("ack_timeout", 0) + 1
            continue
        except Exception as exc:  # a dropped connection ends this sender
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            break
        latencies.append(time.perf_counter() - sent)
        if isinstance(ack, dict) and ack.get("ok"):
            acked.setdefault(room_id, []).append(int(ack["message"]["id"]))
        else:
            code = ack.get("error", {}).get("code", "?") if isinstance(ack, dict) else "bad_ack"
            errors[code] = errors.get(code, 0) + 1
    return time.perf_counter()


async def _stored_ids(rest: Rest, token: str, room_id: int, tag: str) -> list[int]:
    """Every message of the run in the room, read over REST history (oldest first)."""
    ids: list[int] = []
    after = 0
    while True:
        status, page = await rest.call(
            "GET", f"/rooms/{room_id}/messages?after={after}&limit={HISTORY_PAGE}", token
        )
        assert status == 200, (status, page)
        for message in page["messages"]:
            if (message["client_id"] or "").startswith(f"{tag}-"):
                ids.append(message["id"])
        if not page["messages"] or not page["has_more"]:
            return ids
        after = page["messages"][-1]["id"]


async def persisted_sends(
    server: Server, senders: int = 50, seconds: float = 10, rooms: int = 10
) -> dict[str, Any]:
    """`senders` clients, each its own account, spread over `rooms` rooms (all of a room's
    members send), each sending as fast as its acks come back for `seconds`."""
    rooms = max(1, min(rooms, senders))
    per_room = math.ceil(senders / rooms)
    layout = await lay_out(server, rooms, per_room)
    # The first `senders` accounts, taken round the rooms so they spread evenly.
    chosen = [
        (layout.members[room][slot], room) for slot in range(per_room) for room in layout.rooms
    ][:senders]
    fleet = Fleet(server)
    await fleet.connect(layout, [index for index, _ in chosen])
    tag = f"p{secrets.token_hex(4)}"
    latencies: list[float] = []
    acked: dict[int, list[int]] = {}
    errors: dict[str, int] = {}
    try:
        by_index = {c.index: c for c in fleet.clients}
        loops = [(by_index[i], room) for i, room in chosen if i in by_index]
        cpu_before = server.cpu_seconds()
        start = time.perf_counter()
        end = start + seconds
        stops = await asyncio.gather(
            *(
                _send_loop(client, room, k, tag, end, latencies, acked, errors)
                for k, (client, room) in enumerate(loops)
            )
        )
        elapsed = max(stops) - start if stops else seconds
        cpu = server.cpu_seconds() - cpu_before
        deliveries = sum(c.received for c in fleet.clients)
    finally:
        await fleet.close()

    ok = sum(len(ids) for ids in acked.values())
    result: dict[str, Any] = {
        "senders": len(loops),
        "connect_errors": fleet.errors[:5],
        "rooms": rooms,
        "seconds": round(elapsed, 3),
        "sends": len(latencies) + sum(errors.values()),
        "acked_ok": ok,
        "errors": errors,
        "committed_per_s": round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        "ack_ms": percentiles(latencies),
        "deliveries": deliveries,
        "server_cpu_s_per_s": round(cpu / elapsed, 3) if elapsed > 0 else None,
    }
    if server.kind == "baseline":
        result["verified"] = None  # the baseline stores nothing
        return result

    rest = Rest(server)
    try:
        stored: dict[int, list[int]] = {}
        for room in layout.rooms:
            owner = layout.accounts[layout.members[room][0]]
            stored[room] = await _stored_ids(rest, owner.token, room, tag)
    finally:
        await rest.close()
    acked_ids = {i for ids in acked.values() for i in ids}
    stored_ids = {i for ids in stored.values() for i in ids}
    result.update(
        stored=sum(len(ids) for ids in stored.values()),
        acked_not_stored=len(acked_ids - stored_ids),
        stored_not_acked=len(stored_ids - acked_ids),  # committed, ack lost or timed out
        duplicate_acks=ok - len(acked_ids),
        verified=acked_ids <= stored_ids and ok == len(acked_ids),
    )
    return result
