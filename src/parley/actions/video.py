"""Live video: starting and stopping a room's broadcast, its frames and its viewers.

A broadcast lives in the memory of the server process (frames are not stored); its
changes are told to the room like every other change, through the event bus.
"""

from __future__ import annotations

import functools
import logging
import time

from flask import Flask, current_app

from ..errors import ApiError, Forbidden, NotFound
from ..events import Event, get_bus
from ..extensions import db, socketio
from ..models import User
from ..models.types import utcnow
from ..presenters import dump, user_public
from ..video.broadcasts import Broadcast, Broadcasts
from ..video.frames import check_frame
from ..video.hub import HubClosed
from ..video.views import NOT_ALLOWED, View, open_view
from .access import can_moderate, readable_room, require_can_post
from .access_live import Viewer

log = logging.getLogger(__name__)

# How often a broadcaster's right to post is checked again while frames flow.
RECHECK_SECONDS = 2.0


def broadcasts() -> Broadcasts:
    found: Broadcasts = current_app.extensions["parley.video"]
    return found


def _tell(event_type: str, room_id: int, **payload: object) -> None:
    get_bus().publish([Event(event_type, {"room_id": room_id, **payload}, room_id=room_id)])


def not_live(room_id: int) -> NotFound:
    return NotFound("The room is not live.", code="not_live", details={"room_id": room_id})


def live_broadcast(room_id: int) -> Broadcast:
    found = broadcasts().get(room_id)
    if found is None:
        raise not_live(room_id)
    return found


def start_broadcast(
    actor: User,
    room_id: int,
    width: int,
    height: int,
    fps: int,
    origin_sid: str | None = None,
    token_id: int | None = None,
) -> Broadcast:
    """Goes live in a room where the actor may post; one broadcast per room. A broadcast
    started from a socket ends when that socket disconnects; one started with a token
    ends when the token is revoked."""
    room, membership = readable_room(actor, room_id)
    require_can_post(actor, room, membership)
    publisher = dump(user_public(actor))
    candidate = Broadcast(
        room.id, actor.id, publisher, width, height, fps, utcnow(), origin_sid=origin_sid
    )
    broadcast = broadcasts().add(candidate)
    if broadcast is not candidate:
        raise ApiError(
            "Someone is already broadcasting in this room.",
            code="already_live",
            status=409,
            details={"broadcaster": broadcast.broadcaster},
        )
    _ensure_reaper()
    # The broadcast ends once its broadcaster may no longer read the room.
    open_view(
        View(
            Viewer(actor.id, room.id, token_id),
            broadcast,
            on_lost=functools.partial(end_broadcast, room.id, NOT_ALLOWED, only=broadcast),
        )
    )
    _tell(
        "video:start",
        room.id,
        broadcaster=publisher,
        width=width,
        height=height,
        fps=fps,
    )
    return broadcast


def stop_broadcast(actor: User, room_id: int) -> None:
    """The broadcaster stops, or a moderator of the room stops anyone's broadcast."""
    _, membership = readable_room(actor, room_id)
    broadcast = live_broadcast(room_id)
    if broadcast.broadcaster_id != actor.id and not can_moderate(actor, membership):
        raise Forbidden(
            "Only the broadcaster or a moderator may stop this broadcast.",
            code="not_the_broadcaster",
        )
    reason = "stopped" if broadcast.broadcaster_id == actor.id else "stopped_by_moderator"
    end_broadcast(room_id, reason, only=broadcast)


def end_broadcast(room_id: int, reason: str, only: Broadcast | None = None) -> bool:
    """Ends the room's broadcast (viewers' streams end with it) and tells the room."""
    if broadcasts().remove(room_id, only=only) is None:
        return False
    _tell("video:stop", room_id, reason=reason)
    return True


def push_frame(actor: User, room_id: int, frame: object) -> int:
    """Makes a JPEG the room's latest frame; answers its number."""
    broadcast = broadcasts().get(room_id)
    if broadcast is None or broadcast.broadcaster_id != actor.id:
        # Checked only on the way to a refusal, so the broadcaster's frames need no query:
        # one who may not read the room hears what a missing room answers, never whether
        # it is live.
        readable_room(actor, room_id)
        if broadcast is None:
            raise not_live(room_id)
        raise Forbidden("Only the broadcaster sends frames.", code="not_the_broadcaster")
    config = current_app.config
    now = time.monotonic()
    wait = broadcast.frame_wait(config["PARLEY_VIDEO_MAX_FPS"], now)
    if wait is not None:
        raise ApiError(
            f"At most {config['PARLEY_VIDEO_MAX_FPS']} frames a second.",
            code="rate_limited",
            status=429,
            details={"retry_after": round(wait, 3)},
        )
    if now - broadcast.checked_at > RECHECK_SECONDS:
        broadcast.checked_at = now
        try:
            room, membership = readable_room(actor, room_id)
            require_can_post(actor, room, membership)
        except ApiError:
            # Banned, muted or removed since going live: the broadcast ends.
            end_broadcast(room_id, NOT_ALLOWED, only=broadcast)
            raise
    check_frame(frame, config["PARLEY_VIDEO_MAX_FRAME_BYTES"])
    assert isinstance(frame, bytes | bytearray)
    try:
        return broadcast.hub.publish(bytes(frame))
    except HubClosed:
        raise not_live(room_id) from None


def readable_broadcast(actor: User, room_id: int) -> Broadcast:
    """The room's broadcast, for those who may read the room's messages."""
    readable_room(actor, room_id)
    return live_broadcast(room_id)


def latest_frame(actor: User, room_id: int) -> tuple[int, bytes]:
    """The broadcast's newest frame and its number, for those who may read the room."""
    latest = readable_broadcast(actor, room_id).hub.latest()
    if latest is None:
        raise NotFound(
            "The broadcast has sent no frame yet.",
            code="no_frame_yet",
            details={"room_id": room_id},
        )
    return latest


def start_watching(actor: User, room_id: int) -> Broadcast:
    """Counts a viewer in (after the same read check as messages) and tells the room."""
    broadcast = readable_broadcast(actor, room_id)
    count = broadcasts().change_viewers(broadcast, +1)
    _tell("video:viewers", room_id, count=count)
    return broadcast


def stop_watching(broadcast: Broadcast) -> None:
    count = broadcasts().change_viewers(broadcast, -1)
    if broadcasts().get(broadcast.room_id) is broadcast:
        _tell("video:viewers", broadcast.room_id, count=count)


def _ensure_reaper() -> None:
    registry = broadcasts()
    if not registry.claim_reaper():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_reap_idle_broadcasts, app, registry)


def _reap_idle_broadcasts(app: Flask, registry: Broadcasts) -> None:
    """Ends broadcasts that sent no frame for PARLEY_VIDEO_IDLE_SECONDS; stops when none
    is left, so a server with no broadcast runs no task."""
    idle_seconds = app.config["PARLEY_VIDEO_IDLE_SECONDS"]
    while True:
        socketio.sleep(min(1.0, idle_seconds / 4))
        try:
            with app.app_context():
                for broadcast in registry.idle(idle_seconds):
                    end_broadcast(broadcast.room_id, "idle", only=broadcast)
                db.session.remove()
        except Exception:
            log.exception("the video idle reaper failed")
        if registry.release_reaper_if_empty():
            return


def end_broadcasts_of_socket(sid: str) -> None:
    for broadcast in broadcasts().started_by(sid):
        end_broadcast(broadcast.room_id, "disconnected", only=broadcast)


def end_all_broadcasts(reason: str = "shutdown") -> None:
    """Ends every broadcast, and with them every stream, as the server stops."""
    broadcasts().closing = True
    for room_id in broadcasts().live_room_ids():
        end_broadcast(room_id, reason)
