"""Socket.IO events of live video: go live, send frames, stop, and watch as binary frames.

A watching socket gets `video:frame` {room_id, seq, width, height} + the JPEG and acks
it; the next frame it gets is the newest one when that ack comes, so a slow socket skips
frames instead of queueing them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from socketio.exceptions import TimeoutError as AckTimeout

from ..actions import video
from ..actions.access_live import Viewer
from ..extensions import socketio
from ..models import User
from ..presenters import dump, live_out
from ..schemas.realtime import RoomRef
from ..schemas.video import VideoStartEvent
from ..video.broadcasts import Broadcast
from ..video.views import NOT_ALLOWED, View, open_view, views
from .handlers import Ack, disconnect_hooks, event
from .sockets import registry as socket_registry

log = logging.getLogger(__name__)

# A watcher that does not ack a frame within this long is dropped.
FRAME_ACK_TIMEOUT = 10.0
WAKE_SECONDS = 1.0


@dataclass
class Watch:
    sid: str
    broadcast: Broadcast
    stopped: threading.Event = field(default_factory=threading.Event)
    view: View | None = None
    _released: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self, app: Flask) -> None:
        """Counts the viewer out, once, however the watch ended."""
        self.stopped.set()
        with self._lock:
            if self._released:
                return
            self._released = True
        with app.app_context():
            if self.view is not None:
                views().discard(self.view)
            video.stop_watching(self.broadcast)

    def lost_right(self) -> None:
        """The watcher may no longer read the room: no frame more, and it is told why."""
        self.stopped.set()
        socketio.emit(
            "video:stop",
            {"room_id": self.broadcast.room_id, "reason": NOT_ALLOWED},
            to=self.sid,
            namespace="/",
        )


class Watches:
    """(sid, room id) -> the socket's watch of that room's broadcast."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, int], Watch] = {}

    def add(self, watch: Watch) -> Watch | None:
        """Registers the watch; answers the one already there instead, if any."""
        key = (watch.sid, watch.broadcast.room_id)
        with self._lock:
            held = self._by_key.get(key)
            if held is not None and not held.stopped.is_set():
                return held
            self._by_key[key] = watch
            return None

    def active(self, sid: str, room_id: int) -> Watch | None:
        with self._lock:
            held = self._by_key.get((sid, room_id))
            return None if held is None or held.stopped.is_set() else held

    def pop(self, sid: str, room_id: int) -> Watch | None:
        with self._lock:
            return self._by_key.pop((sid, room_id), None)

    def discard(self, watch: Watch) -> None:
        key = (watch.sid, watch.broadcast.room_id)
        with self._lock:
            if self._by_key.get(key) is watch:
                del self._by_key[key]

    def pop_all(self, sid: str) -> list[Watch]:
        with self._lock:
            keys = [key for key in self._by_key if key[0] == sid]
            return [self._by_key.pop(key) for key in keys]


def watches() -> Watches:
    found: Watches = current_app.extensions["parley.watches"]
    return found


def current_sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid


@event("video:start", VideoStartEvent)
def video_start(actor: User, data: VideoStartEvent) -> Ack:
    sid = current_sid()
    found = socket_registry().get(sid)
    broadcast = video.start_broadcast(
        actor,
        data.room_id,
        data.width,
        data.height,
        data.fps,
        origin_sid=sid,
        token_id=found.token_id if found is not None else None,
    )
    return {"live": dump(live_out(broadcast))}


@event("video:stop", RoomRef)
def video_stop(actor: User, data: RoomRef) -> Ack:
    video.stop_broadcast(actor, data.room_id)
    return {}


@event("video:frame", RoomRef, budget=None, binary=True)
def video_frame(actor: User, data: RoomRef, frame: Any) -> Ack:
    return {"seq": video.push_frame(actor, data.room_id, frame)}


@event("video:watch", RoomRef)
def video_watch(actor: User, data: RoomRef) -> Ack:
    sid = current_sid()
    held = watches().active(sid, data.room_id)
    if held is not None:
        # Watching already: the same checks answer, and the same watch goes on.
        video.readable_broadcast(actor, data.room_id)
        return {"live": dump(live_out(held.broadcast))}
    # The broadcast to follow: this process's, or the mirror of one live elsewhere.
    broadcast = video.start_watching(actor, data.room_id)
    watch = Watch(sid, broadcast)
    if watches().add(watch) is None:
        found = socket_registry().get(sid)
        viewer = Viewer(actor.id, data.room_id, found.token_id if found is not None else None)
        watch.view = open_view(View(viewer, broadcast, on_lost=watch.lost_right))
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        socketio.start_background_task(_send_frames, app, watch)
    else:
        video.stop_watching(broadcast)
    return {"live": dump(live_out(broadcast))}


@event("video:unwatch", RoomRef)
def video_unwatch(actor: User, data: RoomRef) -> Ack:
    watch = watches().pop(current_sid(), data.room_id)
    if watch is not None:
        watch.release(current_app._get_current_object())  # type: ignore[attr-defined]
    return {}


def stop_watches_of(sid: str) -> None:
    """The socket went away: its viewers are counted out at once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for watch in watches().pop_all(sid):
        watch.release(app)


disconnect_hooks.extend([stop_watches_of, video.end_broadcasts_of_socket])


def send_acked(sid: str, name: str, data: tuple[Any, ...]) -> None:
    """Emit to one socket and wait for its ack (socketio.call, which refuses to run when
    events are handled inline: see init_realtime). This runs on a task of its own,
    never on the socket's reader, so the ack can arrive meanwhile."""
    acked = threading.Event()
    socketio.emit(name, data, to=sid, namespace="/", callback=lambda *_: acked.set())
    if not acked.wait(FRAME_ACK_TIMEOUT):
        raise AckTimeout()


def _send_frames(app: Flask, watch: Watch) -> None:
    broadcast = watch.broadcast
    registry = app.extensions["parley.video"]

    def stopped() -> bool:
        return watch.stopped.is_set() or bool(registry.closing)

    try:
        for seq, frame in broadcast.hub.follow(stopped, WAKE_SECONDS):
            meta = {
                "room_id": broadcast.room_id,
                "seq": seq,
                "width": broadcast.width,
                "height": broadcast.height,
            }
            send_acked(watch.sid, "video:frame", (meta, frame))
    except AckTimeout:
        log.info("socket %s stopped acking video frames; dropping it as a viewer", watch.sid)
    except Exception:
        log.exception("sending video frames to %s failed", watch.sid)
    finally:
        app.extensions["parley.watches"].discard(watch)
        watch.release(app)
