"""Watching a room's broadcast over plain HTTP: an MJPEG stream and the latest frame.

MJPEG (multipart/x-mixed-replace) plays in an <img> tag and passes any HTTP proxy; each
viewer's response takes the newest frame whenever it is ready for one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request

from ..actions import video
from ..actions.access_live import Viewer
from ..identity import current_token, current_user
from ..tcp import set_socket_option
from .views import View, open_view, views

bp = Blueprint("video", __name__)

BOUNDARY = "parleyframe"
# A waiting stream wakes this often to notice a server shutting down.
WAKE_SECONDS = 1.0
NO_STORE = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
# A viewer's socket holds about one frame in the kernel: past that, writing waits, and the
# next part is the newest frame. Left to autotuning the buffer grows to megabytes, and a
# slow viewer would be fed seconds of old frames in order instead of skipping them.
VIEWER_SEND_BUFFER = 64 * 1024


def small_send_buffer(environ: dict[str, object]) -> None:
    set_socket_option(environ, socket.SOL_SOCKET, socket.SO_SNDBUF, VIEWER_SEND_BUFFER)


@bp.get("/rooms/<id:room_id>/live.jpg")
def latest_frame(room_id: int) -> Response:
    seq, frame = video.latest_frame(current_user(), room_id)
    return Response(frame, mimetype="image/jpeg", headers={**NO_STORE, "X-Frame-Seq": str(seq)})


@bp.get("/rooms/<id:room_id>/live.mjpg")
def live_stream(room_id: int) -> Response:
    actor = current_user()
    token = current_token()
    assert token is not None  # current_user() refuses a request without one
    broadcast = video.start_watching(actor, room_id)
    registry = video.broadcasts()
    # The stream ends, after at most the frame being written, once the right is gone.
    view = open_view(View(Viewer(actor.id, room_id, token.id), broadcast))

    small_send_buffer(request.environ)

    def stopped() -> bool:
        return registry.closing or view.ended.is_set()

    def parts() -> Iterator[bytes]:
        yield b""  # sends the headers now, before the first frame exists
        for seq, frame in broadcast.hub.follow(stopped, WAKE_SECONDS):
            yield (
                (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(frame)}\r\nX-Frame-Seq: {seq}\r\n\r\n"
                ).encode()
                + frame
                + b"\r\n"
            )
        yield f"--{BOUNDARY}--\r\n".encode()

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def released() -> None:
        with app.app_context():
            views().discard(view)
            video.stop_watching(broadcast)

    response = Response(
        parts(),
        mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers=NO_STORE,
    )
    # Runs when the server closes the response: the stream ended or the viewer left.
    response.call_on_close(released)
    return response
