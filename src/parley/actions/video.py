"""Live video: starting and stopping a room's broadcast, its frames and its viewers.

A broadcast lives in the memory of the server process it started on (frames are not
stored); its changes are told to the room like every other change, through the event
bus. With PARLEY_MESSAGE_QUEUE set, the relay (video/relay.py) makes it known, and
watchable, on every process.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable

import redis
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
from ..video.relay import FrameRelay, LiveRecord
from ..video.views import NOT_ALLOWED, View, open_view
from .access import administered_room, can_moderate, readable_room, require_can_post
from .access_live import Viewer

log = logging.getLogger(__name__)

# How often a broadcaster's right to post is checked again while frames flow.
RECHECK_SECONDS = 2.0
# A waiting relay publisher wakes this often (it ends when its broadcast does).
WAKE_SECONDS = 1.0
# Why a broadcast ended when its origin process stopped answering (its record lapsed).
LOST = "lost"


def broadcasts() -> Broadcasts:
    found: Broadcasts = current_app.extensions["parley.video"]
    return found


def _tell(event_type: str, room_id: int, **payload: object) -> None:
    get_bus().publish([Event(event_type, {"room_id": room_id, **payload}, room_id=room_id)])


def not_live(room_id: int) -> NotFound:
    return NotFound("The room is not live.", code="not_live", details={"room_id": room_id})


def live_broadcast(room_id: int) -> Broadcast:
    """The room's broadcast: this process's, or (with a relay) one live elsewhere."""
    found = live_in([room_id]).get(room_id)
    if found is None:
        raise not_live(room_id)
    return found


def live_in(room_ids: Iterable[int]) -> dict[int, Broadcast]:
    """The broadcasts live in these rooms, by room, wherever they run. Without Redis
    answering, only this process's are known."""
    registry = broadcasts()
    ids = list(room_ids)
    found = {room_id: b for room_id in ids if (b := registry.get(room_id)) is not None}
    relay = registry.relay
    if relay is None:
        return found
    try:
        for room_id, record in relay.live(i for i in ids if i not in found).items():
            found[room_id] = Broadcast.from_record(record)
        counts = relay.viewers([b.broadcast_id for b in found.values()])
    except redis.RedisError as exc:
        log.warning("the video relay is unreachable (%s): showing this process's broadcasts", exc)
        return {room_id: b for room_id, b in found.items() if not b.mirror}
    for broadcast in found.values():
        broadcast.viewers = counts.get(broadcast.broadcast_id, 0)
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
        raise _already_live(broadcast.broadcaster)
    relay = broadcasts().relay
    if relay is not None:
        candidate.record = _record_of(candidate, relay)
        try:
            elsewhere = relay.claim(candidate.record)
        except BaseException:
            broadcasts().remove(room.id, only=candidate)
            raise
        if elsewhere is not None:
            broadcasts().remove(room.id, only=candidate)
            raise _already_live(elsewhere.broadcaster)
        _start_task(_relay_out, broadcast)
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


def _already_live(broadcaster: dict[str, object]) -> ApiError:
    return ApiError(
        "Someone is already broadcasting in this room.",
        code="already_live",
        status=409,
        details={"broadcaster": broadcaster},
    )


def _record_of(broadcast: Broadcast, relay: FrameRelay) -> LiveRecord:
    return LiveRecord(
        broadcast.room_id,
        broadcast.broadcast_id,
        broadcast.broadcaster_id,
        broadcast.broadcaster,
        broadcast.width,
        broadcast.height,
        broadcast.fps,
        broadcast.started_at.isoformat(),
        relay.process_id,
    )


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
    _stop(room_id, broadcast, reason)


def end_broadcast_as_admin(actor: User, room_id: int) -> None:
    """An administrator ends the broadcast of any room but a direct one, in it or not."""
    administered_room(actor, room_id)
    _stop(room_id, live_broadcast(room_id), "stopped_by_admin")


def _stop(room_id: int, broadcast: Broadcast, reason: str) -> None:
    relay = broadcasts().relay
    if broadcast.mirror and broadcast.record is not None and relay is not None:
        # Live on another process: ended in Redis, its mirrors end at once, and its origin
        # ends it within a renewal (it finds its claim gone, and says nothing more).
        relay.end(broadcast.record)
        _tell("video:stop", room_id, reason=reason)
        return
    end_broadcast(room_id, reason, only=broadcast)


def end_broadcast(room_id: int, reason: str, only: Broadcast | None = None) -> bool:
    """Ends the room's broadcast (viewers' streams end with it, on every process) and
    tells the room."""
    ended = broadcasts().remove(room_id, only=only)
    if ended is None:
        return False
    relay = broadcasts().relay
    if relay is not None and ended.record is not None:
        try:
            relay.end(ended.record)
        except redis.RedisError as exc:
            # Its record lapses by itself within the TTL.
            log.warning("ending broadcast %s in Redis failed: %s", ended.broadcast_id, exc)
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
    broadcast = readable_broadcast(actor, room_id)
    relay = broadcasts().relay
    if broadcast.mirror and relay is not None:
        latest = relay.latest(broadcast.broadcast_id)
    else:
        latest = broadcast.hub.latest()
    if latest is None:
        raise NotFound(
            "The broadcast has sent no frame yet.",
            code="no_frame_yet",
            details={"room_id": room_id},
        )
    return latest


def start_watching(actor: User, room_id: int) -> Broadcast:
    """Counts a viewer in (after the same read check as messages) and tells the room.
    Answers the broadcast to follow: this process's, or the mirror of one live
    elsewhere, fed through the relay while anyone here watches it."""
    broadcast = readable_broadcast(actor, room_id)
    registry = broadcasts()
    if broadcast.mirror:
        assert broadcast.record is not None
        broadcast, made = registry.hold_mirror(broadcast.record)
        if made:
            _start_task(_relay_in, broadcast)
    try:
        count = _count_viewer(broadcast, +1)
    except redis.RedisError as exc:
        if broadcast.mirror:
            registry.release_mirror(broadcast)
            raise
        # This process's own broadcast plays on; only the cluster's count misses one.
        log.warning("counting a viewer in Redis failed: %s", exc)
        count = broadcast.viewers
    except BaseException:
        if broadcast.mirror:
            registry.release_mirror(broadcast)
        raise
    _tell("video:viewers", room_id, count=count)
    return broadcast


def stop_watching(broadcast: Broadcast) -> None:
    registry = broadcasts()
    try:
        count = _count_viewer(broadcast, -1)
    except redis.RedisError as exc:
        # This process's count lapses with the broadcast's record.
        log.warning("counting a viewer out in Redis failed: %s", exc)
        count = None
    if broadcast.mirror:
        still_live = not broadcast.hub.closed
        registry.release_mirror(broadcast)
    else:
        still_live = registry.get(broadcast.room_id) is broadcast
    if still_live and count is not None:
        _tell("video:viewers", broadcast.room_id, count=count)


def _count_viewer(broadcast: Broadcast, delta: int) -> int:
    relay = broadcasts().relay
    if relay is None:
        return broadcasts().change_viewers(broadcast, delta)
    broadcast.viewers = relay.change_viewers(broadcast.broadcast_id, delta)
    return broadcast.viewers


def _start_task(task: object, broadcast: Broadcast) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(task, app, broadcasts(), broadcast)


def _relay_out(app: Flask, registry: Broadcasts, broadcast: Broadcast) -> None:
    """Publishes the broadcast's frames to the other processes, newest first: a slow
    Redis skips frames, never slows the broadcaster. Ends with the broadcast."""
    relay = registry.relay
    assert relay is not None
    failing = False
    for seq, frame in broadcast.hub.follow(lambda: False, WAKE_SECONDS):
        try:
            relay.publish(broadcast.broadcast_id, seq, frame)
            failing = False
        except redis.RedisError as exc:
            if not failing:
                log.warning("publishing frames of room %s failed: %s", broadcast.room_id, exc)
            failing = True


def _relay_in(app: Flask, registry: Broadcasts, mirror: Broadcast) -> None:
    """Feeds a mirror from the relay until the broadcast ends or no one here watches;
    then its streams here end. The first process to find the broadcast lapsed (its
    origin died) tells the room."""
    relay = registry.relay
    assert relay is not None and mirror.record is not None
    try:
        ending = relay.feed(
            mirror.record, mirror.hub, lambda: registry.closing or mirror.hub.closed
        )
    except Exception:
        log.exception("relaying the frames of room %s failed", mirror.room_id)
        ending = "stopped"
    registry.drop_mirror(mirror)
    try:
        if ending == "gone" and relay.mark_ended(mirror.broadcast_id):
            with app.app_context():
                _tell("video:stop", mirror.room_id, reason=LOST)
    except Exception:
        log.exception("telling room %s its broadcast was lost failed", mirror.room_id)


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
    pause = min(1.0, idle_seconds / 4)
    if registry.relay is not None:
        pause = min(pause, registry.relay.ttl_seconds / 4)
    while True:
        socketio.sleep(pause)
        try:
            with app.app_context():
                for broadcast in registry.idle(idle_seconds):
                    end_broadcast(broadcast.room_id, "idle", only=broadcast)
                _renew(registry)
                db.session.remove()
        except Exception:
            log.exception("the video idle reaper failed")
        if registry.release_reaper_if_empty():
            return


def _renew(registry: Broadcasts) -> None:
    """Keeps this process's broadcasts alive in Redis. One whose record lapsed (this
    process stalled past the TTL, or another process stopped it) ends here too; the
    room hears of it once, from whoever found it first."""
    relay = registry.relay
    if relay is None:
        return
    mine = {b.broadcast_id: b for b in registry.local() if b.record is not None}
    try:
        lapsed = relay.renew([b.record for b in mine.values() if b.record is not None])
    except redis.RedisError as exc:
        log.warning("renewing the live broadcasts in Redis failed: %s", exc)
        return
    for record in lapsed:
        broadcast = mine[record.broadcast_id]
        if registry.remove(broadcast.room_id, only=broadcast) is not None and relay.mark_ended(
            broadcast.broadcast_id
        ):
            _tell("video:stop", broadcast.room_id, reason=LOST)


def end_broadcasts_of_socket(sid: str) -> None:
    for broadcast in broadcasts().started_by(sid):
        end_broadcast(broadcast.room_id, "disconnected", only=broadcast)


def end_all_broadcasts(reason: str = "shutdown") -> None:
    """Ends every broadcast, and with them every stream, as the server stops."""
    registry = broadcasts()
    registry.closing = True
    for room_id in registry.live_room_ids():
        end_broadcast(room_id, reason)
    for mirror in registry.mirrors():
        registry.drop_mirror(mirror)
