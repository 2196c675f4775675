"""Every client Socket.IO event x every actor x every room kind acks what TABLE says.

The rows come from the server's registered handlers, so a new event without a block in
TABLE fails `test_every_event_has_a_block`. Actors and rooms are described in
tests/authz_world.py, with two differences: `deact` and `revoked` connected while they
could, and were then deactivated and revoked straight in the database, so every event
must check them again (as it does when the change comes from another process); and
`anon` cannot connect at all (`refused`).

A cell is `ok` for a success ack, the error code of an error ack, or `refused`. An
outsider of a private or direct room gets exactly what a room that does not exist gets:
`not_found`.

Sockets are opened once per actor and database; a cell that succeeds on an event in
DESTROYS gets a world and a socket of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from authz_matrix import parse_table, render_table
from authz_world import ACTORS, FRAME, KINDS, World, build_world, kill, module_broadcasts
from parley.events import Event
from parley.extensions import socketio
from parley.realtime.packets import NESTED_TOO_DEEPLY
from parley.realtime.reserved import REFUSED_EVENT
from parley.video.broadcasts import Broadcasts
from support import empty_database

Payload = Callable[[World, str], tuple[Any, ...]]


def room(world: World, kind: str) -> dict[str, Any]:
    return {"room_id": world.rooms[kind]}


def message(world: World, kind: str) -> dict[str, Any]:
    return {"message_id": world.messages[kind]}


# What each event is sent with: valid payloads, so that what a cell shows is authorization.
PAYLOADS: dict[str, Payload] = {
    "message:send": lambda w, k: ({**room(w, k), "body": "hi"},),
    "message:edit": lambda w, k: ({**message(w, k), "body": "edited"},),
    "message:delete": lambda w, k: (message(w, k),),
    "reaction:add": lambda w, k: ({**message(w, k), "emoji": "👍"},),
    "reaction:remove": lambda w, k: ({**message(w, k), "emoji": "👍"},),
    "message:pin": lambda w, k: ({**message(w, k), "pinned": True},),
    "room:join": lambda w, k: (room(w, k),),
    "room:leave": lambda w, k: (room(w, k),),
    "room:read": lambda w, k: ({**room(w, k), **message(w, k)},),
    "thread:read": lambda w, k: ({**message(w, k), "last_read_id": 1},),
    "typing": lambda w, k: (room(w, k),),
    "sync": lambda w, k: ({"rooms": {str(w.rooms[k]): 0}},),
    "video:start": lambda w, k: ({**room(w, k), "width": 64, "height": 48, "fps": 10},),
    "video:stop": lambda w, k: (room(w, k),),
    "video:frame": lambda w, k: (room(w, k), FRAME),
    "video:watch": lambda w, k: (room(w, k),),
    "video:unwatch": lambda w, k: (room(w, k),),
}

# Events whose success changes what other cells would see (video:watch leaves a task
# sending frames to the socket): a success runs on a world and a socket of its own.
DESTROYS = {"message:delete", "room:join", "room:leave", "video:stop", "video:watch"}

# The handlers Socket.IO itself calls, and the events a packet nested too deeply to decode
# or an event with a reserved name becomes (they only refuse), not events a client sends.
NOT_EVENTS = {"connect", "disconnect", "*", NESTED_TOO_DEEPLY, REFUSED_EVENT}

TABLE = """
message:send
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    ok             ok             ok
muted     muted          muted          not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     not_a_member   not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

message:edit
actor     public          private         direct
anon      refused         refused         refused
outsider  not_the_author  not_found       not_found
member    ok              ok              ok
muted     not_the_author  not_the_author  not_found
banned    banned          banned          not_found
mod       not_the_author  not_the_author  not_found
owner     not_the_author  not_the_author  not_the_author
admin     not_the_author  not_found       not_found
bot       not_the_author  not_the_author  not_found
deact     invalid_token   invalid_token   invalid_token
revoked   invalid_token   invalid_token   invalid_token

message:delete
actor     public          private         direct
anon      refused         refused         refused
outsider  not_the_author  not_found       not_found
member    ok              ok              ok
muted     not_the_author  not_the_author  not_found
banned    banned          banned          not_found
mod       ok              ok              not_found
owner     ok              ok              not_the_author
admin     ok              not_found       not_found
bot       not_the_author  not_the_author  not_found
deact     invalid_token   invalid_token   invalid_token
revoked   invalid_token   invalid_token   invalid_token

reaction:add
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    ok             ok             ok
muted     muted          muted          not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     not_a_member   not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

reaction:remove
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    ok             ok             ok
muted     muted          muted          not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     not_a_member   not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

message:pin
actor     public            private           direct
anon      refused           refused           refused
outsider  not_a_moderator   not_found         not_found
member    not_a_moderator   not_a_moderator   ok
muted     not_a_moderator   not_a_moderator   not_found
banned    banned            banned            not_found
mod       ok                ok                not_found
owner     ok                ok                ok
admin     ok                not_found         not_found
bot       not_a_moderator   not_a_moderator   not_found
deact     invalid_token     invalid_token     invalid_token
revoked   invalid_token     invalid_token     invalid_token

room:join
actor     public         private        direct
anon      refused        refused        refused
outsider  ok             not_found      not_found
member    ok             ok             ok
muted     ok             ok             not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     ok             not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

room:leave
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    ok             ok             direct_room
muted     ok             ok             not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             direct_room
admin     not_a_member   not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

thread:read
actor     public         private        direct
anon      refused        refused        refused
outsider  ok             not_found      not_found
member    ok             ok             ok
muted     ok             ok             not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     ok             not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

room:read
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    ok             ok             ok
muted     ok             ok             not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     not_a_member   not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

typing
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    ok             ok             ok
muted     muted          muted          not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     not_a_member   not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

sync
actor     public         private        direct
anon      refused        refused        refused
outsider  ok             ok             ok
member    ok             ok             ok
muted     ok             ok             ok
banned    ok             ok             ok
mod       ok             ok             ok
owner     ok             ok             ok
admin     ok             ok             ok
bot       ok             ok             ok
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

video:start
actor     public         private        direct
anon      refused        refused        refused
outsider  not_a_member   not_found      not_found
member    already_live   already_live   already_live
muted     muted          muted          not_found
banned    banned         banned         not_found
mod       already_live   already_live   not_found
owner     already_live   already_live   already_live
admin     not_a_member   not_found      not_found
bot       already_live   already_live   not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

video:stop
actor     public               private              direct
anon      refused              refused              refused
outsider  not_the_broadcaster  not_found            not_found
member    not_the_broadcaster  not_the_broadcaster  not_the_broadcaster
muted     not_the_broadcaster  not_the_broadcaster  not_found
banned    banned               banned               not_found
mod       ok                   ok                   not_found
owner     ok                   ok                   ok
admin     ok                   not_found            not_found
bot       not_the_broadcaster  not_the_broadcaster  not_found
deact     invalid_token        invalid_token        invalid_token
revoked   invalid_token        invalid_token        invalid_token

video:frame
actor     public               private              direct
anon      refused              refused              refused
outsider  not_the_broadcaster  not_found            not_found
member    not_the_broadcaster  not_the_broadcaster  not_the_broadcaster
muted     not_the_broadcaster  not_the_broadcaster  not_found
banned    banned               banned               not_found
mod       not_the_broadcaster  not_the_broadcaster  not_found
owner     ok                   ok                   ok
admin     not_the_broadcaster  not_found            not_found
bot       not_the_broadcaster  not_the_broadcaster  not_found
deact     invalid_token        invalid_token        invalid_token
revoked   invalid_token        invalid_token        invalid_token

video:watch
actor     public         private        direct
anon      refused        refused        refused
outsider  ok             not_found      not_found
member    ok             ok             ok
muted     ok             ok             not_found
banned    banned         banned         not_found
mod       ok             ok             not_found
owner     ok             ok             ok
admin     ok             not_found      not_found
bot       ok             ok             not_found
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token

video:unwatch
actor     public         private        direct
anon      refused        refused        refused
outsider  ok             ok             ok
member    ok             ok             ok
muted     ok             ok             ok
banned    ok             ok             ok
mod       ok             ok             ok
owner     ok             ok             ok
admin     ok             ok             ok
bot       ok             ok             ok
deact     invalid_token  invalid_token  invalid_token
revoked   invalid_token  invalid_token  invalid_token
"""

EXPECTED = parse_table(TABLE)


def cells() -> list[Any]:
    return [
        pytest.param(name, actor, kind, id=f"{name}|{actor}|{kind}")
        for name in PAYLOADS
        for kind in KINDS
        for actor in ACTORS
    ]


def open_socket(app: Flask, world: World, actor: str) -> SocketIOTestClient:
    token = world.tokens.get(actor)
    return socketio.test_client(app, auth={"token": token} if token is not None else None)


def close(sockets: list[SocketIOTestClient]) -> None:
    for client in sockets:
        if client.is_connected():
            client.disconnect()
        SocketIOTestClient.clients.pop(client.eio_sid, None)
        if socketio.server is not None:
            socketio.server.environ.pop(client.eio_sid, None)


def ack_of(client: SocketIOTestClient, world: World, name: str, kind: str) -> str:
    if not client.is_connected():
        return "refused"
    ack = client.emit(name, *PAYLOADS[name](world, kind), callback=True)
    client.get_received()
    assert isinstance(ack, dict), ack
    if ack.get("ok") is True:
        return "ok"
    assert set(ack) == {"ok", "error"} and ack["ok"] is False, ack
    assert set(ack["error"]) == {"code", "message", "details"}, ack
    return str(ack["error"]["code"])


class Sockets:
    """The world's actors' sockets, opened once; closed waiting until every user who
    came online was announced offline, as tests/realtime/conftest.py's `connect` does."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.online: dict[int, str] = {}
        self.opened: list[SocketIOTestClient] = []
        self.by_actor: dict[str, SocketIOTestClient] = {}
        self._unsubscribe = app.extensions["parley.bus"].subscribe(self._track)

    def _track(self, event: Event) -> None:
        if event.type == "presence":
            self.online[event.payload["user_id"]] = event.payload["status"]

    def open(self, world: World, actor: str) -> SocketIOTestClient:
        client = open_socket(self.app, world, actor)
        self.opened.append(client)
        return client

    def close(self) -> None:
        grace = self.app.config["PARLEY_PRESENCE_GRACE_SECONDS"]
        self.app.config["PARLEY_PRESENCE_GRACE_SECONDS"] = 0.05
        try:
            close(self.opened)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                if not any(state == "online" for state in self.online.values()):
                    break
                time.sleep(0.01)
        finally:
            self.app.config["PARLEY_PRESENCE_GRACE_SECONDS"] = grace
            self._unsubscribe()
        still = sorted(user for user, state in self.online.items() if state == "online")
        assert not still, f"users {still} were never announced offline"


@pytest.fixture
def _clean_database() -> None:
    """Overrides conftest's: this module keeps its world across tests (`shared` empties
    the database when the module is done)."""


@pytest.fixture(scope="module")
def broadcasts_of_module(app: Flask) -> Iterator[Broadcasts]:
    yield from module_broadcasts(app)


@pytest.fixture(scope="module")
def shared(app: Flask, broadcasts_of_module: Broadcasts) -> Iterator[tuple[World, Sockets]]:
    world = build_world(app, broadcasts_of_module, alive=True)
    sockets = Sockets(app)
    try:
        for actor in ACTORS:
            sockets.by_actor[actor] = sockets.open(world, actor)
        kill(app, world)
        yield world, sockets
    finally:
        sockets.close()
        empty_database(app)


def test_every_event_has_a_block() -> None:
    registered = set(socketio.server.handlers["/"]) - NOT_EVENTS
    assert sorted(registered - set(PAYLOADS)) == [], "events without a payload and a block"
    assert sorted(set(PAYLOADS) - registered) == [], "blocks of events that are gone"
    assert {name for name, _, _ in EXPECTED} == set(PAYLOADS)


@pytest.mark.parametrize(("name", "actor", "kind"), cells())
def test_ack_is_the_tables(
    app: Flask,
    shared: tuple[World, Sockets],
    broadcasts_of_module: Broadcasts,
    name: str,
    actor: str,
    kind: str,
) -> None:
    expected = EXPECTED[(name, actor, kind)]
    world, sockets = shared
    if actor == "anon":
        client = open_socket(app, world, actor)
        try:
            assert ack_of(client, world, name, kind) == expected
        finally:
            close([client])
        return
    if name in DESTROYS and expected == "ok":
        world = build_world(app, broadcasts_of_module)
        own = Sockets(app)
        try:
            assert ack_of(own.open(world, actor), world, name, kind) == expected
        finally:
            own.close()
        return
    assert ack_of(sockets.by_actor[actor], world, name, kind) == expected


MISSING = 987654321


def missing_world(world: World) -> World:
    """The same world, its rooms and messages replaced by ids that do not exist."""
    return World(
        world.number,
        world.user_ids,
        world.tokens,
        world.token_ids,
        rooms=dict.fromkeys(world.rooms, MISSING),
        messages=dict.fromkeys(world.messages, MISSING),
    )


def raw_ack(client: SocketIOTestClient, world: World, name: str, kind: str) -> str:
    ack = client.emit(name, *PAYLOADS[name](world, kind), callback=True)
    client.get_received()
    return json.dumps(ack, sort_keys=True)


def sent_id(world: World, name: str, kind: str) -> int:
    """The id of the event's payload that names the room or the message."""
    payload = PAYLOADS[name](world, kind)[0]
    by_message = "room_id" not in payload and "message_id" in payload
    return world.messages[kind] if by_message else world.rooms[kind]


def outsider_cells() -> list[Any]:
    found = []
    for name in PAYLOADS:
        for live in (True, False):
            label = "live" if live else "not live"
            found.append(pytest.param(name, live, id=f"{name}|{label}"))
    return found


@pytest.mark.parametrize(("name", "live"), outsider_cells())
def test_an_outsider_gets_exactly_the_answer_of_a_missing_room(
    app: Flask, broadcasts_of_module: Broadcasts, name: str, live: bool
) -> None:
    """The whole ack, not only its code: an outsider's private and direct rooms, live or
    not, answer exactly what ids that do not exist answer (with the id sent)."""
    world = build_world(app, broadcasts_of_module)
    if not live:
        for room_id in world.rooms.values():
            broadcasts_of_module.remove(room_id)
    own = Sockets(app)
    try:
        client = own.open(world, "outsider")
        for kind in ("private", "direct"):
            sent = str(sent_id(world, name, kind))
            missing = raw_ack(client, missing_world(world), name, kind)
            assert raw_ack(client, world, name, kind) == missing.replace(str(MISSING), sent)
    finally:
        own.close()


def record(app: Flask, broadcasts: Broadcasts) -> str:
    """The whole table as the server acks now (for writing TABLE; every cell then needs
    checking against the rules above)."""
    results = {}
    world = build_world(app, broadcasts, alive=True)
    sockets = Sockets(app)
    try:
        for actor in ACTORS:
            sockets.by_actor[actor] = sockets.open(world, actor)
        kill(app, world)
        for name in PAYLOADS:
            for kind in KINDS:
                for actor in ACTORS:
                    if name in DESTROYS and actor not in ("anon", "deact", "revoked"):
                        fresh = build_world(app, broadcasts)
                        own = Sockets(app)
                        try:
                            got = ack_of(own.open(fresh, actor), fresh, name, kind)
                        finally:
                            own.close()
                    else:
                        got = ack_of(sockets.by_actor[actor], world, name, kind)
                    results[(name, actor, kind)] = got
    finally:
        sockets.close()
    return render_table(results, KINDS)
