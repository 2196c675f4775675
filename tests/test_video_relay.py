"""The Redis frame relay that carries live broadcasts across processes, on a real Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from databases import unavailable
from parley.video.hub import FrameHub
from parley.video.relay import FrameRelay, LiveRecord, new_broadcast_id

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key and channel prefix of the test's own; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(f"No Redis answers at {REDIS_URL}; start one to test the video relay")
    name = f"parley-test:{uuid.uuid4().hex[:12]}"
    yield name
    for key in client.scan_iter(match=f"{name}:*"):
        client.delete(key)
    client.close()


def make_relay(prefix: str, ttl: float = 5.0) -> FrameRelay:
    return FrameRelay(REDIS_URL, prefix, ttl)


@pytest.fixture
def origin(prefix: str) -> Iterator[FrameRelay]:
    relay = make_relay(prefix)
    yield relay
    relay.close()


@pytest.fixture
def other(prefix: str) -> Iterator[FrameRelay]:
    """A second process's relay on the same Redis and prefix."""
    relay = make_relay(prefix)
    yield relay
    relay.close()


def record(relay: FrameRelay, room_id: int = 7, name: str = "ada") -> LiveRecord:
    return LiveRecord(
        room_id,
        new_broadcast_id(),
        1,
        {"id": 1, "username": name, "display_name": name.title()},
        640,
        480,
        15,
        "2026-01-01T00:00:00+00:00",
        relay.process_id,
    )


class Feeding:
    """A mirror's feed running on a thread, as it runs on a task in a server."""

    def __init__(
        self,
        relay: FrameRelay,
        live: LiveRecord,
        check_seconds: float = 0.2,
        hub: FrameHub | None = None,
    ) -> None:
        self.hub = hub or FrameHub()
        self.ending: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(relay, live, check_seconds), daemon=True
        )
        self._thread.start()

    def _run(self, relay: FrameRelay, live: LiveRecord, check_seconds: float) -> None:
        self.ending = relay.feed(live, self.hub, self._stop.is_set, check_seconds)

    def stop(self) -> str | None:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.ending

    def join(self, timeout: float) -> str | None:
        self._thread.join(timeout)
        return self.ending


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_one_broadcast_per_room_across_processes(origin: FrameRelay, other: FrameRelay) -> None:
    first = record(origin, name="ada")
    assert origin.claim(first) is None
    held = other.claim(record(other, name="bob"))
    assert held == first
    assert other.live([7, 8]) == {7: first}
    origin.end(first)
    assert other.live([7]) == {}
    assert other.claim(record(other, name="bob")) is None


def test_a_mirror_gets_the_latest_frame_at_once_then_each_new_one_with_its_number(
    origin: FrameRelay, other: FrameRelay
) -> None:
    live = record(origin)
    origin.claim(live)
    origin.publish(live.broadcast_id, 41, b"older")
    origin.publish(live.broadcast_id, 42, b"latest")
    assert other.latest(live.broadcast_id) == (42, b"latest")
    feeding = Feeding(other, live)
    try:
        wait_for(lambda: feeding.hub.latest() == (42, b"latest"))
        # Subscribed by now (the latest is read after subscribing): each new frame arrives.
        origin.publish(live.broadcast_id, 43, b"next")
        wait_for(lambda: feeding.hub.latest() == (43, b"next"))
        # A number at or below the mirror's is one it has: never a step back.
        origin.publish(live.broadcast_id, 40, b"stale")
        origin.publish(live.broadcast_id, 44, b"newest")
        wait_for(lambda: feeding.hub.latest() == (44, b"newest"))
    finally:
        assert feeding.stop() == "stopped"


def test_ending_on_the_origin_ends_every_mirror_at_once(
    origin: FrameRelay, other: FrameRelay
) -> None:
    live = record(origin)
    origin.claim(live)
    feeding = Feeding(other, live, check_seconds=30)
    origin.publish(live.broadcast_id, 1, b"one")
    wait_for(lambda: feeding.hub.latest() is not None)
    origin.end(live)
    # Told over the channel, long before the mirror's next look at the record.
    assert feeding.join(timeout=5) == "ended"
    assert other.latest(live.broadcast_id) is None
    # The origin said it ended (and told the room): no one else tells it again.
    assert not other.mark_ended(live.broadcast_id)


def test_a_broadcast_whose_origin_stops_renewing_is_gone_everywhere_within_its_ttl(
    prefix: str,
) -> None:
    dying = make_relay(prefix, ttl=0.5)
    watching = make_relay(prefix, ttl=0.5)
    live = record(dying)
    assert dying.claim(live) is None
    feeding = Feeding(watching, live, check_seconds=0.2)
    started = time.monotonic()
    # The origin is killed: no renewal, no end. Its record and its frames lapse.
    assert feeding.join(timeout=5) == "gone"
    assert time.monotonic() - started < 3
    assert watching.live([live.room_id]) == {}
    # The first process to find it gone tells the room; the others do not.
    assert watching.mark_ended(live.broadcast_id)
    assert not dying.mark_ended(live.broadcast_id)
    dying.close()
    watching.close()


def test_renewing_keeps_a_broadcast_live_and_reports_the_lapsed_ones(prefix: str) -> None:
    relay = make_relay(prefix, ttl=0.6)
    kept = record(relay, room_id=1)
    lapsed = record(relay, room_id=2)
    relay.claim(kept)
    relay.claim(lapsed)
    for _ in range(4):
        time.sleep(0.3)
        assert relay.renew([kept]) == []
    assert set(relay.live([1, 2])) == {1}
    assert relay.renew([kept, lapsed]) == [lapsed]
    relay.close()


def test_an_old_origin_neither_renews_nor_ends_the_broadcast_that_replaced_its_own(
    origin: FrameRelay, other: FrameRelay
) -> None:
    old = record(origin)
    origin.claim(old)
    # Its record lapsed (gone here by hand) and another process went live in the room.
    origin.end(old)
    new = record(other, name="bob")
    assert other.claim(new) is None
    assert origin.renew([old]) == [old]
    origin.end(old)
    assert origin.live([new.room_id]) == {new.room_id: new}


def test_viewers_are_counted_per_process_and_summed(origin: FrameRelay, other: FrameRelay) -> None:
    live = record(origin)
    origin.claim(live)
    assert origin.change_viewers(live.broadcast_id, +1) == 1
    assert other.change_viewers(live.broadcast_id, +1) == 2
    assert other.change_viewers(live.broadcast_id, +1) == 3
    assert origin.change_viewers(live.broadcast_id, -1) == 2
    assert origin.viewers([live.broadcast_id, "nothing"]) == {live.broadcast_id: 2, "nothing": 0}


def test_a_slow_mirror_skips_to_the_newest_frame(origin: FrameRelay, other: FrameRelay) -> None:
    """Frames that piled up while the mirror was busy are drained; only the newest
    reaches its viewers."""
    live = record(origin)
    origin.claim(live)
    published: list[int] = []

    class CountingHub(FrameHub):
        def publish(self, frame: bytes, seq: int | None = None) -> int:
            published.append(seq or 0)
            if len(published) == 1:
                time.sleep(0.5)  # busy: the next frames pile up in the meantime
            return super().publish(frame, seq)

    feeding = Feeding(other, live, hub=CountingHub())
    try:
        # Subscribed (a fixed pause was too short once on a loaded machine: the mirror's
        # first frame was the sixth).
        channel = origin.channel(live.broadcast_id)
        wait_for(lambda: origin._redis.pubsub_numsub(channel)[0][1] >= 1)
        origin.publish(live.broadcast_id, 1, b"first")
        time.sleep(0.1)
        for seq in range(2, 30):
            origin.publish(live.broadcast_id, seq, f"frame {seq}".encode())
        wait_for(lambda: feeding.hub.latest() == (29, b"frame 29"))
        assert published[0] == 1 and published[-1] == 29
        assert len(published) < 10, published
    finally:
        feeding.stop()
