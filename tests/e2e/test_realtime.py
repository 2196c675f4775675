"""Real server, real python-socketio clients, over WebSocket and over long-polling."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from api_client import Api
from chaos import ChaosProxy
from chat_client import ChatClient
from servers import LiveServer

TRANSPORTS = [["websocket"], ["polling"]]


def wait_for(
    predicate: Callable[..., object], timeout: float = 10.0, message: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {message}")


@contextmanager
def chat_room(url: str) -> Iterator[dict[str, Any]]:
    """Alice and Bob, a room they are both in, and a way to connect them over a transport."""
    tag = uuid.uuid4().hex[:8]
    alice, alice_user = Api.register(url, f"alice-{tag}")
    bob, bob_user = Api.register(url, f"bob-{tag}")
    room = alice.call("POST", "/rooms", 201, json={"name": f"general-{tag}"})
    bob.call("POST", f"/rooms/{room['id']}/join", 201)
    clients: list[ChatClient] = []

    def connect(api: Api, transports: list[str]) -> ChatClient:
        client = ChatClient(url, api.http.headers["Authorization"][7:], transports)
        client.connect([room["id"]])
        clients.append(client)
        assert client.synced.wait(10)
        return client

    try:
        yield {
            "url": url,
            "alice": alice,
            "bob": bob,
            "room": room,
            "connect": connect,
            "ids": (alice_user["user"]["id"], bob_user["user"]["id"]),
        }
    finally:
        for client in clients:
            client.close()
        alice.close()
        bob.close()


@pytest.fixture
def chat(shared_server: LiveServer) -> Iterator[dict[str, Any]]:
    with chat_room(shared_server.url) as room:
        yield room


@pytest.mark.slow
@pytest.mark.parametrize("transports", TRANSPORTS, ids=lambda t: t[0])
def test_two_users_chat_both_ways(chat: dict[str, Any], transports: list[str]) -> None:
    room_id = chat["room"]["id"]
    alice = chat["connect"](chat["alice"], transports)
    bob = chat["connect"](chat["bob"], transports)
    assert alice.sio.transport() == transports[0]

    ack = alice.sio.call("message:send", {"room_id": room_id, "body": "hi bob", "client_id": "a1"})
    assert ack["ok"] and ack["created"]
    wait_for(lambda: ack["message"]["id"] in bob.messages[room_id], message="bob hears alice")
    reply = bob.sio.call("message:send", {"room_id": room_id, "body": "hi alice"})
    wait_for(lambda: reply["message"]["id"] in alice.messages[room_id], message="alice hears")

    again = alice.sio.call(
        "message:send", {"room_id": room_id, "body": "hi bob", "client_id": "a1"}
    )
    assert again["ok"] and not again["created"]
    assert again["message"]["id"] == ack["message"]["id"]
    assert alice.snapshot(room_id) == bob.snapshot(room_id)
    assert len(bob.snapshot(room_id)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("transports", TRANSPORTS, ids=lambda t: t[0])
def test_rest_post_edit_and_delete_reach_every_socket(
    chat: dict[str, Any], transports: list[str]
) -> None:
    room_id = chat["room"]["id"]
    alice = chat["connect"](chat["alice"], transports)
    bob = chat["connect"](chat["bob"], transports)

    posted = chat["alice"].call("POST", f"/rooms/{room_id}/messages", 201, json={"body": "rest"})
    for client in (alice, bob):
        wait_for(lambda c=client: posted["id"] in c.messages[room_id], message="REST post")
    new_events = [p for name, p in bob.events if name == "message:new"]
    # The sender's answer adds who was named and not told; the event is the message.
    assert new_events[-1]["message"] == {k: v for k, v in posted.items() if k != "not_notified"}

    edited = chat["alice"].call(
        "PATCH", f"/messages/{posted['id']}", 200, json={"body": "rest, edited"}
    )
    for client in (alice, bob):
        wait_for(
            lambda c=client: c.messages[room_id][posted["id"]]["body"] == "rest, edited",
            message="edit",
        )
    assert edited["changed_seq"] == posted["seq"] + 1

    deleted = bob.sio.call("message:delete", {"message_id": posted["id"]})
    assert deleted["ok"] is False and deleted["error"]["code"] == "not_the_author"
    deleted = alice.sio.call("message:delete", {"message_id": posted["id"]})
    assert deleted["ok"]
    for client in (alice, bob):
        wait_for(lambda c=client: c.messages[room_id][posted["id"]]["deleted"], message="delete")
    assert alice.snapshot(room_id) == bob.snapshot(room_id) == {posted["id"]: ("", True)}


@pytest.mark.slow
def test_presence_stays_online_while_one_tab_is_open(chat: dict[str, Any]) -> None:
    alice_id, bob_id = chat["ids"]
    watcher = chat["connect"](chat["alice"], ["websocket"])
    tab_one = chat["connect"](chat["bob"], ["websocket"])
    tab_two = chat["connect"](chat["bob"], ["polling"])

    def bob_presence() -> list[str]:
        return [
            d["status"] for n, d in watcher.events if n == "presence" and d["user_id"] == bob_id
        ]

    wait_for(lambda: bob_presence() == ["online"], message="bob online once")
    tab_one.close()
    time.sleep(2.0)  # twice the grace period
    assert bob_presence() == ["online"]
    sync = watcher.sio.call("sync", {"rooms": {}})
    assert bob_id in sync["online"] and alice_id in sync["online"]

    tab_two.close()
    wait_for(lambda: bob_presence() == ["online", "offline"], timeout=5, message="offline")
    assert bob_id not in watcher.sio.call("sync", {"rooms": {}})["online"]


@pytest.mark.slow
def test_a_reload_within_the_grace_period_does_not_flap(
    chat: dict[str, Any], shared_server: LiveServer
) -> None:
    _, bob_id = chat["ids"]
    watcher = chat["connect"](chat["alice"], ["websocket"])
    port = int(shared_server.url.rsplit(":", 1)[1])
    proxy = ChaosProxy(port)
    token = chat["bob"].http.headers["Authorization"][7:]
    tab = ChatClient(proxy.url, token, ["websocket"], reconnection=False)
    try:
        tab.connect([chat["room"]["id"]])
        assert tab.synced.wait(10)
        proxy.cut()  # the tab is closed: its connection just goes away
        chat["connect"](chat["bob"], ["websocket"])
        time.sleep(1.5)
    finally:
        proxy.close()
    statuses = [
        d["status"] for n, d in watcher.events if n == "presence" and d["user_id"] == bob_id
    ]
    assert statuses == ["online"]


def sends_without_waiting_are_acked_and_stored_in_order(
    chat: dict[str, Any], transports: list[str]
) -> None:
    """Alice sends a burst without waiting for acks while Bob sends too: every send is
    acknowledged, as created, with ids in the order sent, and stored in that order."""
    room_id = chat["room"]["id"]
    alice = chat["connect"](chat["alice"], transports)
    bob = chat["connect"](chat["bob"], transports)
    # Over long-polling the client posts its queued sends together, and the server's
    # answers come back over several polls (parley.realtime.polling).
    count = 40
    acks: dict[int, dict[str, Any]] = {}
    for n in range(count):
        alice.sio.emit(
            "message:send",
            {"room_id": room_id, "body": f"burst {n}", "client_id": f"burst-{n}"},
            callback=lambda ack, n=n: acks.__setitem__(n, ack),
        )
    # Bob keeps typing meanwhile, so alice's sends share commits with others'.
    for n in range(4):
        bob.sio.emit("message:send", {"room_id": room_id, "body": f"bob {n}"})
    try:
        wait_for(lambda: len(acks) == count, message="every ack")
    except AssertionError as missing:
        missing.add_note(f"acked {sorted(acks)}; alice{alice.state()}; bob{bob.state()}")
        raise
    assert all(ack["ok"] and ack["created"] for ack in acks.values())
    ids = [acks[n]["message"]["id"] for n in range(count)]
    assert ids == sorted(ids)
    history = chat["alice"].call("GET", f"/rooms/{room_id}/messages?limit=100", 200)
    bursts = [m["body"] for m in history["messages"] if m["body"].startswith("burst")]
    assert bursts == [f"burst {n}" for n in range(count)]


@pytest.mark.slow
@pytest.mark.parametrize("transports", TRANSPORTS, ids=lambda t: t[0])
def test_messages_sent_without_waiting_for_acks_are_stored_in_the_order_sent(
    chat: dict[str, Any], transports: list[str]
) -> None:
    sends_without_waiting_are_acked_and_stored_in_order(chat, transports)
