"""Who is online across processes, kept in Redis (when PARLEY_MESSAGE_QUEUE is set).

Each process holds a hash of its own sockets (sid -> user) and heartbeats an expiry for
itself in one sorted set; a user is online while a socket of theirs is held by some
process. A process that stops beating (SIGKILL, a lost machine) is reaped by whichever
live process beats next: its sockets are dropped and its users, if they have no socket
left anywhere, go offline. A user whose last socket closes is put in a sorted set of
leavers with the time their grace period ends, so that any process may announce them
offline once it has, even when the process that saw them leave is gone.

Every step is one Lua script, so it runs atomically: of two processes reaping the same
dead one, or settling the same leaver, only one sees the change and announces it. Times
are the Redis server's clock, one clock for every machine.

    {prefix}:presence:procs           zset  process -> expiry
    {prefix}:presence:proc:{process}  hash  sid -> user id
    {prefix}:presence:user:{user}     set   "{process}|{sid}"
    {prefix}:presence:online          set   user ids announced online
    {prefix}:presence:leaving         zset  user id -> end of their grace period

Keys are built inside the scripts from the prefix: this is for one Redis server, not a
Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import redis

# Shared by the scripts: server time, and settling the leavers whose grace has ended.
_PRELUDE = """
local p = ARGV[1] .. ':presence:'
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function leave(uid, at)
  if redis.call('SCARD', p .. 'user:' .. uid) == 0
      and redis.call('SISMEMBER', p .. 'online', uid) == 1 then
    local pending = redis.call('ZSCORE', p .. 'leaving', uid)
    if not pending or tonumber(pending) > at then
      redis.call('ZADD', p .. 'leaving', at, uid)
    end
  end
end
local function settle()
  local gone = {}
  for _, uid in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leaving', '-inf', now)) do
    redis.call('ZREM', p .. 'leaving', uid)
    if redis.call('SCARD', p .. 'user:' .. uid) == 0
        and redis.call('SREM', p .. 'online', uid) == 1 then
      table.insert(gone, uid)
    end
  end
  return gone
end
"""

# ARGV: prefix, process, user, sid. Returns {came online, process known}.
_CONNECT = (
    _PRELUDE
    + """
local proc, uid, sid = ARGV[2], ARGV[3], ARGV[4]
redis.call('HSET', p .. 'proc:' .. proc, sid, uid)
redis.call('SADD', p .. 'user:' .. uid, proc .. '|' .. sid)
redis.call('ZREM', p .. 'leaving', uid)
local came = redis.call('SADD', p .. 'online', uid)
local known = redis.call('ZSCORE', p .. 'procs', proc) and 1 or 0
return {came, known}
"""
)

# ARGV: prefix, process, user, sid, grace. Returns 1 when the user has no socket left.
_DISCONNECT = (
    _PRELUDE
    + """
local proc, uid, sid = ARGV[2], ARGV[3], ARGV[4]
redis.call('HDEL', p .. 'proc:' .. proc, sid)
redis.call('SREM', p .. 'user:' .. uid, proc .. '|' .. sid)
if redis.call('SCARD', p .. 'user:' .. uid) > 0 then
  return 0
end
leave(uid, now + tonumber(ARGV[5]))
return 1
"""
)

# ARGV: prefix. Returns the users who went offline.
_SETTLE = _PRELUDE + "return settle()\n"

# ARGV: prefix, process, ttl. Renews this process, reaps the expired ones, settles the
# leavers. Returns {process was known (0/1), users who went offline...}.
_BEAT = (
    _PRELUDE
    + """
local proc, ttl = ARGV[2], tonumber(ARGV[3])
local known = redis.call('ZSCORE', p .. 'procs', proc) and 1 or 0
redis.call('ZADD', p .. 'procs', now + ttl, proc)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', p .. 'procs', '-inf', now)) do
  local held = redis.call('HGETALL', p .. 'proc:' .. dead)
  for i = 1, #held, 2 do
    redis.call('SREM', p .. 'user:' .. held[i + 1], dead .. '|' .. held[i])
  end
  for i = 1, #held, 2 do
    leave(held[i + 1], now)
  end
  redis.call('DEL', p .. 'proc:' .. dead)
  redis.call('ZREM', p .. 'procs', dead)
end
local gone = settle()
table.insert(gone, 1, known)
return gone
"""
)

# ARGV: prefix, process, ttl, grace, then sid, user pairs: every socket the process holds.
# Makes Redis agree with the process (after a Redis outage, or after being reaped while
# stalled). Returns the users who came online.
_SYNC = (
    _PRELUDE
    + """
local proc, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local key = p .. 'proc:' .. proc
redis.call('ZADD', p .. 'procs', now + ttl, proc)
local held = {}
for i = 5, #ARGV, 2 do
  held[ARGV[i]] = ARGV[i + 1]
end
local old = redis.call('HGETALL', key)
for i = 1, #old, 2 do
  if held[old[i]] ~= old[i + 1] then
    redis.call('HDEL', key, old[i])
    redis.call('SREM', p .. 'user:' .. old[i + 1], proc .. '|' .. old[i])
    leave(old[i + 1], now + grace)
  end
end
local came = {}
for sid, uid in pairs(held) do
  redis.call('HSET', key, sid, uid)
  redis.call('SADD', p .. 'user:' .. uid, proc .. '|' .. sid)
  redis.call('ZREM', p .. 'leaving', uid)
  if redis.call('SADD', p .. 'online', uid) == 1 then
    table.insert(came, uid)
  end
end
return came
"""
)

# ARGV: prefix, process. Drops the process and its sockets at once (a clean stop), its
# users leaving with no grace: they have reconnected elsewhere by now, or are gone.
_FORGET = (
    _PRELUDE
    + """
local proc = ARGV[2]
local held = redis.call('HGETALL', p .. 'proc:' .. proc)
for i = 1, #held, 2 do
  redis.call('SREM', p .. 'user:' .. held[i + 1], proc .. '|' .. held[i])
end
for i = 1, #held, 2 do
  leave(held[i + 1], now)
end
redis.call('DEL', p .. 'proc:' .. proc)
redis.call('ZREM', p .. 'procs', proc)
return settle()
"""
)


def _ids(values: Iterable[Any]) -> list[int]:
    return [int(v) for v in values]


class RedisPresence:
    """The cluster's presence as one process sees it: each method one atomic step."""

    def __init__(self, client: redis.Redis, prefix: str, process: str) -> None:
        self.process = process
        self._client = client
        self._prefix = prefix
        self._connect = client.register_script(_CONNECT)
        self._disconnect = client.register_script(_DISCONNECT)
        self._settle = client.register_script(_SETTLE)
        self._beat = client.register_script(_BEAT)
        self._sync = client.register_script(_SYNC)
        self._forget = client.register_script(_FORGET)

    def connect(self, user_id: int, sid: str) -> tuple[bool, bool]:
        """Add a socket; (the user came online, this process is registered)."""
        came, known = cast(
            list[int], self._connect(args=[self._prefix, self.process, user_id, sid])
        )
        return bool(came), bool(known)

    def disconnect(self, user_id: int, sid: str, grace: float) -> bool:
        """Drop a socket; True when it was the user's last one anywhere (they leave once
        `grace` seconds have passed, see `settle`)."""
        return bool(self._disconnect(args=[self._prefix, self.process, user_id, sid, grace]))

    def settle(self) -> list[int]:
        """Take the offline those whose grace has ended with no socket back; each user
        is returned to one caller only."""
        return _ids(cast(list[Any], self._settle(args=[self._prefix])))

    def beat(self, ttl: float) -> tuple[bool, list[int]]:
        """Renew this process for `ttl` seconds, reap expired processes and settle:
        (this process was registered before, users who went offline)."""
        found = cast(list[Any], self._beat(args=[self._prefix, self.process, ttl]))
        return bool(found[0]), _ids(found[1:])

    def sync(self, sockets: dict[str, int], ttl: float, grace: float) -> list[int]:
        """Register this process holding exactly `sockets` (sid -> user); the users who
        came online."""
        pairs: list[str | int | float] = [self._prefix, self.process, ttl, grace]
        for sid, user_id in sockets.items():
            pairs += [sid, user_id]
        return _ids(cast(list[Any], self._sync(args=pairs)))

    def forget(self) -> list[int]:
        """Drop this process and its sockets; the users who went offline."""
        return _ids(cast(list[Any], self._forget(args=[self._prefix, self.process])))

    def online(self) -> list[int]:
        members = cast(set[bytes], self._client.smembers(f"{self._prefix}:presence:online"))
        return sorted(_ids(members))
