"""Socket.IO event handlers: authenticate, parse, call one action, ack.

Every client event is answered by an ack: {"ok": true, ...} or
{"ok": false, "error": {"code", "message", "details"}}, the REST error shape.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Literal, TypeVar

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room
from pydantic import BaseModel, ValidationError

from ..actions import messages, pins, reactions, rooms, threads
from ..actions.presence import Presence, Throttle, typing
from ..actions.sync import sync
from ..actions.tokens import active_user_of_token, authenticate
from ..actions.two_factor import admin_must_enrol
from ..errors import ApiError, Unauthorized, Unavailable, database_unreachable, validation_failed
from ..events import get_bus
from ..extensions import db, socketio
from ..identity import cookie_session_token
from ..models import ApiToken, User
from ..presenters import dump, member_out, message_out, my_room_out, reactions_out
from ..ratelimits import event_limiter, spend, spend_send
from ..schemas.realtime import (
    EditEvent,
    MessageRef,
    PinEvent,
    ReactionEvent,
    ReadEvent,
    RoomRef,
    SendEvent,
    SyncEvent,
    ThreadReadEvent,
)
from ..socket_contexts import event_sid
from ..store.access_cache import access_cache
from .arrivals import arrived_at
from .connection_limits import admit_socket, socket_left
from .presence_batches import PRESENCE_BATCHED, PRESENCE_EACH, wants_batches
from .sockets import SocketUser, registry, room_channel, user_channel

log = logging.getLogger(__name__)

Payload = TypeVar("Payload", bound=BaseModel)
Ack = dict[str, Any]
Budget = Literal["events", "sends"] | None


def presence() -> Presence:
    tracker: Presence = current_app.extensions["parley.presence"]
    return tracker


def _token_from_handshake(auth: Any) -> ApiToken | None:
    """The token in the connect payload ({"token": ...}), else a Bearer header, else the
    web session cookie's session id. An administrator's login that must still enrol in
    two-factor authentication is refused."""
    if isinstance(auth, dict) and auth.get("token") is not None:
        raw = auth["token"]
        token = authenticate(raw) if isinstance(raw, str) else None
    elif (header := request.headers.get("Authorization", "")).lower().startswith("bearer "):
        token = authenticate(header[7:].strip())
    else:
        token = cookie_session_token()
    if token is not None and admin_must_enrol(token):
        message = "Administrators must enrol in two-factor authentication first."
        raise ConnectionRefusedError(message, {"code": "admin_2fa_required", "message": message})
    return token


@socketio.on("connect")  # type: ignore[untyped-decorator]  # Flask-SocketIO is untyped
def on_connect(auth: Any = None) -> None:
    token = _token_from_handshake(auth)
    if token is None:
        # The client's connect_error gets {"message": ..., "data": {"code", "message"}}
        # (one dict argument alone would arrive as its Python repr in "message").
        message = "Connect with auth={'token': '<api token>'} or a logged-in session cookie."
        raise ConnectionRefusedError(message, {"code": "unauthorized", "message": message})
    admit_socket(token.user_id)
    user = token.user
    sid = request.sid  # type: ignore[attr-defined]
    registry().add(sid, SocketUser(user.id, token.id))
    join_room(user_channel(user.id))
    join_room(PRESENCE_BATCHED if wants_batches(auth) else PRESENCE_EACH)
    for room_id in rooms.member_room_ids(user):
        join_room(room_channel(room_id))
    presence().connected(user.id, sid)


# Other realtime modules (video) clean up a socket's state here when it goes away.
disconnect_hooks: list[Callable[[str], None]] = []


@socketio.on("disconnect")  # type: ignore[untyped-decorator]  # Flask-SocketIO is untyped
def on_disconnect(*_reason: Any) -> None:
    socket_left()
    sid = request.sid  # type: ignore[attr-defined]
    for hook in disconnect_hooks:
        hook(sid)
    user = registry().remove(sid)
    if user is not None:
        presence().disconnected(user.user_id, sid)


def socket_actor(*, attached: bool = True) -> User:
    """The socket's user, checked on every event: revoked or deactivated is out.

    `attached=False`: the socket's kept copy, in no session (see AccessCache.socket_user).
    """
    sid = event_sid()
    sockets = registry()
    found, held = sockets.with_snapshot(sid)
    user = None
    if found is not None:
        read = functools.partial(active_user_of_token, found.token_id)
        user, kept = access_cache().socket_user(held, read, attached=attached)
        if kept is not held:
            sockets.keep_snapshot(sid, kept)
    if user is None:
        raise Unauthorized(
            "The token was revoked or the account deactivated.", code="invalid_token"
        )
    return user


def error_ack(error: ApiError) -> Ack:
    return {"ok": False, **error.to_dict()}


def parse(model: type[Payload], data: Any) -> Payload:
    if not isinstance(data, dict):
        raise ApiError("The payload must be a JSON object.", code="invalid_payload", status=422)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc, "payload") from None


EVENTS_SPENT = "Too many events; slow down."


def event(
    name: str,
    model: type[Payload],
    *,
    budget: Budget = "events",
    binary: bool = False,
    reads_actor_only: bool = False,
) -> Callable[[Callable[..., Ack]], Callable[..., Ack]]:
    """Register a client event: rate-limited per user, parsed, acked in one shape.

    `budget` is what the event spends: "events", the user's general event budget;
    "sends", the message budget REST shares; None, nothing here (video frames have a cap
    of their own, typing spends only what its throttle lets through). `binary=True`
    passes the event's second argument, the bytes, to the action as a third one;
    `reads_actor_only=True` hands the action the socket's kept copy of its user, in no
    session, for an action that never changes the user nor adds it to a session.
    """

    def decorator(fn: Callable[..., Ack]) -> Callable[..., Ack]:
        @functools.wraps(fn)
        def handler(data: Any = None, *extra: Any) -> Ack:
            try:
                actor = socket_actor(attached=not reads_actor_only)
                if budget == "sends":
                    spend_send(actor.id)
                elif budget == "events":
                    spend(event_limiter(), actor.id, EVENTS_SPENT)
                payload = parse(model, data)
                if binary:
                    return {"ok": True, **fn(actor, payload, extra[0] if extra else None)}
                return {"ok": True, **fn(actor, payload)}
            except ApiError as exc:
                db.session.rollback()
                return error_ack(exc)
            except Exception as exc:
                with suppress(Exception):
                    # The connection may be the thing that failed: the rollback then only
                    # drops it from the pool.
                    db.session.rollback()
                if database_unreachable(exc):
                    log.warning("socket event %s: the database is unreachable", name)
                    return error_ack(Unavailable())
                log.exception("socket event %s failed", name)
                return error_ack(
                    ApiError(
                        "Something went wrong on the server.", code="internal_error", status=500
                    )
                )

        socketio.on_event(name, handler)
        return handler

    return decorator


@socketio.on("*")  # type: ignore[untyped-decorator]  # Flask-SocketIO is untyped
def unknown_event(name: str, *_data: Any) -> Ack:
    return error_ack(
        ApiError(
            f"There is no event named {name!r}.",
            code="unknown_event",
            status=404,
            details={"event": name},
        )
    )


@event("message:send", SendEvent, budget="sends", reads_actor_only=True)
def send_message(actor: User, data: SendEvent) -> Ack:
    message, created, not_notified = messages.send_message(
        actor,
        data.room_id,
        data.body,
        data.client_id,
        arrived_at=arrived_at(),
        thread_id=data.thread_id,
        also_to_room=data.also_to_room,
    )
    return {"message": dump(message), "created": created, "not_notified": not_notified}


# The events sent most often read nothing of the handshake request nor the web session:
# building a request context for each is work the bare relay never does.
socketio.handle_in_app_context("message:send", "typing")


@event("message:edit", EditEvent)
def edit_message(actor: User, data: EditEvent) -> Ack:
    return {"message": dump(messages.edit_message(actor, data.message_id, data.body))}


@event("message:delete", MessageRef)
def delete_message(actor: User, data: MessageRef) -> Ack:
    return {"message": dump(messages.delete_message(actor, data.message_id))}


@event("reaction:add", ReactionEvent)
def add_reaction(actor: User, data: ReactionEvent) -> Ack:
    found = reactions.add_reaction(actor, data.message_id, data.emoji)
    return dump(reactions_out(data.message_id, found))


@event("reaction:remove", ReactionEvent)
def remove_reaction(actor: User, data: ReactionEvent) -> Ack:
    found = reactions.remove_reaction(actor, data.message_id, data.emoji)
    return dump(reactions_out(data.message_id, found))


@event("message:pin", PinEvent)
def pin_message(actor: User, data: PinEvent) -> Ack:
    return {"message": dump(pins.set_pinned(actor, data.message_id, data.pinned))}


@event("room:join", RoomRef)
def join(actor: User, data: RoomRef) -> Ack:
    membership, created = rooms.join_room(actor, data.room_id)
    return {"member": dump(member_out(membership)), "created": created}


@event("room:leave", RoomRef)
def leave(actor: User, data: RoomRef) -> Ack:
    rooms.leave_room(actor, data.room_id)
    return {}


@event("room:read", ReadEvent)
def read(actor: User, data: ReadEvent) -> Ack:
    state = messages.mark_read(actor, data.room_id, data.message_id)
    return {
        "room_id": state.room_id,
        "last_read_message_id": state.last_read_message_id,
        "unread_count": state.unread_count,
        "mention_count": state.mention_count,
    }


@event("thread:read", ThreadReadEvent)
def read_thread(actor: User, data: ThreadReadEvent) -> Ack:
    state = threads.mark_thread_read(actor, data.message_id, data.last_read_id)
    return {
        "root_id": state.root_id,
        "last_read_id": state.last_read_id,
        "unread_count": state.unread_count,
        "following": state.following,
    }


@event("typing", RoomRef, budget=None, reads_actor_only=True)
def typing_event(actor: User, data: RoomRef) -> Ack:
    throttle: Throttle = current_app.extensions["parley.typing"]
    # A typist's keystrokes come faster than the throttle lets them out: the ones it
    # would drop cost neither a query nor the event budget, so typing never crowds out
    # what the user does next. Such an answer changes nothing and tells nothing, and the
    # throttle only holds rooms where this user passed every check moments ago.
    if throttle.throttled(actor.id, data.room_id):
        return {"sent": False}
    spend(event_limiter(), actor.id, EVENTS_SPENT)
    sent = typing(actor, data.room_id, throttle, get_bus())
    return {"sent": sent}


@event("sync", SyncEvent)
def sync_event(actor: User, data: SyncEvent) -> Ack:
    result = sync(actor, data.rooms, data.limit)
    return {
        "rooms": [dump(my_room_out(item)) for item in result.rooms],
        "messages": {
            str(room_id): [dump(message_out(m)) for m in found]
            for room_id, found in result.messages.items()
        },
        "more": {str(room_id): more for room_id, more in result.more.items()},
        "changes": [dump(message_out(m)) for m in result.changes],
        "removed": result.removed,
        "reset": result.reset,
        "online": presence().online_user_ids(),
    }
