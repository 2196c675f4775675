"""Every HTTP route x every actor x every room kind answers what TABLE says.

The rows come from the app's url_map, so a new route without a block in TABLE fails
`test_every_route_has_a_block`. Actors and rooms are described in authz_world.py. The
rules the table keeps: an outsider of a private or direct room gets exactly the answer
of a room that does not exist (404 not_found); no credentials, a revoked token or a
deactivated account get 401; a muted member may read but not post (403 muted); a banned
member gets 403 banned.

Each test checks one route in one room kind for every actor, and names each cell that
differs. Cells share one world per database; a cell that succeeds on a route in DESTROYS (a ban,
a leave, a logout) gets a world of its own, so it changes nothing another cell sees.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from authz_matrix import Cell, parse_table, render_table
from authz_world import ACTORS, KINDS, World, build_world, module_broadcasts
from parley.video.broadcasts import Broadcasts
from support import PASSWORD, bearer, empty_database

API = "/api/v1"
Body = dict[str, Any] | Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class Request:
    body: Body = None
    query: str = ""
    # The user a {user_id} in the path names.
    user: str = "victim"
    filename: str = ""
    # The client's address, when the route cares (/metrics answers loopback to anyone).
    remote_addr: str | None = None
    # A reaction's emoji in the path: 👍, as a client sends it.
    emoji: str = "%F0%9F%91%8D"
    # A raw body (a picture), sent as image/png instead of a JSON body.
    upload: bytes = b""


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


# How each route is called. Bodies are valid, so that what a cell shows is authorization.
REQUESTS: dict[str, Request] = {
    "GET /": Request(),
    "GET /favicon.ico": Request(),
    "GET /healthz": Request(),
    "GET /readyz": Request(),
    "GET /metrics": Request(remote_addr="198.51.100.4"),
    "GET /static/{filename}": Request(filename="api-docs.js"),
    "GET /api/docs": Request(),
    "GET /api/docs/assets/{filename}": Request(filename="swagger-ui.css"),
    "GET /api/v1/openapi.json": Request(),
    "GET /admin": Request(),
    "GET /api/v1/admin/users": Request(),
    "POST /api/v1/admin/users/{user_id}/password": Request(),
    "GET /api/v1/admin/rooms": Request(),
    "PATCH /api/v1/admin/rooms/{room_id}": Request(body={"archived": True}),
    "GET /api/v1/admin/live": Request(),
    "DELETE /api/v1/admin/rooms/{room_id}/live": Request(),
    "GET /api/v1/admin/status": Request(),
    "POST /api/v1/auth/register": Request(
        body=lambda w: {"username": w.unique("newbie"), "password": PASSWORD}
    ),
    "POST /api/v1/auth/login": Request(
        body=lambda w: {"username": f"victim{w.number}w", "password": PASSWORD}
    ),
    "POST /api/v1/auth/logout": Request(),
    "POST /api/v1/auth/session": Request(
        body=lambda w: {"username": f"victim{w.number}w", "password": PASSWORD}
    ),
    "GET /api/v1/auth/session": Request(),
    "DELETE /api/v1/auth/session": Request(),
    "POST /api/v1/auth/session/register": Request(
        body=lambda w: {"username": w.unique("newbie"), "password": PASSWORD}
    ),
    "GET /api/v1/auth/sessions": Request(),
    "DELETE /api/v1/auth/sessions/{session_id}": Request(),
    "GET /api/v1/auth/tokens": Request(),
    "POST /api/v1/auth/tokens": Request(body={"name": "matrix"}),
    "DELETE /api/v1/auth/tokens/{token_id}": Request(),
    "POST /api/v1/dm": Request(body=lambda w: {"user_id": w.user("guest")}),
    "PATCH /api/v1/messages/{message_id}": Request(body={"body": "edited"}),
    "DELETE /api/v1/messages/{message_id}": Request(),
    "GET /api/v1/messages/{message_id}/history": Request(),
    "GET /api/v1/messages/{message_id}/thread": Request(),
    "POST /api/v1/messages/{message_id}/thread/read": Request(body={"last_read_id": 1}),
    "PUT /api/v1/messages/{message_id}/pin": Request(),
    "DELETE /api/v1/messages/{message_id}/pin": Request(),
    "PUT /api/v1/messages/{message_id}/reactions/{emoji}": Request(),
    "DELETE /api/v1/messages/{message_id}/reactions/{emoji}": Request(),
    "GET /api/v1/rooms": Request(),
    "POST /api/v1/rooms": Request(body=lambda w: {"name": w.unique("made"), "kind": "public"}),
    "GET /api/v1/rooms/directory": Request(),
    "GET /api/v1/rooms/{room_id}": Request(),
    "PATCH /api/v1/rooms/{room_id}": Request(body={"topic": "matrix"}),
    "POST /api/v1/rooms/{room_id}/join": Request(),
    "POST /api/v1/rooms/{room_id}/leave": Request(),
    "POST /api/v1/rooms/{room_id}/live": Request(body={"width": 64, "height": 48, "fps": 10}),
    "GET /api/v1/rooms/{room_id}/live": Request(),
    "DELETE /api/v1/rooms/{room_id}/live": Request(),
    "GET /api/v1/rooms/{room_id}/members": Request(),
    "POST /api/v1/rooms/{room_id}/members": Request(body=lambda w: {"user_id": w.user("guest")}),
    "PATCH /api/v1/rooms/{room_id}/members/{user_id}": Request(body={"role": "moderator"}),
    "DELETE /api/v1/rooms/{room_id}/members/{user_id}": Request(),
    "POST /api/v1/rooms/{room_id}/members/{user_id}/ban": Request(),
    "DELETE /api/v1/rooms/{room_id}/members/{user_id}/ban": Request(user="banned"),
    "POST /api/v1/rooms/{room_id}/members/{user_id}/mute": Request(body={"minutes": 5}),
    "DELETE /api/v1/rooms/{room_id}/members/{user_id}/mute": Request(user="muted"),
    "GET /api/v1/rooms/{room_id}/messages": Request(),
    "GET /api/v1/rooms/{room_id}/pins": Request(),
    "PATCH /api/v1/rooms/{room_id}/notifications": Request(body={"level": "all"}),
    "GET /api/v1/mentions": Request(),
    "GET /api/v1/threads": Request(),
    "POST /api/v1/rooms/{room_id}/messages": Request(body={"body": "hi"}),
    "POST /api/v1/rooms/{room_id}/read": Request(body=lambda w: {"message_id": 1}),
    "GET /api/v1/search": Request(query="q=hello"),
    "GET /api/v1/users": Request(query="q=vic"),
    "GET /api/v1/users/me": Request(),
    "PATCH /api/v1/users/me": Request(body={"display_name": "Renamed"}),
    "PUT /api/v1/users/me/avatar": Request(upload=tiny_png()),
    "DELETE /api/v1/users/me/avatar": Request(),
    "GET /api/v1/users/{user_id}/avatar": Request(),
    "GET /api/v1/users/me/2fa": Request(),
    "POST /api/v1/users/me/2fa": Request(body={"password": PASSWORD}),
    "DELETE /api/v1/users/me/2fa": Request(body={"password": PASSWORD, "code": "123456"}),
    "POST /api/v1/users/me/2fa/confirm": Request(body={"code": "123456"}),
    "POST /api/v1/users/me/2fa/recovery-codes": Request(body={"code": "123456"}),
    "GET /api/v1/users/{user_id}": Request(),
    "PATCH /api/v1/users/{user_id}": Request(body={"active": False}),
    "GET /rooms/{room_id}/live.jpg": Request(),
    "GET /rooms/{room_id}/live.mjpg": Request(),
}

# Routes whose success changes what other cells would see: a success runs on a world of
# its own.
DESTROYS = {
    "POST /api/v1/admin/users/{user_id}/password",
    "PATCH /api/v1/admin/rooms/{room_id}",
    "DELETE /api/v1/admin/rooms/{room_id}/live",
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/auth/tokens/{token_id}",
    "POST /api/v1/dm",
    "DELETE /api/v1/messages/{message_id}",
    "POST /api/v1/rooms/{room_id}/join",
    "POST /api/v1/rooms/{room_id}/leave",
    "DELETE /api/v1/rooms/{room_id}/live",
    "POST /api/v1/rooms/{room_id}/members",
    "PATCH /api/v1/rooms/{room_id}/members/{user_id}",
    "DELETE /api/v1/rooms/{room_id}/members/{user_id}",
    "POST /api/v1/rooms/{room_id}/members/{user_id}/ban",
    "DELETE /api/v1/rooms/{room_id}/members/{user_id}/ban",
    "POST /api/v1/rooms/{room_id}/members/{user_id}/mute",
    "DELETE /api/v1/rooms/{room_id}/members/{user_id}/mute",
    "PATCH /api/v1/users/{user_id}",
    "DELETE /api/v1/auth/sessions/{session_id}",
    "POST /api/v1/users/me/2fa",
}

# Rules the url_map holds that are not Parley's routes to authorize.
NOT_ROUTES = {
    # Answered by the Socket.IO middleware before Flask sees it (tests/realtime has the
    # events' matrix).
    "GET /socket.io/",
    "POST /socket.io/",
}

TABLE = """
# Columns: the room kind of the route's {room_id} or {message_id} (`any`: no room).
# A bare status is a success; `status:code` an error of that code.

GET /
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /favicon.ico
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

# The console answers the session cookie alone: a bearer token, even an administrator's,
# gets its 404 (tests/test_admin.py shows the cookie's answers).
GET /admin
actor     any
anon      404:not_found
outsider  404:not_found
member    404:not_found
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     404:not_found
bot       404:not_found
deact     404:not_found
revoked   404:not_found

GET /api/v1/admin/users
actor     any
anon      401:unauthorized
outsider  404:not_found
member    404:not_found
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     200
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/admin/users/{user_id}/password
actor     any
anon      401:unauthorized
outsider  404:not_found
member    404:not_found
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     200
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/admin/rooms
actor     any
anon      401:unauthorized
outsider  404:not_found
member    404:not_found
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     200
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

PATCH /api/v1/admin/rooms/{room_id}
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  404:not_found      404:not_found      404:not_found
member    404:not_found      404:not_found      404:not_found
muted     404:not_found      404:not_found      404:not_found
banned    404:not_found      404:not_found      404:not_found
mod       404:not_found      404:not_found      404:not_found
owner     404:not_found      404:not_found      404:not_found
admin     200                200                404:not_found
bot       404:not_found      404:not_found      404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/admin/live
actor     any
anon      401:unauthorized
outsider  404:not_found
member    404:not_found
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     200
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

DELETE /api/v1/admin/rooms/{room_id}/live
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  404:not_found      404:not_found      404:not_found
member    404:not_found      404:not_found      404:not_found
muted     404:not_found      404:not_found      404:not_found
banned    404:not_found      404:not_found      404:not_found
mod       404:not_found      404:not_found      404:not_found
owner     404:not_found      404:not_found      404:not_found
admin     204                204                404:not_found
bot       404:not_found      404:not_found      404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/admin/status
actor     any
anon      401:unauthorized
outsider  404:not_found
member    404:not_found
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     200
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

GET /healthz
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /metrics
actor     any
anon      403:metrics_forbidden
outsider  403:missing_permission
member    403:missing_permission
muted     403:missing_permission
banned    403:missing_permission
mod       403:missing_permission
owner     403:missing_permission
admin     200
bot       403:missing_permission
deact     401:invalid_token
revoked   401:invalid_token

GET /readyz
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /static/{filename}
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /api/docs
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /api/docs/assets/{filename}
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /api/v1/openapi.json
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

POST /api/v1/auth/register
actor     any
anon      201
outsider  201
member    201
muted     201
banned    201
mod       201
owner     201
admin     201
bot       201
deact     201
revoked   201

POST /api/v1/auth/login
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

POST /api/v1/auth/logout
actor     any
anon      401:unauthorized
outsider  204
member    204
muted     204
banned    204
mod       204
owner     204
admin     204
bot       204
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/auth/session
actor     any
anon      200
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     200
revoked   200

GET /api/v1/auth/session
actor     any
anon      401:unauthorized
outsider  400:not_a_session
member    400:not_a_session
muted     400:not_a_session
banned    400:not_a_session
mod       400:not_a_session
owner     400:not_a_session
admin     400:not_a_session
bot       400:not_a_session
deact     400:not_a_session
revoked   400:not_a_session

DELETE /api/v1/auth/session
actor     any
anon      401:unauthorized
outsider  400:not_a_session
member    400:not_a_session
muted     400:not_a_session
banned    400:not_a_session
mod       400:not_a_session
owner     400:not_a_session
admin     400:not_a_session
bot       400:not_a_session
deact     400:not_a_session
revoked   400:not_a_session

POST /api/v1/auth/session/register
actor     any
anon      201
outsider  201
member    201
muted     201
banned    201
mod       201
owner     201
admin     201
bot       201
deact     201
revoked   201

GET /api/v1/auth/sessions
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

DELETE /api/v1/auth/sessions/{session_id}
actor     any
anon      401:unauthorized
outsider  404:not_found
member    204
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     404:not_found
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/auth/tokens
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/auth/tokens
actor     any
anon      401:unauthorized
outsider  201
member    201
muted     201
banned    201
mod       201
owner     201
admin     201
bot       201
deact     401:invalid_token
revoked   401:invalid_token

DELETE /api/v1/auth/tokens/{token_id}
actor     any
anon      401:unauthorized
outsider  404:not_found
member    204
muted     404:not_found
banned    404:not_found
mod       404:not_found
owner     404:not_found
admin     404:not_found
bot       404:not_found
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/dm
actor     any
anon      401:unauthorized
outsider  201
member    201
muted     201
banned    201
mod       201
owner     201
admin     201
bot       201
deact     401:invalid_token
revoked   401:invalid_token

PATCH /api/v1/messages/{message_id}
actor     public              private             direct
anon      401:unauthorized    401:unauthorized    401:unauthorized
outsider  403:not_the_author  404:not_found       404:not_found
member    200                 200                 200
muted     403:not_the_author  403:not_the_author  404:not_found
banned    403:banned          403:banned          404:not_found
mod       403:not_the_author  403:not_the_author  404:not_found
owner     403:not_the_author  403:not_the_author  403:not_the_author
admin     403:not_the_author  404:not_found       404:not_found
bot       403:not_the_author  403:not_the_author  404:not_found
deact     401:invalid_token   401:invalid_token   401:invalid_token
revoked   401:invalid_token   401:invalid_token   401:invalid_token

DELETE /api/v1/messages/{message_id}
actor     public              private             direct
anon      401:unauthorized    401:unauthorized    401:unauthorized
outsider  403:not_the_author  404:not_found       404:not_found
member    200                 200                 200
muted     403:not_the_author  403:not_the_author  404:not_found
banned    403:banned          403:banned          404:not_found
mod       200                 200                 404:not_found
owner     200                 200                 403:not_the_author
admin     200                 404:not_found       404:not_found
bot       403:not_the_author  403:not_the_author  404:not_found
deact     401:invalid_token   401:invalid_token   401:invalid_token
revoked   401:invalid_token   401:invalid_token   401:invalid_token

GET /api/v1/messages/{message_id}/history
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/messages/{message_id}/thread
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

POST /api/v1/messages/{message_id}/thread/read
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

PUT /api/v1/messages/{message_id}/pin
actor     public                 private                direct
anon      401:unauthorized       401:unauthorized       401:unauthorized
outsider  403:not_a_moderator    404:not_found          404:not_found
member    403:not_a_moderator    403:not_a_moderator    200
muted     403:not_a_moderator    403:not_a_moderator    404:not_found
banned    403:banned             403:banned             404:not_found
mod       200                    200                    404:not_found
owner     200                    200                    200
admin     200                    404:not_found          404:not_found
bot       403:not_a_moderator    403:not_a_moderator    404:not_found
deact     401:invalid_token      401:invalid_token      401:invalid_token
revoked   401:invalid_token      401:invalid_token      401:invalid_token

DELETE /api/v1/messages/{message_id}/pin
actor     public                 private                direct
anon      401:unauthorized       401:unauthorized       401:unauthorized
outsider  403:not_a_moderator    404:not_found          404:not_found
member    403:not_a_moderator    403:not_a_moderator    200
muted     403:not_a_moderator    403:not_a_moderator    404:not_found
banned    403:banned             403:banned             404:not_found
mod       200                    200                    404:not_found
owner     200                    200                    200
admin     200                    404:not_found          404:not_found
bot       403:not_a_moderator    403:not_a_moderator    404:not_found
deact     401:invalid_token      401:invalid_token      401:invalid_token
revoked   401:invalid_token      401:invalid_token      401:invalid_token

PUT /api/v1/messages/{message_id}/reactions/{emoji}
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    200                200                200
muted     403:muted          403:muted          404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     403:not_a_member   404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

DELETE /api/v1/messages/{message_id}/reactions/{emoji}
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    200                200                200
muted     403:muted          403:muted          404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     403:not_a_member   404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/rooms/{room_id}/pins
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

PATCH /api/v1/rooms/{room_id}/notifications
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     403:not_a_member   404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/mentions
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/threads
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/rooms
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/rooms
actor     any
anon      401:unauthorized
outsider  201
member    201
muted     201
banned    201
mod       201
owner     201
admin     201
bot       201
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/rooms/directory
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/rooms/{room_id}
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

PATCH /api/v1/rooms/{room_id}
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       200                  200                  404:not_found
owner     200                  200                  403:not_a_moderator
admin     200                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

POST /api/v1/rooms/{room_id}/join
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  201                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     201                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

POST /api/v1/rooms/{room_id}/leave
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    204                204                403:direct_room
muted     204                204                404:not_found
banned    403:banned         403:banned         404:not_found
mod       204                204                404:not_found
owner     204                204                403:direct_room
admin     403:not_a_member   404:not_found      404:not_found
bot       204                204                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

POST /api/v1/rooms/{room_id}/live
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    409:already_live   409:already_live   409:already_live
muted     403:muted          403:muted          404:not_found
banned    403:banned         403:banned         404:not_found
mod       409:already_live   409:already_live   404:not_found
owner     409:already_live   409:already_live   409:already_live
admin     403:not_a_member   404:not_found      404:not_found
bot       409:already_live   409:already_live   404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/rooms/{room_id}/live
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

DELETE /api/v1/rooms/{room_id}/live
actor     public                   private                  direct
anon      401:unauthorized         401:unauthorized         401:unauthorized
outsider  403:not_the_broadcaster  404:not_found            404:not_found
member    403:not_the_broadcaster  403:not_the_broadcaster  403:not_the_broadcaster
muted     403:not_the_broadcaster  403:not_the_broadcaster  404:not_found
banned    403:banned               403:banned               404:not_found
mod       204                      204                      404:not_found
owner     204                      204                      204
admin     204                      404:not_found            404:not_found
bot       403:not_the_broadcaster  403:not_the_broadcaster  404:not_found
deact     401:invalid_token        401:invalid_token        401:invalid_token
revoked   401:invalid_token        401:invalid_token        401:invalid_token

GET /api/v1/rooms/{room_id}/members
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

POST /api/v1/rooms/{room_id}/members
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    201                201                403:direct_room
muted     201                201                404:not_found
banned    403:banned         403:banned         404:not_found
mod       201                201                404:not_found
owner     201                201                403:direct_room
admin     403:not_a_member   404:not_found      404:not_found
bot       201                201                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

PATCH /api/v1/rooms/{room_id}/members/{user_id}
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       403:not_an_owner     403:not_an_owner     404:not_found
owner     200                  200                  403:not_a_moderator
admin     200                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

DELETE /api/v1/rooms/{room_id}/members/{user_id}
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       204                  204                  404:not_found
owner     204                  204                  403:not_a_moderator
admin     204                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

POST /api/v1/rooms/{room_id}/members/{user_id}/ban
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       200                  200                  404:not_found
owner     200                  200                  403:not_a_moderator
admin     200                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

DELETE /api/v1/rooms/{room_id}/members/{user_id}/ban
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       204                  204                  404:not_found
owner     204                  204                  403:not_a_moderator
admin     204                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

POST /api/v1/rooms/{room_id}/members/{user_id}/mute
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       200                  200                  404:not_found
owner     200                  200                  403:not_a_moderator
admin     200                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

DELETE /api/v1/rooms/{room_id}/members/{user_id}/mute
actor     public               private              direct
anon      401:unauthorized     401:unauthorized     401:unauthorized
outsider  403:not_a_moderator  404:not_found        404:not_found
member    403:not_a_moderator  403:not_a_moderator  403:not_a_moderator
muted     403:not_a_moderator  403:not_a_moderator  404:not_found
banned    403:banned           403:banned           404:not_found
mod       200                  200                  404:not_found
owner     200                  200                  403:not_a_moderator
admin     200                  404:not_found        404:not_found
bot       403:not_a_moderator  403:not_a_moderator  404:not_found
deact     401:invalid_token    401:invalid_token    401:invalid_token
revoked   401:invalid_token    401:invalid_token    401:invalid_token

GET /api/v1/rooms/{room_id}/messages
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

POST /api/v1/rooms/{room_id}/messages
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    201                201                201
muted     403:muted          403:muted          404:not_found
banned    403:banned         403:banned         404:not_found
mod       201                201                404:not_found
owner     201                201                201
admin     403:not_a_member   404:not_found      404:not_found
bot       201                201                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

POST /api/v1/rooms/{room_id}/read
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  403:not_a_member   404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     403:not_a_member   404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /api/v1/search
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/users
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/users/me
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

PATCH /api/v1/users/me
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

PUT /api/v1/users/me/avatar
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

DELETE /api/v1/users/me/avatar
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/users/me/2fa
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/users/me/2fa
actor     any
anon      401:unauthorized
outsider  201
member    201
muted     201
banned    201
mod       201
owner     201
admin     201
bot       201
deact     401:invalid_token
revoked   401:invalid_token

DELETE /api/v1/users/me/2fa
actor     any
anon      401:unauthorized
outsider  409:totp_not_enabled
member    409:totp_not_enabled
muted     409:totp_not_enabled
banned    409:totp_not_enabled
mod       409:totp_not_enabled
owner     409:totp_not_enabled
admin     409:totp_not_enabled
bot       409:totp_not_enabled
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/users/me/2fa/confirm
actor     any
anon      401:unauthorized
outsider  409:totp_not_started
member    409:totp_not_started
muted     409:totp_not_started
banned    409:totp_not_started
mod       409:totp_not_started
owner     409:totp_not_started
admin     409:totp_not_started
bot       409:totp_not_started
deact     401:invalid_token
revoked   401:invalid_token

POST /api/v1/users/me/2fa/recovery-codes
actor     any
anon      401:unauthorized
outsider  409:totp_not_enabled
member    409:totp_not_enabled
muted     409:totp_not_enabled
banned    409:totp_not_enabled
mod       409:totp_not_enabled
owner     409:totp_not_enabled
admin     409:totp_not_enabled
bot       409:totp_not_enabled
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/users/{user_id}
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

GET /api/v1/users/{user_id}/avatar
actor     any
anon      401:unauthorized
outsider  200
member    200
muted     200
banned    200
mod       200
owner     200
admin     200
bot       200
deact     401:invalid_token
revoked   401:invalid_token

PATCH /api/v1/users/{user_id}
actor     any
anon      401:unauthorized
outsider  403:missing_permission
member    403:missing_permission
muted     403:missing_permission
banned    403:missing_permission
mod       403:missing_permission
owner     403:missing_permission
admin     200
bot       403:missing_permission
deact     401:invalid_token
revoked   401:invalid_token

GET /rooms/{room_id}/live.jpg
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token

GET /rooms/{room_id}/live.mjpg
actor     public             private            direct
anon      401:unauthorized   401:unauthorized   401:unauthorized
outsider  200                404:not_found      404:not_found
member    200                200                200
muted     200                200                404:not_found
banned    403:banned         403:banned         404:not_found
mod       200                200                404:not_found
owner     200                200                200
admin     200                404:not_found      404:not_found
bot       200                200                404:not_found
deact     401:invalid_token  401:invalid_token  401:invalid_token
revoked   401:invalid_token  401:invalid_token  401:invalid_token
"""

EXPECTED = parse_table(TABLE)


def route_names(app: Flask) -> set[str]:
    names = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                names.add(f"{method} {path}")
    return names


def kinds_of(route: str) -> tuple[str, ...]:
    return KINDS if "{room_id}" in route or "{message_id}" in route else ("any",)


def columns() -> list[Any]:
    """One test per route and room kind: its actors' cells (one test per cell spent more
    time in pytest than in the app)."""
    return [
        pytest.param(route, kind, id=f"{route}|{kind}")
        for route in REQUESTS
        for kind in kinds_of(route)
    ]


def answer(app: Flask, world: World, route: str, actor: str, kind: str) -> str:
    """What the actor gets: the status of a success, `status:code` of an error."""
    method, path = route.split(" ", 1)
    spec = REQUESTS[route]
    room = kind if kind != "any" else "public"
    url = path.format(
        room_id=world.rooms[room],
        message_id=world.messages[room],
        user_id=world.user(spec.user),
        token_id=world.spare_token_id,
        session_id=world.token_ids["member"],
        filename=spec.filename,
        emoji=spec.emoji,
    )
    if spec.query:
        url += "?" + spec.query
    body = spec.body(world) if callable(spec.body) else spec.body
    token = world.tokens.get(actor)
    headers = bearer(token) if token is not None else {}
    environ = {"REMOTE_ADDR": spec.remote_addr} if spec.remote_addr else {}
    sent: dict[str, Any] = {"json": body}
    if spec.upload:
        sent = {"data": spec.upload, "content_type": "image/png"}
    response = app.test_client().open(
        url, method=method, headers=headers, environ_base=environ, **sent
    )
    try:
        if response.status_code < 400:
            return str(response.status_code)
        error = (response.get_json(silent=True) or {}).get("error", {})
        return f"{response.status_code}:{error.get('code', '<not the error shape>')}"
    finally:
        response.close()


@pytest.fixture
def _clean_database() -> None:
    """Overrides conftest's: this module keeps its world across tests (`shared` empties
    the database when the module is done)."""


@pytest.fixture(scope="module")
def broadcasts_of_module(app: Flask) -> Iterator[Broadcasts]:
    yield from module_broadcasts(app)


@pytest.fixture(scope="module")
def shared(app: Flask, broadcasts_of_module: Broadcasts) -> Iterator[World]:
    yield build_world(app, broadcasts_of_module)
    empty_database(app)


def test_every_route_has_a_block(app: Flask) -> None:
    routes = route_names(app) - NOT_ROUTES
    assert sorted(routes - set(REQUESTS)) == [], "routes without a request and a block"
    assert sorted(set(REQUESTS) - routes) == [], "blocks of routes that are gone"
    tabled = {name for name, _, _ in EXPECTED}
    assert sorted(routes - tabled) == [], "routes without a block in TABLE"
    for route in REQUESTS:
        assert {k for n, _, k in EXPECTED if n == route} == set(kinds_of(route)), route


def test_every_documented_operation_has_a_block(app: Flask) -> None:
    document = app.test_client().get(f"{API}/openapi.json").get_json()
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert sorted(operations - set(REQUESTS)) == []


@pytest.mark.parametrize(("route", "kind"), columns())
def test_answers_are_the_tables(
    app: Flask, shared: World, broadcasts_of_module: Broadcasts, route: str, kind: str
) -> None:
    """Every actor's cell; a failure lists each cell that differs."""
    expected = {actor: EXPECTED[(route, actor, kind)] for actor in ACTORS}
    got = {}
    for actor in ACTORS:
        world = shared
        if route in DESTROYS and ":" not in expected[actor]:
            world = build_world(app, broadcasts_of_module)
        got[actor] = answer(app, world, route, actor, kind)
    differing = {
        a: f"expected {expected[a]}, got {got[a]}" for a in ACTORS if got[a] != expected[a]
    }
    assert differing == {}


MISSING = 987654321
ADMIN_API = "/api/v1/admin/"


def whole_answer(app: Flask, world: World, route: str, actor: str, kind: str) -> str:
    method, path = route.split(" ", 1)
    spec = REQUESTS[route]
    url = path.format(
        room_id=world.rooms[kind],
        message_id=world.messages[kind],
        user_id=world.user(spec.user),
        token_id=world.spare_token_id,
        session_id=world.token_ids["member"],
        filename=spec.filename,
        emoji=spec.emoji,
    )
    body = spec.body(world) if callable(spec.body) else spec.body
    token = world.tokens[actor]
    assert token is not None
    response = app.test_client().open(url, method=method, headers=bearer(token), json=body)
    try:
        return f"{response.status_code} {response.get_data(as_text=True)}"
    finally:
        response.close()


@pytest.mark.parametrize(
    "route", [route for route in REQUESTS if kinds_of(route) == KINDS], ids=str
)
def test_an_outsider_gets_exactly_the_answer_of_a_missing_room(
    app: Flask, shared: World, route: str
) -> None:
    """The whole answer, not only its status and code: an outsider's (and an
    administrator's) private and direct rooms answer exactly what ids that do not exist
    answer, with the id sent."""
    missing = World(
        shared.number,
        shared.user_ids,
        shared.tokens,
        shared.token_ids,
        rooms=dict.fromkeys(shared.rooms, MISSING),
        messages=dict.fromkeys(shared.messages, MISSING),
        spare_token_id=shared.spare_token_id,
    )
    by_message = "{message_id}" in route
    for actor in ("outsider", "admin"):
        for kind in ("private", "direct"):
            if (
                actor == "admin"
                and kind == "private"
                and route.split(" ", 1)[1].startswith(ADMIN_API)
            ):
                # The console manages private rooms (names, archiving, broadcasts), not
                # their messages; a direct room stays unknown to it.
                continue
            sent = str(shared.messages[kind] if by_message else shared.rooms[kind])
            expected = whole_answer(app, missing, route, actor, kind)
            assert whole_answer(app, shared, route, actor, kind) == expected.replace(
                str(MISSING), sent
            )


def record(app: Flask, broadcasts: Broadcasts) -> str:
    """The whole table as the app answers now, each success on a world of its own (for
    writing TABLE; every cell then needs checking against the rules above)."""
    results: dict[Cell, str] = {}
    shared_world = build_world(app, broadcasts)
    for route in REQUESTS:
        for kind in kinds_of(route):
            for actor in ACTORS:
                world = build_world(app, broadcasts) if route in DESTROYS else shared_world
                results[(route, actor, kind)] = answer(app, world, route, actor, kind)
    return render_table(results, KINDS)
