"""Broadcasting a frame source into a room over Socket.IO: the engine of `parley stream`.

The room is found by name over REST: among the caller's rooms first, then in the public
directory, which the caller joins (going live needs membership, and a public room is
open to anyone). Frames are paced by the clock and each waits for its ack, so a slow
server or network slows the stream instead of piling frames up.
"""

from __future__ import annotations

import contextlib
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
import socketio

from .sources import FrameSource

Log = Callable[[str], None]

STATUS_EVERY = 5.0
CONNECT_TIMEOUT = 10.0
ACK_TIMEOUT = 10.0
LOST_CHECK_EVERY = 0.2
CLOSE_WAIT = 0.5
# The server counts a broadcaster's frames per second as they arrive; pacing a hair
# slower than asked keeps network jitter from tripping that cap at the top rate.
PACE_MARGIN = 1.01
# Waits before each reconnect attempt after the connection drops: about half a minute.
RECONNECT_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)
# Rate-limit waits this long or longer are worth a line in the log; shorter ones are
# the jitter of streaming at the server's cap.
SLOW_DOWN_NOTICE = 0.5
# Why a broadcast may end that going live again cures: the server restarting, a stall
# of ours long enough for the server to call the broadcast idle, or one of the server's
# long enough for the other processes of a cluster to call it lost.
RESTARTABLE_ENDS = {"shutdown", "idle", "lost"}
TOKEN_REFUSED = {"unauthorized", "invalid_token"}
TOKEN_NOT_VALID = "the token is not valid (revoked, or its account deactivated)"
# Frames the server refuses in a row (invalid_frame, frame_too_large) before giving up.
MAX_REFUSED_IN_A_ROW = 30


class StreamError(Exception):
    """The broadcast could not start or could not go on; the message says why."""


class AlreadyLive(StreamError):
    """Someone (perhaps our own dropped connection, not yet noticed) is live in the room."""


@dataclass
class StreamResult:
    frames_sent: int = 0
    frames_refused: int = 0
    rate_limited: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames_sent / self.seconds if self.seconds > 0 else 0.0


def name_key(name: str) -> str:
    """Room names compare the way the server compares them: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


# --- finding the room ------------------------------------------------------------------


class RestClient:
    def __init__(self, server_url: str, token: str) -> None:
        self.base = server_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str) -> Any:
        url = f"{self.base}/api/v1{path}"
        try:
            response = self.http.request(method, url, timeout=CONNECT_TIMEOUT)
        except requests.ConnectionError:
            raise StreamError(
                f"Cannot reach the Parley server at {self.base}: is it running there?"
            ) from None
        except requests.Timeout:
            raise StreamError(f"The server at {self.base} did not answer in time.") from None
        except requests.RequestException as exc:
            raise StreamError(f"Cannot talk to the server at {self.base}: {exc}") from None
        if response.status_code == 401:
            raise StreamError(
                f"The server at {self.base} refused the token (401): {error_message(response)}"
            )
        if not response.ok:
            raise StreamError(
                f"{method} {path} failed with HTTP {response.status_code}: "
                f"{error_message(response)}"
            )
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()


def error_message(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['message']} ({error['code']})"
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason


def find_room(rest: RestClient, room_name: str, log: Log) -> dict[str, Any]:
    """The caller's room with this name; else the public room, joined; else StreamError."""
    key = name_key(room_name)
    mine: list[dict[str, Any]] = rest.call("GET", "/rooms")["rooms"]
    for room in mine:
        if room.get("name") and name_key(room["name"]) == key:
            return room
    for room in rest.call("GET", "/rooms/directory")["rooms"]:
        if room.get("name") and name_key(room["name"]) == key:
            rest.call("POST", f"/rooms/{room['id']}/join")
            log(f"Joined the public room {room['name']} to broadcast in it.")
            return dict(room)
    names = sorted(room["name"] for room in mine if room.get("name"))
    known = f" Your rooms: {', '.join(names[:20])}." if names else ""
    raise StreamError(f"No room named {room_name!r} among your rooms or public rooms.{known}")


# --- the Socket.IO side ----------------------------------------------------------------


class Ack:
    """An event's acknowledgement: {"ok": true, ...} or {"ok": false, "error": {...}}."""

    def __init__(self, raw: Any) -> None:
        self.raw: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.ok = self.raw.get("ok") is True
        error = self.raw.get("error")
        if self.ok:
            error = {}
        elif not isinstance(error, dict):
            error = {"code": "bad_ack", "message": f"an unexpected answer: {raw!r}"}
        self.error: dict[str, Any] = error

    @property
    def code(self) -> str:
        return str(self.error.get("code", ""))

    @property
    def message(self) -> str:
        return str(self.error.get("message", ""))

    @property
    def details(self) -> dict[str, Any]:
        details = self.error.get("details")
        return details if isinstance(details, dict) else {}


class ConnectionLost(Exception):
    """The socket dropped, or stopped acknowledging."""


class Channel:
    """One Socket.IO connection carrying one room's broadcast."""

    def __init__(self, server_url: str, token: str, room_id: int) -> None:
        self.room_id = room_id
        self.viewers = 0
        self.ended_by_server: str | None = None
        self.refusal: str | None = None
        self._ended = threading.Event()
        self._lost = threading.Event()
        # The stream stops itself on Ctrl+C; the library's own handler would disconnect
        # first, before video:stop could be sent.
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("video:stop", self._on_video_stop)
        self.sio.on("video:viewers", self._on_viewers)
        try:
            self.sio.connect(
                server_url,
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=CONNECT_TIMEOUT,
            )
        except socketio.exceptions.ConnectionError as exc:
            self.close()
            if self.refusal is not None:
                raise StreamError(f"The server refused the connection: {self.refusal}") from None
            raise ConnectionLost(f"Cannot connect to {server_url}: {exc}") from None

    def _on_disconnect(self, *_reason: Any) -> None:
        self._lost.set()

    def _on_connect_error(self, data: Any = None) -> None:
        # A dict is the server saying no (a bad token); a string is a transport failure.
        if isinstance(data, dict):
            inner = data.get("data")
            error = inner if isinstance(inner, dict) else data
            if error.get("code") in TOKEN_REFUSED:
                self.refusal = TOKEN_NOT_VALID
            else:
                self.refusal = str(error.get("message") or data)

    def _on_video_stop(self, data: Any = None) -> None:
        if isinstance(data, dict) and data.get("room_id") == self.room_id:
            self.ended_by_server = str(data.get("reason") or "stopped")
            self._ended.set()

    def _on_viewers(self, data: Any = None) -> None:
        if isinstance(data, dict) and data.get("room_id") == self.room_id:
            self.viewers = int(data.get("count") or 0)

    def forget_end(self, wait: float) -> None:
        """Let the video:stop of a broadcast we ended ourselves arrive, then forget it."""
        self._ended.wait(wait)
        self._ended.clear()
        self.ended_by_server = None

    def wait_for_end(self, timeout: float) -> str | None:
        """Why the server ended the broadcast, once its video:stop arrives (or None)."""
        self._ended.wait(timeout)
        return self.ended_by_server

    @property
    def lost(self) -> bool:
        return self._lost.is_set() or not self.sio.connected

    def call(self, event: str, data: Any, timeout: float = ACK_TIMEOUT) -> Ack:
        """Emit and wait for the ack; ConnectionLost as soon as the socket drops.

        (The library's own `call` would sit out its whole timeout on a dead socket.)
        """
        answers: list[Any] = []
        answered = threading.Event()

        def on_ack(*args: Any) -> None:
            answers.append(args[0] if args else None)
            answered.set()

        if self.lost:
            raise ConnectionLost("the connection to the server dropped")
        try:
            self.sio.emit(event, data, callback=on_ack)
        except socketio.exceptions.SocketIOError as exc:
            raise ConnectionLost(str(exc) or type(exc).__name__) from None
        deadline = time.monotonic() + timeout
        while not answered.wait(LOST_CHECK_EVERY):
            if self._lost.is_set():
                raise ConnectionLost("the connection to the server dropped")
            if time.monotonic() >= deadline:
                raise ConnectionLost(f"no answer to {event} in {timeout:g} s")
        return Ack(answers[0])

    def close(self) -> None:
        """Disconnect, waiting a moment at most: the broadcast is over by now, and
        websocket-client would sit out 3 s for a close frame the server never answers."""
        closer = threading.Thread(target=self._disconnect, daemon=True)
        closer.start()
        closer.join(CLOSE_WAIT)

    def _disconnect(self) -> None:
        with contextlib.suppress(Exception):  # the socket may be gone already
            self.sio.disconnect()


# --- the broadcast ---------------------------------------------------------------------


def broadcaster_name(details: dict[str, Any]) -> str:
    who = details.get("broadcaster")
    if isinstance(who, dict):
        return str(who.get("display_name") or who.get("username") or who.get("id"))
    return str(who) if who is not None else "someone"


class Broadcast:
    """One room's broadcast from this process: going live, again after a drop, stopping."""

    def __init__(
        self,
        server_url: str,
        token: str,
        user_id: int,
        room: dict[str, Any],
        source: FrameSource,
        fps: int,
    ) -> None:
        self.server_url = server_url
        self.token = token
        self.user_id = user_id
        self.room_id = int(room["id"])
        self.room_name = str(room["name"])
        self.start_payload = {
            "room_id": self.room_id,
            "width": source.width,
            "height": source.height,
            "fps": fps,
        }
        self.channel: Channel | None = None

    def go_live(self, resuming: bool = False) -> None:
        """Connect and start the broadcast; StreamError when the server says no.

        When `resuming`, a broadcast of our own still live in the room is the one our
        dropped connection left (the server keeps it until it goes idle): it is stopped
        and started afresh rather than waited out.
        """
        channel = Channel(self.server_url, self.token, self.room_id)
        try:
            ack = channel.call("video:start", self.start_payload)
            if resuming and ack.code == "already_live" and self.is_mine(ack.details):
                channel.call("video:stop", {"room_id": self.room_id})
                channel.forget_end(wait=1.0)
                ack = channel.call("video:start", self.start_payload)
        except BaseException:
            channel.close()
            raise
        if not ack.ok:
            channel.close()
            if ack.code == "already_live":
                raise AlreadyLive(
                    f"{self.room_name} is already live: {broadcaster_name(ack.details)} is "
                    "broadcasting there. Only one broadcast runs in a room at a time."
                )
            raise StreamError(
                f"The server would not start the broadcast: {ack.message} ({ack.code})"
            )
        self.channel = channel

    def is_mine(self, details: dict[str, Any]) -> bool:
        who = details.get("broadcaster")
        return isinstance(who, dict) and who.get("id") == self.user_id

    def start(self) -> None:
        """`go_live` for the first time: a server out of reach is a StreamError too."""
        try:
            self.go_live()
        except ConnectionLost as exc:
            raise StreamError(str(exc)) from None

    def reconnect(self, why: str, log: Log, until: float | None) -> None:
        """Go live again on a new connection, a few times, then StreamError."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        last = why
        for attempt, delay in enumerate(RECONNECT_DELAYS, start=1):
            if until is not None and time.monotonic() + delay >= until:
                raise StreamError(f"{why}, and the stream's time ran out before it was back.")
            log(f"{last}; going live again in {delay:g} s ({attempt}/{len(RECONNECT_DELAYS)})")
            time.sleep(delay)
            try:
                self.go_live(resuming=True)
                log("Live again.")
                return
            except (ConnectionLost, AlreadyLive) as exc:
                last = str(exc)
        raise StreamError(f"Could not go live again at {self.server_url}: {last}")

    def stop(self, log: Log) -> None:
        channel, self.channel = self.channel, None
        if channel is None:
            return
        try:
            if not channel.lost:
                ack = channel.call("video:stop", {"room_id": self.room_id}, timeout=5)
                if not ack.ok and ack.code != "not_live":
                    log(f"video:stop: {ack.message}")
        except ConnectionLost:
            pass
        finally:
            channel.close()


def paced(frames: Iterator[bytes], fps: int, until: float | None) -> Iterator[bytes]:
    """The frames, let out a little under `fps` a second by the clock, until `until`.

    When a frame is late (its send took longer than a tick) the missed ticks are
    skipped: the next frame goes at once and the ticks count on from there.
    """
    interval = PACE_MARGIN / fps
    next_tick = time.monotonic()
    for frame in frames:
        if until is not None and next_tick >= until:
            time.sleep(max(0.0, until - time.monotonic()))  # the last frame's tick, too
            return
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield frame
        next_tick = max(next_tick + interval, time.monotonic())


def ended_message(reason: str) -> str:
    return {
        "stopped_by_moderator": "A moderator stopped the broadcast.",
        "not_allowed": "The broadcast ended: you may no longer post in this room.",
        "stopped": "The broadcast was stopped from another connection.",
    }.get(reason, f"The server ended the broadcast ({reason}).")


def send_frames(
    broadcast: Broadcast,
    source: FrameSource,
    fps: int,
    until: float | None,
    result: StreamResult,
    log: Log,
) -> None:
    """Send the source's frames, one ack at a time, logging a status line now and then.

    A frame the server rate-limits is sent again after the wait it asks for, so a stream
    asking for more than the server's cap settles at the cap.
    """
    refused_in_a_row = 0
    status_at, status_sent = time.monotonic(), 0
    for frame in paced(source.frames(), fps, until):
        channel = broadcast.channel
        assert channel is not None
        try:
            ack = channel.call("video:frame", ({"room_id": broadcast.room_id}, frame))
            while ack.code == "rate_limited":
                result.rate_limited += 1
                retry_after = ack.details.get("retry_after")
                wait = max(0.0, float(retry_after)) if retry_after is not None else 1.0
                if wait >= SLOW_DOWN_NOTICE:
                    log(f"The server asks for fewer frames; waiting {wait:g} s.")
                time.sleep(wait)
                ack = channel.call("video:frame", ({"room_id": broadcast.room_id}, frame))
        except ConnectionLost as exc:
            broadcast.reconnect(f"Connection lost ({exc})", log, until)
            continue
        if ack.ok:
            result.frames_sent += 1
            refused_in_a_row = 0
        elif ack.code in ("not_live", "not_the_broadcaster"):
            reason = channel.wait_for_end(0.5) or ack.code
            if reason not in RESTARTABLE_ENDS:
                raise StreamError(ended_message(reason))
            broadcast.reconnect(f"The server ended the broadcast ({reason})", log, until)
        elif ack.code in TOKEN_REFUSED:
            raise StreamError(f"The server refused a frame: {TOKEN_NOT_VALID}")
        elif ack.code in ("invalid_frame", "frame_too_large"):
            result.frames_refused += 1
            refused_in_a_row += 1
            log(f"Frame skipped: {ack.message}")
            if refused_in_a_row >= MAX_REFUSED_IN_A_ROW:
                raise StreamError(f"The server refused {refused_in_a_row} frames in a row.")
        else:
            raise StreamError(f"The server refused a frame: {ack.message} ({ack.code})")
        now = time.monotonic()
        if now - status_at >= STATUS_EVERY:
            rate = (result.frames_sent - status_sent) / (now - status_at)
            viewers = broadcast.channel.viewers if broadcast.channel else 0
            log(
                f"{result.frames_sent} frames sent, {rate:.1f} fps, "
                f"{viewers} viewer{'' if viewers == 1 else 's'}"
                + (f", {result.rate_limited} rate-limited" if result.rate_limited else "")
            )
            status_at, status_sent = now, result.frames_sent


def stream(
    server_url: str,
    token: str,
    room_name: str,
    source: FrameSource,
    fps: int,
    *,
    duration: float | None = None,
    log: Log = print,
) -> StreamResult:
    """Broadcast `source` into the room named `room_name` until `duration` ends or Ctrl+C.

    Raises StreamError when the room, the token or the server stand in the way, and lets
    the source's SourceError through; a broadcast that started is stopped either way.
    The caller closes the source.
    """
    rest = RestClient(server_url, token)
    try:
        me = rest.call("GET", "/users/me")
        room = find_room(rest, room_name, log)
    finally:
        rest.close()
    broadcast = Broadcast(server_url, token, int(me["id"]), room, source, fps)
    result = StreamResult()
    started = time.monotonic()
    try:
        broadcast.start()
        log(
            f"Live in {broadcast.room_name} (room {broadcast.room_id}): "
            f"{source.width}x{source.height} at up to {fps} fps. Ctrl+C stops."
        )
        started = time.monotonic()
        until = started + duration if duration is not None else None
        send_frames(broadcast, source, fps, until, result, log)
    except KeyboardInterrupt:
        log("Stopping.")
    finally:
        result.seconds = time.monotonic() - started
        broadcast.stop(log)
    log(
        f"Stopped: {result.frames_sent} frames in {result.seconds:.1f} s "
        f"({result.fps:.1f} fps on average)."
    )
    return result
