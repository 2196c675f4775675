"""/rooms/{id}/live: start and stop a room's broadcast over REST (frames go over
Socket.IO; watching is at /rooms/{id}/live.mjpg)."""

from __future__ import annotations

from ..actions import video
from ..identity import current_token
from ..models import User
from ..presenters import live_out
from ..schemas.video import LiveIn, LiveOut
from .blueprint import api


@api.route(
    "POST",
    "/rooms/<id:room_id>/live",
    tag="video",
    body=LiveIn,
    response=LiveOut,
    status=201,
    errors=(409,),
)
def go_live(actor: User, room_id: int, body: LiveIn) -> LiveOut:
    """Go live in a room you may post in; then send frames as `video:frame` over Socket.IO.

    409 already_live while someone else broadcasts there.
    """
    token = current_token()
    started = video.start_broadcast(
        actor, room_id, body.width, body.height, body.fps, token_id=token.id if token else None
    )
    return live_out(started)


@api.route("GET", "/rooms/<id:room_id>/live", tag="video", response=LiveOut)
def live_state(actor: User, room_id: int) -> LiveOut:
    """The room's broadcast: who, what size, since when, how many watch; 404 not_live."""
    return live_out(video.readable_broadcast(actor, room_id))


@api.route("DELETE", "/rooms/<id:room_id>/live", tag="video", status=204)
def stop_live(actor: User, room_id: int) -> None:
    """Stop the broadcast: the broadcaster, or any moderator of the room."""
    video.stop_broadcast(actor, room_id)
