"""The frame hub and the frame checks, without a server."""

from __future__ import annotations

import threading
import time

import pytest

from parley.errors import ApiError
from parley.video.broadcasts import Broadcast, Broadcasts
from parley.video.frames import check_frame
from parley.video.hub import FrameHub, HubClosed
from support import jpeg


def test_a_viewer_gets_the_latest_frame_newer_than_the_last_it_took() -> None:
    hub = FrameHub()
    assert hub.wait_newer(0, timeout=0.01) is None
    hub.publish(b"one")
    hub.publish(b"two")
    assert hub.wait_newer(0, timeout=0) == (2, b"two")
    assert hub.wait_newer(2, timeout=0.01) is None
    assert hub.latest() == (2, b"two")


def test_a_waiting_viewer_wakes_on_the_next_frame() -> None:
    hub = FrameHub()
    got: list[tuple[int, bytes] | None] = []
    waiter = threading.Thread(target=lambda: got.append(hub.wait_newer(0, timeout=5)))
    waiter.start()
    time.sleep(0.05)
    hub.publish(b"frame")
    waiter.join(timeout=5)
    assert got == [(1, b"frame")]


def test_a_slow_viewer_skips_frames_and_never_holds_up_a_fast_one() -> None:
    hub = FrameHub()
    taken: dict[str, list[int]] = {"fast": [], "slow": []}
    done = threading.Event()

    def viewer(name: str, pause: float) -> None:
        seq = 0
        while not done.is_set():
            got = hub.wait_newer(seq, timeout=0.2)
            if got:
                seq = got[0]
                taken[name].append(seq)
                time.sleep(pause)

    threads = [
        threading.Thread(target=viewer, args=("fast", 0)),
        threading.Thread(target=viewer, args=("slow", 0.25)),
    ]
    for thread in threads:
        thread.start()
    for _ in range(40):
        hub.publish(b"x")
        time.sleep(0.02)
    done.set()
    for thread in threads:
        thread.join(timeout=5)
    assert len(taken["fast"]) >= 30
    assert len(taken["slow"]) <= 6
    assert taken["slow"] == sorted(set(taken["slow"]))


def test_closing_wakes_every_viewer_and_refuses_more_frames() -> None:
    hub = FrameHub()
    outcomes: list[str] = []

    def viewer() -> None:
        try:
            hub.wait_newer(0, timeout=5)
        except HubClosed:
            outcomes.append("closed")

    threads = [threading.Thread(target=viewer) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    hub.close()
    for thread in threads:
        thread.join(timeout=5)
    assert outcomes == ["closed"] * 5
    assert hub.latest() is None
    with pytest.raises(HubClosed):
        hub.publish(b"late")


def test_the_frame_cap_allows_max_fps_in_any_second() -> None:
    broadcast = Broadcast(1, 1, {}, 640, 480, 15, None)  # type: ignore[arg-type]
    assert all(broadcast.frame_wait(3, now=10.0 + i * 0.01) is None for i in range(3))
    wait = broadcast.frame_wait(3, now=10.5)
    assert wait == pytest.approx(0.5)
    assert broadcast.frame_wait(3, now=11.0) is None


def test_one_broadcast_per_room_and_removing_it_closes_its_hub() -> None:
    registry = Broadcasts()
    first = Broadcast(7, 1, {}, 640, 480, 15, None)  # type: ignore[arg-type]
    second = Broadcast(7, 2, {}, 640, 480, 15, None)  # type: ignore[arg-type]
    assert registry.add(first) is first
    assert registry.add(second) is first
    assert registry.remove(7, only=second) is None
    assert registry.remove(7) is first
    assert first.hub.closed and len(registry) == 0


def test_a_real_jpeg_passes_with_its_size() -> None:
    assert check_frame(jpeg(320, 240), 512 * 1024) == (320, 240)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not bytes", "invalid_frame"),
        (b"GIF89a" + b"\0" * 100, "invalid_frame"),
        (jpeg()[:-2], "invalid_frame"),
        (b"\xff\xd8\xff" + b"\0" * 50 + b"\xff\xd9", "invalid_frame"),
        (jpeg(1921, 100), "invalid_frame"),
        (jpeg(100, 1081), "invalid_frame"),
    ],
    ids=["text", "gif", "cut-short", "garbage-between-markers", "too-wide", "too-tall"],
)
def test_anything_but_a_bounded_jpeg_is_refused(frame: str | bytes, code: str) -> None:
    with pytest.raises(ApiError) as refused:
        check_frame(frame, 512 * 1024)
    assert refused.value.code == code


def test_a_frame_over_the_byte_limit_is_refused() -> None:
    with pytest.raises(ApiError) as refused:
        check_frame(jpeg(), 100)
    assert refused.value.code == "frame_too_large" and refused.value.status == 413


def test_following_yields_each_newest_frame_until_stopped_or_closed() -> None:
    hub = FrameHub()
    hub.publish(b"a")
    followed = hub.follow(lambda: False, wake=0.01)
    assert next(followed) == (1, b"a")
    hub.publish(b"b")
    hub.publish(b"c")
    assert next(followed) == (3, b"c")
    hub.close()
    assert list(followed) == []
    assert list(FrameHub().follow(lambda: True)) == []


def test_a_stopped_viewer_wakes_at_once_and_takes_no_frame() -> None:
    hub = FrameHub()
    stop = threading.Event()
    taken: list[int] = []
    ended = threading.Event()

    def follow() -> None:
        for seq, _ in hub.follow(stop.is_set, wake=30.0):
            taken.append(seq)
        ended.set()

    follower = threading.Thread(target=follow)
    follower.start()
    hub.publish(b"one")
    deadline = time.monotonic() + 5
    while not taken and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    hub.wake()
    assert ended.wait(5), "the viewer slept through wake()"
    hub.publish(b"two")
    follower.join(timeout=5)
    assert taken == [1]
