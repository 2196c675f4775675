"""Connections: open sockets until errors or the cap; the server's memory per socket."""

from __future__ import annotations

import time
from typing import Any

from ..load import Account, Fleet, Layout, Rest, gather_limited
from ..servers import Server


async def open_sockets(
    server: Server, total: int, step: int = 500, accounts: int = 50
) -> dict[str, Any]:
    """Opens `total` sockets in steps of `step`, recording the server's RSS after each;
    sockets share `accounts` accounts (presence and rooms per account, not per socket)."""
    if server.kind == "baseline":
        people = [Account(0, "") for _ in range(accounts)]
    else:
        rest = Rest(server)
        try:
            people = [
                Account(*made)
                for made in await gather_limited(rest.register("conn") for _ in range(accounts))
            ]
        finally:
            await rest.close()
    layout = Layout([people[i % accounts] for i in range(total)], [], {})
    fleet = Fleet(server)
    rss_start = server.rss_bytes()
    curve = [{"sockets": 0, "rss_mb": round(rss_start / 2**20, 1)}]
    started = time.perf_counter()
    try:
        for first in range(0, total, step):
            await fleet.connect(layout, range(first, min(total, first + step)), batch=100)
            curve.append(
                {"sockets": len(fleet.clients), "rss_mb": round(server.rss_bytes() / 2**20, 1)}
            )
            if fleet.errors:
                break
        opened = len(fleet.clients)
        rss_end = server.rss_bytes()
        return {
            "asked": total,
            "opened": opened,
            "errors": len(fleet.errors),
            "first_errors": fleet.errors[:3],
            "seconds": round(time.perf_counter() - started, 2),
            "rss_start_mb": round(rss_start / 2**20, 1),
            "rss_end_mb": round(rss_end / 2**20, 1),
            "rss_per_socket_kb": round((rss_end - rss_start) / max(1, opened) / 1024, 1),
            "curve": curve,
        }
    finally:
        await fleet.close()
