"""How big each scenario runs: the full set for `make bench`, and a tiny one for
`make bench-smoke`, which only proves every scenario still works end to end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Plan:
    # fan-out (a): rooms of people, one sender per room, at each rate (messages/s)
    rooms: int
    per_room: int
    rates: list[float]
    step_seconds: float
    rise: bool
    # fan-out: the clients are spread over this many load generator processes
    generator_processes: int
    # fan-out (b): one room of each size, sending about this many deliveries a second
    room_sizes: list[int]
    one_room_deliveries: float
    # connections
    sockets: int
    socket_step: int
    socket_accounts: int
    # persisted sends
    senders: int
    persist_seconds: float
    # REST
    rest_concurrency: int
    rest_seconds: float
    rest_messages: int
    # reconnect storm
    storm_clients: int
    storm_rooms: int
    storm_messages: int
    # video
    viewers: tuple[int, ...] = field(default=(1,))
    video_seconds: float = 1.0
    # fan-out (a) runs this many times on each server; its figure is the median
    fanout_repeats: int = 1
    # Parley marks a user offline this long after their last socket closed (the
    # product's default in a full run). Clients that left are waited out for this long
    # before the next measurement, so their departures are not part of it.
    presence_grace_seconds: float = 10.0
    # The overload step on Parley after the fan-out (scenarios/overload.py): runs, the
    # burst at twice the highest sustained rate, then this share of it for so long.
    overload_runs: int = 3
    burst_seconds: float = 5.0
    normal_share: float = 0.5
    normal_seconds: float = 10.0
    # Many processes (issue 18): the fan-out above, from these rates (PostgreSQL and
    # Redis sustain less than SQLite alone), on one `parley serve` and on a cluster of
    # this many behind Nginx, on PostgreSQL and Redis; then, on the cluster, one step at
    # `nginx_rate` with a third of the clients connected through Nginx.
    process_rates: tuple[float, ...] = (25.0, 50.0, 100.0)
    cluster_processes: int = 2
    nginx_rooms: int = 10
    nginx_rate: float = 50.0
    # Also the one process without Redis (what the message queue costs by itself).
    without_queue: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Plan(
    rooms=50,
    per_room=10,
    rates=[100, 200, 500, 1000],
    step_seconds=5,
    rise=True,
    generator_processes=2,
    room_sizes=[100, 500, 2000],
    one_room_deliveries=5000,
    sockets=5000,
    socket_step=500,
    socket_accounts=50,
    senders=50,
    persist_seconds=10,
    rest_concurrency=20,
    rest_seconds=10,
    rest_messages=500,
    storm_clients=500,
    storm_rooms=50,
    storm_messages=5000,
    viewers=(1, 10, 50, 200),
    video_seconds=5,
)

SMOKE = Plan(
    rooms=2,
    per_room=3,
    rates=[10],
    step_seconds=0.5,
    rise=False,
    generator_processes=2,
    room_sizes=[5],
    one_room_deliveries=50,
    sockets=20,
    socket_step=10,
    socket_accounts=3,
    senders=3,
    persist_seconds=0.5,
    rest_concurrency=2,
    rest_seconds=0.5,
    rest_messages=30,
    storm_clients=6,
    storm_rooms=2,
    storm_messages=30,
    viewers=(1, 2),
    video_seconds=1,
    presence_grace_seconds=0.2,
    overload_runs=1,
    burst_seconds=0.5,
    normal_seconds=1.0,
    process_rates=(10.0,),
    nginx_rooms=2,
    nginx_rate=10,
    without_queue=False,
)
