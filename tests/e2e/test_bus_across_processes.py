"""One event bus across processes: two `parley serve` processes (A and B) on one
PostgreSQL schema and one Redis channel, with real Socket.IO clients on each.

Every committed change made through one process reaches the sockets of the other, and
a change that takes access away is in force on the other before its HTTP response
returns: a member banned or removed through A hears their removal on B and then nothing
more, a deactivated user's and a revoked token's sockets on B are disconnected, and a
banned member's send on B right after the ban is refused although B had kept their
right to post (PARLEY_ACCESS_RECHECK_SECONDS is far longer than the test), and live
video views on B end with no frame made after the change.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import socketio
from api_client import Api
from servers import BIN, LiveServer, serve_processes
from test_live_video_access import (
    assert_views_end,
    invited_viewer,
    lose_right,
    watch_over_socket,
)
from test_video_stream import MjpegReader, broadcasting, close_socket

from databases import postgres_schema

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "granite-lantern-orbit-73"
# How long a socket is given to receive an event that was emitted: the tests assert on
# what arrives, never on how fast, and an event that should not arrive gets this long.
SETTLE_SECONDS = 1.0


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    tmp_path = tmp_path_factory.mktemp("bus")
    # Kept checks live far longer than any test here: only the bus can drop them in time.
    with (
        postgres_schema() as url,
        serve_processes(tmp_path, url, extra_env={"PARLEY_ACCESS_RECHECK_SECONDS": "60"}) as pair,
    ):
        a, b = pair
        yield a, b


def tag() -> str:
    return uuid.uuid4().hex[:8]


def token_of(api: Api) -> str:
    return str(api.http.headers["Authorization"])[len("Bearer ") :]


def wait_for(predicate: Callable[..., object], timeout: float = 10.0, message: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.02)


class Socket:
    """A python-socketio client (WebSocket) that keeps every event it is sent."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.disconnected = threading.Event()
        self.sio.on("*", self._note)
        self.sio.on("disconnect", lambda *_reason: self.disconnected.set())
        self.sio.connect(
            server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10
        )

    def _note(self, event: str, data: Any = None) -> None:
        with self.lock:
            self.events.append((event, data))

    def received(self, name: str) -> list[Any]:
        with self.lock:
            return [data for event, data in self.events if event == name]

    def bodies(self, room_id: int) -> list[str]:
        return [
            data["message"]["body"]
            for data in self.received("message:new")
            if data["message"]["room_id"] == room_id
        ]

    def call(self, event: str, data: dict[str, Any]) -> Any:
        return self.sio.call(event, data, timeout=10)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@dataclass
class Member:
    api: Api
    user_id: int
    username: str


@pytest.fixture
def sockets() -> Iterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for sock in opened:
        sock.close()


@pytest.fixture
def world(
    processes: tuple[LiveServer, LiveServer], sockets: list[Socket]
) -> Iterator[dict[str, Any]]:
    """Fresh users for one test, registered through A, and a way to connect them."""
    a, b = processes
    made: list[Api] = []

    def member(name: str, server: LiveServer = a) -> Member:
        username = f"{name}-{tag()}"
        api, body = Api.register(server.url, username)
        made.append(api)
        return Member(api, body["user"]["id"], username)

    def connect(server: LiveServer, who: Member | str) -> Socket:
        token = who if isinstance(who, str) else token_of(who.api)
        sock = Socket(server, token)
        sockets.append(sock)
        return sock

    def room_of(owner: Member, *members: Member, kind: str = "private") -> int:
        room = owner.api.call("POST", "/rooms", 201, json={"name": f"r-{tag()}", "kind": kind})
        for m in members:
            owner.api.call("POST", f"/rooms/{room['id']}/members", 201, json={"user_id": m.user_id})
        return int(room["id"])

    yield {"a": a, "b": b, "member": member, "connect": connect, "room_of": room_of}
    for api in made:
        api.close()


def post(api: Api, room_id: int, body: str) -> dict[str, Any]:
    message: dict[str, Any] = api.call(
        "POST", f"/rooms/{room_id}/messages", 201, json={"body": body}
    )
    return message


def test_clients_on_two_processes_chat_both_ways(world: dict[str, Any]) -> None:
    alice, bob = world["member"]("alice"), world["member"]("bob")
    room = world["room_of"](alice, bob)
    on_a, on_b = world["connect"](world["a"], alice), world["connect"](world["b"], bob)
    for sock, body in ((on_a, "hello from A"), (on_b, "hello from B")):
        ack = sock.call("message:send", {"room_id": room, "body": body})
        assert ack["ok"] is True, ack
    for sock in (on_a, on_b):
        wait_for(lambda s=sock: len(s.bodies(room)) == 2, message="both messages on both")
        assert sorted(sock.bodies(room)) == ["hello from A", "hello from B"]


def test_a_rest_post_edit_and_delete_through_a_reach_a_socket_on_b(world: dict[str, Any]) -> None:
    alice, bob = world["member"]("alice"), world["member"]("bob")
    room = world["room_of"](alice, bob)
    on_b = world["connect"](world["b"], bob)
    message = post(alice.api, room, "first draft")
    alice.api.call("PATCH", f"/messages/{message['id']}", 200, json={"body": "second draft"})
    alice.api.call("DELETE", f"/messages/{message['id']}", 200)
    wait_for(lambda: on_b.received("message:delete"), message="the delete on B")
    assert on_b.bodies(room) == ["first draft"]
    (edit,) = on_b.received("message:edit")
    assert edit["message"]["body"] == "second draft"
    (delete,) = on_b.received("message:delete")
    assert delete["message"]["id"] == message["id"]
    assert [e["seq"] for e in (on_b.received("message:new")[0], edit)] == [1, 2]


def test_a_member_joining_through_a_hears_the_room_on_b_at_once(world: dict[str, Any]) -> None:
    alice, eve = world["member"]("alice"), world["member"]("eve")
    room = world["room_of"](alice, kind="public")
    on_b = world["connect"](world["b"], eve)
    eve.api.call("POST", f"/rooms/{room}/join", 201)
    post(alice.api, room, "welcome")
    wait_for(lambda: on_b.bodies(room) == ["welcome"], message="the message after the join")
    joins = on_b.received("room:member_join")
    assert [j["member"]["user"]["id"] for j in joins] == [eve.user_id]


def test_a_direct_room_made_through_a_reaches_the_other_user_on_b(world: dict[str, Any]) -> None:
    alice, bob = world["member"]("alice"), world["member"]("bob")
    on_b = world["connect"](world["b"], bob)
    direct = alice.api.call("POST", "/dm", 201, json={"user_id": bob.user_id})
    post(alice.api, direct["id"], "psst")
    wait_for(lambda: on_b.bodies(direct["id"]) == ["psst"], message="the direct message on B")


def _removed_on_b_before_the_response(
    world: dict[str, Any], remove: Callable[[Member, int, Member], None]
) -> list[Any]:
    alice, bob, carol = (world["member"](n) for n in ("alice", "bob", "carol"))
    room = world["room_of"](alice, bob, carol)
    bob_on_b = world["connect"](world["b"], bob)
    carol_on_b = world["connect"](world["b"], carol)
    post(alice.api, room, "before")
    wait_for(lambda: bob_on_b.bodies(room) == ["before"], message="bob hearing the room")
    remove(alice, room, bob)
    post(alice.api, room, "after")
    # Carol, on the same process, hears it: so would bob, were he still in the room there.
    wait_for(lambda: carol_on_b.bodies(room) == ["before", "after"], message="carol on B")
    time.sleep(SETTLE_SECONDS)
    assert bob_on_b.bodies(room) == ["before"]
    leaves = [e for e in bob_on_b.received("room:member_leave") if e["user_id"] == bob.user_id]
    return leaves


def test_a_member_banned_through_a_stops_hearing_the_room_on_b_before_the_ban_returns(
    world: dict[str, Any],
) -> None:
    def ban(owner: Member, room: int, member: Member) -> None:
        owner.api.call("POST", f"/rooms/{room}/members/{member.user_id}/ban", 200)

    (leave,) = _removed_on_b_before_the_response(world, ban)
    assert leave["reason"] == "banned"


def test_a_member_removed_through_a_stops_hearing_the_room_on_b_before_the_removal_returns(
    world: dict[str, Any],
) -> None:
    def remove(owner: Member, room: int, member: Member) -> None:
        owner.api.call("DELETE", f"/rooms/{room}/members/{member.user_id}", 204)

    (leave,) = _removed_on_b_before_the_response(world, remove)
    assert leave["reason"] == "removed"


def test_a_banned_members_send_on_b_right_after_the_ban_is_refused(world: dict[str, Any]) -> None:
    alice, bob = world["member"]("alice"), world["member"]("bob")
    room = world["room_of"](alice, bob)
    bob_on_b = world["connect"](world["b"], bob)
    # B now keeps bob's right to post here (for 60 s, as this module's servers run).
    assert bob_on_b.call("message:send", {"room_id": room, "body": "allowed"})["ok"] is True
    alice.api.call("POST", f"/rooms/{room}/members/{bob.user_id}/ban", 200)
    refused = bob_on_b.call("message:send", {"room_id": room, "body": "too late"})
    assert refused["ok"] is False, refused
    assert [m["body"] for m in alice.api.history(room)] == ["allowed"]
    refused_rest = bob.api.http.post(
        f"{world['b'].url}/api/v1/rooms/{room}/messages", json={"body": "too late"}, timeout=10
    )
    assert refused_rest.status_code in (403, 404), refused_rest.text


def make_admin(server: LiveServer) -> Api:
    """An administrator made by the command line, which relays its change too."""
    username = f"root-{tag()}"
    made = subprocess.run(
        [BIN / "parley", "create-admin", "--username", username, "--password", ADMIN_PASSWORD],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    body = Api(server.url).call(
        "POST", "/auth/login", 200, json={"username": username, "password": ADMIN_PASSWORD}
    )
    return Api(server.url, body["token"])


def test_a_user_deactivated_through_a_is_disconnected_on_b(world: dict[str, Any]) -> None:
    admin = make_admin(world["a"])
    dave = world["member"]("dave")
    on_b = world["connect"](world["b"], dave)
    admin.call("PATCH", f"/users/{dave.user_id}", 200, json={"active": False})
    assert on_b.disconnected.wait(10), "dave's socket on B is still connected"
    admin.close()


def test_a_token_revoked_through_a_disconnects_its_socket_on_b(world: dict[str, Any]) -> None:
    dave = world["member"]("dave")
    token = dave.api.call("POST", "/auth/tokens", 201, json={"name": "bot"})
    with_token = world["connect"](world["b"], token["token"])
    with_login = world["connect"](world["b"], dave)
    dave.api.call("DELETE", f"/auth/tokens/{token['id']}", 204)
    assert with_token.disconnected.wait(10), "the revoked token's socket on B is connected"
    # Only that token's socket: the same user's other login stays.
    time.sleep(SETTLE_SECONDS)
    assert with_login.sio.connected


def test_a_password_changed_through_a_disconnects_the_other_logins_sockets_on_b(
    world: dict[str, Any],
) -> None:
    dave = world["member"]("dave")
    other_login = Api(world["a"].url).call(
        "POST", "/auth/login", 200, json={"username": dave.username, "password": "e2e-password-1"}
    )
    on_b = world["connect"](world["b"], other_login["token"])
    body = {"password": "a-whole-new-passphrase-71", "old_password": "e2e-password-1"}
    dave.api.call("PATCH", "/users/me", 200, json=body)
    assert on_b.disconnected.wait(10), "the other login's socket on B is still connected"


@pytest.mark.parametrize("path", ["banned", "token_revoked"])
def test_losing_the_right_through_a_ends_the_live_views_on_b_at_once(
    processes: tuple[LiveServer, LiveServer], path: str
) -> None:
    """The broadcast and both views (MJPEG and a socket watch) are on B; the change is
    made through A. No frame made after it reaches either view (but one in flight)."""
    a, b = processes
    owner, _ = Api.register(a.url, f"owner-{tag()}")
    room = owner.call("POST", "/rooms", 201, json={"name": f"studio-{tag()}", "kind": "private"})
    viewer = invited_viewer(a, owner, room["id"])
    owner_on_b = Api(b.url, token_of(owner))
    watching_on_b = Api(b.url, token_of(viewer.watching))
    with broadcasting(b, owner_on_b, room["id"]) as broadcaster:
        reader = MjpegReader(b, room["id"], token_of(viewer.watching))
        watch = watch_over_socket(b, watching_on_b, room["id"])
        try:
            assert_views_end(
                reader,
                watch,
                broadcaster,
                lambda: lose_right(path, a, owner, viewer, room["id"]),
            )
        finally:
            reader.close()
            close_socket(watch.sio)
    for api in (owner, owner_on_b, watching_on_b, viewer.api, viewer.watching):
        api.close()
