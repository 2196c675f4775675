"""Many processes (issue 18): the fan-out on one `parley serve` and on `parley cluster`,
both on PostgreSQL and Redis, in the same run.

Nginx balances by a hash of the client's address, and every load-generator client comes
from 127.0.0.1: through Nginx they would all land on one process. So the measured
fan-out connects each client straight to a process (load.spread: every room has members
on each process, and the senders take turns), as clients spread by their many real
addresses would land; the Nginx path is then proved on the cluster by a smaller step
with a third of the clients connected through Nginx (all of those on one process, by
the hash) and the rest straight to the processes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..load import lay_out, spread
from ..plan import Plan
from ..servers import Server
from ..workers import Target, generators
from .fanout import Load, rooms_of_ten_repeated

# Each socket's connect takes a database connection for a moment, and each process's
# pool opens up to 50 (10 kept and 40 more): the fan-out's usual 50 connects at once
# from each generator took two processes past a default PostgreSQL's 100 connections
# (shared with everything else on the machine), and connects failed with "too many
# clients". The comparison is of the steady fan-out, so the clients arrive gently.
CONNECT_BATCH = 10


async def on_processes(server: Server, plan: Plan) -> dict[str, Any]:
    """The fan-out (the plan's rooms and rates) with the clients spread over the
    server's processes; on a cluster, the Nginx step after it."""
    figures = await rooms_of_ten_repeated(
        server,
        plan.fanout_repeats,
        rooms=plan.rooms,
        per_room=plan.per_room,
        rates=list(plan.process_rates),
        seconds=plan.step_seconds,
        rise=plan.rise,
        processes=plan.generator_processes,
        over=server.process_urls,
        connect_batch=CONNECT_BATCH,
    )
    if server.behind_nginx:
        await asyncio.to_thread(server.wait_out_departures)
        figures["nginx"] = await through_nginx(
            server,
            plan.nginx_rooms,
            plan.per_room,
            plan.nginx_rate,
            plan.step_seconds,
            plan.generator_processes,
        )
    return figures


async def through_nginx(
    server: Server, rooms: int, per_room: int, rate: float, seconds: float, processes: int
) -> dict[str, Any]:
    """One step at `rate` with the clients spread over the cluster's Nginx and its
    processes alike: a third of the senders and of every room's members go through
    Nginx, so messages cross from Nginx's clients to the processes' and back."""
    layout = await lay_out(server, rooms, per_room)
    senders = [(members[0], room) for room, members in layout.members.items()]
    addresses = spread(layout, (server.url, *server.process_urls))
    target = Target(server.kind, server.url, addresses, CONNECT_BATCH)
    with generators(target, layout, processes, senders) as fleet:
        load = Load(server, layout, fleet, senders)
        settled = await asyncio.to_thread(load.warm_up, rate, seconds)
        step = await asyncio.to_thread(load.measure, rate, seconds)
    return {
        "clients": fleet.clients,
        "through_nginx": sum(1 for url in addresses.values() if url == server.url),
        "connect_errors": fleet.connect_errors,
        "settle_seconds": settled,
        **step,
    }
