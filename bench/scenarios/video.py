"""Live video: one broadcaster sending 640x480 JPEGs over Socket.IO at a steady rate, and
N viewers reading the room's MJPEG stream over HTTP, for each N in turn. Measures the
frames per second each viewer gets, the rate the broadcaster achieves, and the server's
CPU per viewer. Parley only: the baseline has no video."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import socketio

from ..load import Rest, mean
from ..servers import Server

WIDTH, HEIGHT = 640, 480
DISTINCT_FRAMES = 15
JPEG_QUALITY = 80
BOUNDARY = b"--parleyframe"
ACK_TIMEOUT = 10.0
# How long N viewers may take to get their first response headers, and the server to
# count them out again after they close.
SETTLE_SECONDS = 15.0

_frames: list[bytes] = []


def test_frames() -> list[bytes]:
    """`DISTINCT_FRAMES` test-pattern JPEGs (colour bars, a grey ramp, a checkerboard,
    a moving ball, the frame number, and sensor-like noise so they weigh what a webcam's
    do, about 40 KB), made once per process."""
    if not _frames:
        from PIL import Image, ImageDraw, ImageFont

        bars = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0)]
        bars += [(192, 0, 192), (192, 0, 0), (0, 0, 192)]
        font = ImageFont.load_default(size=48)
        for k in range(DISTINCT_FRAMES):
            image = Image.new("RGB", (WIDTH, HEIGHT))
            draw = ImageDraw.Draw(image)
            width = WIDTH / len(bars)
            for i, colour in enumerate(bars):
                draw.rectangle([int(i * width), 0, int((i + 1) * width), HEIGHT * 2 // 3], colour)
            for x in range(WIDTH):
                v = 255 * x // (WIDTH - 1)
                draw.line([x, HEIGHT * 2 // 3, x, HEIGHT * 5 // 6], fill=(v, v, v))
            for y in range(HEIGHT * 5 // 6, HEIGHT, 8):
                for x in range(0, WIDTH, 8):
                    if (x // 8 + y // 8 + k) % 2:
                        draw.rectangle([x, y, x + 7, y + 7], fill=(255, 255, 255))
            cx = 40 + (WIDTH - 80) * k // (DISTINCT_FRAMES - 1)
            draw.ellipse([cx - 40, HEIGHT // 3 - 40, cx + 40, HEIGHT // 3 + 40], (255, 128, 0))
            draw.text((20, 20), f"parley bench {k:02d}", fill=(0, 0, 0), font=font)
            noise = Image.effect_noise((WIDTH, HEIGHT), 32).convert("RGB")
            out = io.BytesIO()
            Image.blend(image, noise, 0.12).save(out, "JPEG", quality=JPEG_QUALITY)
            _frames.append(out.getvalue())
    return _frames


@dataclass
class Broadcaster:
    """Sends a frame every 1/fps seconds by the clock, awaiting each ack; a late ack
    delays the next frame (no burst to catch up), as the web page does."""

    sio: socketio.AsyncClient
    room: int
    fps: int
    acked: int = 0
    failed: int = 0
    stopped: bool = False

    async def run(self) -> None:
        frames = test_frames()
        interval = 1 / self.fps
        due = time.perf_counter()
        k = 0
        while not self.stopped:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due = max(due + interval, time.perf_counter())
            try:
                ack = await self.sio.call(
                    "video:frame",
                    ({"room_id": self.room}, frames[k % len(frames)]),
                    timeout=ACK_TIMEOUT,
                )
            except socketio.exceptions.TimeoutError:
                self.failed += 1
                continue
            k += 1
            if isinstance(ack, dict) and ack.get("ok"):
                self.acked += 1
            else:
                self.failed += 1


@dataclass
class Viewer:
    """One reader of live.mjpg, counting whole, well-formed frames as they come."""

    frames: int = 0
    skipped: int = 0  # frame numbers jumped over (the server skips for slow viewers)
    bad: int = 0
    bytes: int = 0
    ready: bool = False
    error: str | None = None
    last_seq: int | None = None

    async def watch(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        try:
            async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status != 200:
                    self.error = f"http_{response.status}"
                    return
                self.ready = True
                await self._read(response.content)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported, and this viewer's count stops
            self.error = f"{type(exc).__name__}: {exc}"

    async def _read(self, stream: aiohttp.StreamReader) -> None:
        """Parts of `--parleyframe`, headers, a blank line, Content-Length bytes, CRLF."""
        while True:
            line = await stream.readline()
            if not line:
                return
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            if line == BOUNDARY + b"--":
                return
            if line != BOUNDARY:
                raise ValueError(f"expected the boundary, got {line[:40]!r}")
            headers: dict[str, str] = {}
            while True:
                header = (await stream.readline()).rstrip(b"\r\n")
                if not header:
                    break
                name, _, value = header.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await stream.readexactly(int(headers["content-length"]))
            if await stream.readexactly(2) != b"\r\n":
                raise ValueError("a part does not end with CRLF")
            seq = int(headers.get("x-frame-seq", "0"))
            good = (
                headers.get("content-type") == "image/jpeg"
                and body[:2] == b"\xff\xd8"
                and body[-2:] == b"\xff\xd9"
            )
            if not good:
                self.bad += 1
                continue
            if self.last_seq is not None and seq > self.last_seq + 1:
                self.skipped += seq - self.last_seq - 1
            self.last_seq = seq
            self.frames += 1
            self.bytes += len(body)


async def _viewer_count(rest: Rest, token: str, room: int) -> int:
    status, live = await rest.call("GET", f"/rooms/{room}/live", token)
    return int(live["viewers"]) if status == 200 else -1


async def _wait_viewers(rest: Rest, token: str, room: int, count: int) -> int:
    deadline = time.perf_counter() + SETTLE_SECONDS
    seen = await _viewer_count(rest, token, room)
    while seen != count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        seen = await _viewer_count(rest, token, room)
    return seen


async def _measure(
    server: Server,
    rest: Rest,
    token: str,
    room: int,
    broadcaster: Broadcaster,
    count: int,
    seconds: float,
) -> dict[str, Any]:
    """`count` viewers for `seconds` (after all have their response headers)."""
    viewers = [Viewer() for _ in range(count)]
    url = f"{server.url}/rooms/{room}/live.mjpg"
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        tasks = [asyncio.create_task(v.watch(http, url, token)) for v in viewers]
        try:
            deadline = time.perf_counter() + SETTLE_SECONDS
            while not all(v.ready or v.error for v in viewers):
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.02)
            counted = await _viewer_count(rest, token, room) if count else 0
            before = [v.frames for v in viewers]
            sent_before = broadcaster.acked
            cpu_before = server.cpu_seconds()
            own_before = time.process_time()
            start = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - start
            cpu = server.cpu_seconds() - cpu_before
            own = time.process_time() - own_before
            got = [v.frames - b for v, b in zip(viewers, before, strict=True)]
            sent = broadcaster.acked - sent_before
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    left = await _wait_viewers(rest, token, room, 0)
    per_viewer = sorted(n / elapsed for n in got)
    return {
        "viewers": count,
        "seconds": round(elapsed, 3),
        "server_counted_viewers": counted,
        "viewer_errors": [v.error for v in viewers if v.error][:5],
        "fps_min": round(min(per_viewer), 2) if per_viewer else None,
        "fps_p50": round(per_viewer[len(per_viewer) // 2], 2) if per_viewer else None,
        "fps_mean": round(mean(per_viewer) or 0, 2) if per_viewer else None,
        "viewers_at_14_fps": sum(1 for f in per_viewer if f >= 14),
        "frames_skipped": sum(v.skipped for v in viewers),
        "bad_frames": sum(v.bad for v in viewers),
        "broadcaster_fps": round(sent / elapsed, 2),
        "server_cpu_s_per_s": round(cpu / elapsed, 3),
        "server_cpu_s_per_s_per_viewer": round(cpu / elapsed / count, 4) if count else None,
        "client_cpu_s_per_s": round(own / elapsed, 3),
        "viewers_left_after_close": left,
    }


async def video_viewers(
    server: Server,
    viewers: tuple[int, ...] = (1, 10, 50, 200),
    seconds: float = 5,
    fps: int = 15,
) -> dict[str, Any]:
    """A 640x480 broadcast at `fps`; for each count, that many MJPEG viewers for
    `seconds`, all closed before the next count. A first step with no viewers gives the
    broadcast's own cost."""
    assert server.kind == "parley", "the baseline has no video"
    frames = test_frames()
    rest = Rest(server)
    sio = socketio.AsyncClient(reconnection=False)
    broadcaster: Broadcaster | None = None
    task: asyncio.Task[None] | None = None
    room_id = 0
    try:
        _, owner = await rest.register("cam")
        _, watcher = await rest.register("eye")
        status, room = await rest.call("POST", "/rooms", owner, {"name": f"live-{time.time_ns()}"})
        assert status == 201, room
        room_id = int(room["id"])
        status, body = await rest.call("POST", f"/rooms/{room_id}/join", watcher)
        assert status in (200, 201), body
        await sio.connect(server.url, auth={"token": owner}, transports=["websocket"])
        ack = await sio.call(
            "video:start",
            {"room_id": room_id, "width": WIDTH, "height": HEIGHT, "fps": fps},
            timeout=ACK_TIMEOUT,
        )
        assert ack.get("ok"), ack
        broadcaster = Broadcaster(sio, room_id, fps)
        task = asyncio.create_task(broadcaster.run())
        steps = []
        for count in (0, *viewers):
            steps.append(
                await _measure(server, rest, watcher, room_id, broadcaster, count, seconds)
            )
        # Each viewer's own cost: what the server spent over the broadcast with none.
        alone = steps[0]["server_cpu_s_per_s"]
        for step in steps[1:]:
            extra = (step["server_cpu_s_per_s"] - alone) / step["viewers"]
            step["server_cpu_s_per_s_per_viewer_marginal"] = round(extra, 4)
        return {
            "width": WIDTH,
            "height": HEIGHT,
            "fps": fps,
            "frame_bytes_mean": round(sum(map(len, frames)) / len(frames)),
            "broadcaster_failed_frames": broadcaster.failed,
            "steps": steps,
        }
    finally:
        if broadcaster is not None:
            broadcaster.stopped = True
        if task is not None:
            await asyncio.wait([task], timeout=ACK_TIMEOUT + 1)
        if sio.connected:
            await sio.call("video:stop", {"room_id": room_id}, timeout=ACK_TIMEOUT)
            await sio.disconnect()
        await rest.close()
