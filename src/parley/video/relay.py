"""Live broadcasts across server processes, through Redis (PARLEY_MESSAGE_QUEUE).

The process a broadcast started on (its origin) owns it and keeps in Redis:
- `live:<room>`: the broadcast's record (who, what size, its id, its origin), with a TTL
  the origin renews every second or so; a broadcast whose origin died (SIGKILL) is gone
  everywhere once it lapses;
- `frame:<broadcast>`: the latest frame and its number, with the same TTL, so a snapshot
  or a new viewer anywhere gets a frame at once;
- `viewers:<broadcast>`: each process's viewer count, summed for the room's shape;
and publishes every frame it takes on `frames:<broadcast>`, then an empty message when
the broadcast ends.

Another process subscribes only while someone watches there: one subscription per
process and broadcast, feeding a local FrameHub (a mirror) that its viewers follow like
the origin's. The subscriber drains whatever arrived and keeps only the newest frame, so
a slow process skips frames; Redis itself drops a subscriber whose backlog outgrows its
pub/sub output buffer limit, and the mirror then resubscribes from the latest frame.
"""

from __future__ import annotations

import json
import logging
import struct
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import redis

from .hub import FrameHub, HubClosed

log = logging.getLogger(__name__)

# A frame travels as its number (8 bytes, big-endian) then the JPEG; an empty message on
# a broadcast's channel says it ended.
SEQ = struct.Struct(">Q")
END = b""
# How long a mirror waits for a message before it checks the broadcast is still live.
WAIT_SECONDS = 1.0
# A lost connection to Redis is retried after this long.
RETRY_SECONDS = 0.5

# Renew or delete a room's record only while it is still the given broadcast's: one that
# lapsed and was replaced by another process's is neither kept alive nor ended by its
# old origin.
_RENEW = """
local held = redis.call('GET', KEYS[1])
if held and cjson.decode(held)['broadcast_id'] == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_DELETE_IF = """
local held = redis.call('GET', KEYS[1])
if held and cjson.decode(held)['broadcast_id'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# How long the mark that a broadcast's end was told stays (longer than any TTL).
ENDED_MARK_MS = 60_000

Ending = Literal["ended", "gone", "stopped"]


@dataclass(frozen=True)
class LiveRecord:
    """What every process knows of a live broadcast."""

    room_id: int
    broadcast_id: str
    broadcaster_id: int
    broadcaster: dict[str, object]
    width: int
    height: int
    fps: int
    started_at: str
    origin: str

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes | str) -> LiveRecord:
        data: dict[str, Any] = json.loads(raw)
        return cls(**data)

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)


def new_broadcast_id() -> str:
    return uuid.uuid4().hex


class FrameRelay:
    """One process's link to the cluster's live broadcasts. Thread- and greenlet-safe
    (redis-py's connection pool)."""

    def __init__(self, url: str, prefix: str, ttl_seconds: float) -> None:
        self.process_id = uuid.uuid4().hex
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.ttl_seconds = ttl_seconds
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._renew = self._redis.register_script(_RENEW)
        self._delete_if = self._redis.register_script(_DELETE_IF)

    # --- keys ---------------------------------------------------------------------------

    def live_key(self, room_id: int) -> str:
        return f"{self.prefix}:live:{room_id}"

    def frame_key(self, broadcast_id: str) -> str:
        return f"{self.prefix}:frame:{broadcast_id}"

    def viewers_key(self, broadcast_id: str) -> str:
        return f"{self.prefix}:viewers:{broadcast_id}"

    def ended_key(self, broadcast_id: str) -> str:
        return f"{self.prefix}:ended:{broadcast_id}"

    def channel(self, broadcast_id: str) -> str:
        return f"{self.prefix}:frames:{broadcast_id}"

    # --- the origin's side --------------------------------------------------------------

    def claim(self, record: LiveRecord) -> LiveRecord | None:
        """Registers the broadcast cluster-wide; answers the one already live in its room
        instead, if any (None when the claim holds)."""
        encoded = record.encode()
        if self._redis.set(self.live_key(record.room_id), encoded, nx=True, px=self.ttl_ms):
            return None
        held = self._redis.get(self.live_key(record.room_id))
        if held is None:
            # It lapsed between the two calls: try once more.
            if self._redis.set(self.live_key(record.room_id), encoded, nx=True, px=self.ttl_ms):
                return None
            held = self._redis.get(self.live_key(record.room_id))
            if held is None:
                return None
        return LiveRecord.decode(held)

    def renew(self, records: Sequence[LiveRecord]) -> list[LiveRecord]:
        """Keeps the broadcasts alive for another TTL; answers those that had lapsed."""
        if not records:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for record in records:
            self._renew(
                keys=[self.live_key(record.room_id)],
                args=[record.broadcast_id, self.ttl_ms],
                client=pipe,
            )
            pipe.pexpire(self.frame_key(record.broadcast_id), self.ttl_ms)
            pipe.pexpire(self.viewers_key(record.broadcast_id), self.ttl_ms)
        answers = pipe.execute()
        renewed = answers[::3]
        return [record for record, kept in zip(records, renewed, strict=True) if not kept]

    def publish(self, broadcast_id: str, seq: int, frame: bytes) -> None:
        """Makes the frame the broadcast's latest everywhere."""
        data = SEQ.pack(seq) + frame
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self.frame_key(broadcast_id), data, px=self.ttl_ms)
        pipe.publish(self.channel(broadcast_id), data)
        pipe.execute()

    def end(self, record: LiveRecord) -> None:
        """The broadcast ended (and the caller tells the room): gone from every process,
        its mirrors told now."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self.ended_key(record.broadcast_id), b"1", px=ENDED_MARK_MS)
        self._delete_if(
            keys=[self.live_key(record.room_id)], args=[record.broadcast_id], client=pipe
        )
        pipe.delete(self.frame_key(record.broadcast_id), self.viewers_key(record.broadcast_id))
        pipe.publish(self.channel(record.broadcast_id), END)
        pipe.execute()

    # --- every process's side -----------------------------------------------------------

    def live(self, room_ids: Iterable[int]) -> dict[int, LiveRecord]:
        """The rooms' broadcasts live anywhere, by room."""
        ids = list(room_ids)
        if not ids:
            return {}
        found = self._redis.mget([self.live_key(room_id) for room_id in ids])
        return {
            room_id: LiveRecord.decode(raw)
            for room_id, raw in zip(ids, found, strict=True)
            if raw is not None
        }

    def is_live(self, record: LiveRecord) -> bool:
        raw = self._redis.get(self.live_key(record.room_id))
        return raw is not None and LiveRecord.decode(raw).broadcast_id == record.broadcast_id

    def latest(self, broadcast_id: str) -> tuple[int, bytes] | None:
        raw = self._redis.get(self.frame_key(broadcast_id))
        if not isinstance(raw, bytes) or not raw:
            return None
        return SEQ.unpack_from(raw)[0], raw[SEQ.size :]

    def change_viewers(self, broadcast_id: str, delta: int) -> int:
        """Counts this process's viewers up or down; answers the cluster's total."""
        key = self.viewers_key(broadcast_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, self.process_id, delta)
        pipe.pexpire(key, self.ttl_ms)
        pipe.hvals(key)
        *_, counts = pipe.execute()
        return sum(max(0, int(count)) for count in counts)

    def viewers(self, broadcast_ids: Sequence[str]) -> dict[str, int]:
        if not broadcast_ids:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for broadcast_id in broadcast_ids:
            pipe.hvals(self.viewers_key(broadcast_id))
        return {
            broadcast_id: sum(max(0, int(count)) for count in counts)
            for broadcast_id, counts in zip(broadcast_ids, pipe.execute(), strict=True)
        }

    def mark_ended(self, broadcast_id: str) -> bool:
        """True for the one process that first finds the broadcast lapsed (and tells its
        room); False once anyone ended or marked it."""
        return bool(self._redis.set(self.ended_key(broadcast_id), b"1", nx=True, px=ENDED_MARK_MS))

    def feed(
        self,
        record: LiveRecord,
        hub: FrameHub,
        stopped: Callable[[], bool],
        check_seconds: float = WAIT_SECONDS,
    ) -> Ending:
        """Feeds a mirror's hub with the broadcast's newest frames until it ends
        ("ended": its origin ended it; "gone": it lapsed, its origin died) or
        `stopped()` says so ("stopped"). Reconnects after a lost connection."""
        while not stopped():
            try:
                return self._feed_once(record, hub, stopped, check_seconds)
            except HubClosed:
                return "stopped"
            except redis.RedisError as exc:
                log.warning("video relay for room %s: %s; resubscribing", record.room_id, exc)
                time.sleep(RETRY_SECONDS)
        return "stopped"

    def _feed_once(
        self,
        record: LiveRecord,
        hub: FrameHub,
        stopped: Callable[[], bool],
        check_seconds: float,
    ) -> Ending:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.channel(record.broadcast_id))
            # Subscribed first, so no frame falls between the latest and the first heard.
            latest = self.latest(record.broadcast_id)
            if latest is not None:
                hub.publish(latest[1], seq=latest[0])
            checked = time.monotonic()
            while not stopped():
                message = pubsub.get_message(timeout=check_seconds)
                newest: bytes | None = None
                while message is not None:
                    data = message["data"]
                    if data == END:
                        return "ended"
                    newest = data
                    message = pubsub.get_message(timeout=0)
                if newest is not None:
                    hub.publish(newest[SEQ.size :], seq=SEQ.unpack_from(newest)[0])
                now = time.monotonic()
                if now - checked >= check_seconds:
                    checked = now
                    if not self.is_live(record):
                        return "gone"
            return "stopped"
        finally:
            pubsub.close()

    def close(self) -> None:
        self._redis.close()


def relay_from_config(config: dict[str, Any]) -> FrameRelay | None:
    url = config.get("PARLEY_MESSAGE_QUEUE")
    if not url:
        return None
    return FrameRelay(
        url, f"{config['PARLEY_REDIS_PREFIX']}:video", config["PARLEY_VIDEO_RELAY_TTL_SECONDS"]
    )
