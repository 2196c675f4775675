"""Lossless reconnect: listeners whose transports are killed at random moments end with
exactly the committed messages, in id order, with every edit, delete, reaction and pin
applied, and every thread summary as the server has it (replies come and go meanwhile).

Seeds are fixed (PARLEY_CHAOS_SEEDS overrides them, to run many in a row).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from api_client import Api
from chaos import ChaosProxy
from chat_client import ChatClient, snapshot_of
from servers import LiveServer

SEEDS = [int(s) for s in os.environ.get("PARLEY_CHAOS_SEEDS", "7,42").split(",")]
LISTENERS = 5
REST_SENDERS = 2
SOCKET_SENDERS = 1
MESSAGES_EACH = 170  # 3 senders: 510 messages


def server_port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


EMOJI = ("👍", "🎉", "👀")


# Sends a reply: (thread_id, body, client_id, also_to_room) -> its id.
Reply = Callable[[int, str, str, bool], int]


class Sender(threading.Thread):
    """Posts messages and now and then edits or deletes one of its own, reacts to one or
    takes a reaction back, and (a moderator) pins or unpins one; besides, replies in the
    thread of one of its messages (some replies also to the room) and deletes some of
    its replies, so thread summaries change all along."""

    def __init__(
        self,
        name: str,
        rng: random.Random,
        post: Callable[[str, str], int],
        edit: Callable[[int, str], None],
        delete: Callable[[int], None],
        react: Callable[[int, str, bool], None] | None,
        pin: Callable[[int, bool], None] | None = None,
        reply: Reply | None = None,
    ) -> None:
        super().__init__(daemon=True, name=name)
        self.rng = rng
        self.post, self.edit, self.delete = post, edit, delete
        self.react, self.pin, self.reply = react, pin, reply
        self.error: BaseException | None = None
        # Replies also sent to the room: they are in its timeline too.
        self.shown_replies = 0

    def _thread_step(self, n: int, mine: list[int], replies: list[int]) -> None:
        if self.reply is None or not mine or self.rng.random() >= 0.3:
            return
        if replies and self.rng.random() < 0.2:
            self.delete(replies.pop(self.rng.randrange(len(replies))))
            return
        shown = self.rng.random() < 0.2
        root = self.rng.choice(mine)
        body = f"{self.name} replies {n}"
        replies.append(self.reply(root, body, f"{self.name}-r{n}", shown))
        self.shown_replies += shown

    def run(self) -> None:
        try:
            mine: list[int] = []
            replies: list[int] = []
            for n in range(MESSAGES_EACH):
                mine.append(self.post(f"{self.name} says {n}", f"{self.name}-{n}"))
                self._thread_step(n, mine, replies)
                roll = self.rng.random()
                if roll < 0.12:
                    self.edit(self.rng.choice(mine), f"{self.name} edited at {n}")
                elif roll < 0.20:
                    self.delete(mine.pop(self.rng.randrange(len(mine))))
                elif roll < 0.40 and self.react is not None:
                    on = self.rng.random() < 0.7
                    self.react(self.rng.choice(mine), self.rng.choice(EMOJI), on)
                elif roll < 0.48 and self.pin is not None:
                    self.pin(self.rng.choice(mine), self.rng.random() < 0.7)
                if not mine:
                    continue
        except BaseException as exc:  # reported by the test
            self.error = exc


def rest_sender(
    name: str,
    api: Api,
    room_id: int,
    rng: random.Random,
    *,
    pins: bool = False,
) -> Sender:
    def post(body: str, client_id: str) -> int:
        message_id: int = api.call(
            "POST", f"/rooms/{room_id}/messages", 201, json={"body": body, "client_id": client_id}
        )["id"]
        return message_id

    def edit(message_id: int, body: str) -> None:
        api.call("PATCH", f"/messages/{message_id}", 200, json={"body": body})

    def delete(message_id: int) -> None:
        api.call("DELETE", f"/messages/{message_id}", 200)

    def react(message_id: int, emoji: str, on: bool) -> None:
        api.call("PUT" if on else "DELETE", f"/messages/{message_id}/reactions/{emoji}", 200)

    def pin(message_id: int, on: bool) -> None:
        api.call("PUT" if on else "DELETE", f"/messages/{message_id}/pin", 200)

    def reply(thread_id: int, body: str, client_id: str, also_to_room: bool) -> int:
        sent = {
            "body": body,
            "client_id": client_id,
            "thread_id": thread_id,
            "also_to_room": also_to_room,
        }
        message_id: int = api.call("POST", f"/rooms/{room_id}/messages", 201, json=sent)["id"]
        return message_id

    return Sender(
        name,
        rng,
        post,
        edit,
        delete,
        react,
        pin if pins else None,
        reply,
    )


def socket_sender(name: str, client: ChatClient, room_id: int, rng: random.Random) -> Sender:
    def call(event: str, data: dict[str, Any]) -> dict[str, Any]:
        ack: dict[str, Any] = client.sio.call(event, data, timeout=15)
        assert ack["ok"], ack
        return ack

    def post(body: str, client_id: str) -> int:
        ack = call("message:send", {"room_id": room_id, "body": body, "client_id": client_id})
        message_id: int = ack["message"]["id"]
        return message_id

    def edit(message_id: int, body: str) -> None:
        call("message:edit", {"message_id": message_id, "body": body})

    def delete(message_id: int) -> None:
        call("message:delete", {"message_id": message_id})

    def react(message_id: int, emoji: str, on: bool) -> None:
        call(
            "reaction:add" if on else "reaction:remove", {"message_id": message_id, "emoji": emoji}
        )

    def reply(thread_id: int, body: str, client_id: str, also_to_room: bool) -> int:
        sent = {
            "room_id": room_id,
            "body": body,
            "client_id": client_id,
            "thread_id": thread_id,
            "also_to_room": also_to_room,
        }
        message_id: int = call("message:send", sent)["message"]["id"]
        return message_id

    return Sender(name, rng, post, edit, delete, react, reply=reply)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_listeners_cut_at_random_end_with_exactly_the_committed_messages(
    shared_server: LiveServer, seed: int
) -> None:
    rng = random.Random(seed)
    url = shared_server.url
    tag = uuid.uuid4().hex[:6]
    owner, _ = Api.register(url, f"owner-{tag}")
    room_id = owner.call("POST", "/rooms", 201, json={"name": f"chaos-{tag}"})["id"]

    user_ids: dict[Api, int] = {}

    def member(name: str) -> Api:
        api, registered = Api.register(url, f"{name}-{tag}")
        api.call("POST", f"/rooms/{room_id}/join", 201)
        user_ids[api] = registered["user"]["id"]
        return api

    proxies: list[ChaosProxy] = []
    listeners: list[ChatClient] = []
    apis: list[Api] = [owner]
    socket_clients: list[ChatClient] = []
    try:
        for index in range(LISTENERS):
            api = member(f"listener{index}")
            apis.append(api)
            proxy = ChaosProxy(server_port(url))
            proxies.append(proxy)
            # WebSocket only: python-engineio's long-polling client can lose one of its two
            # HTTP halves to a reset and stay "connected" without either working, which
            # tests that client, not the server (tests/e2e/test_realtime.py covers polling).
            transports = ["websocket"]
            client = ChatClient(
                proxy.url,
                api.http.headers["Authorization"][7:],
                transports,
                name=f"listener{index}",
            )
            client.connect([room_id])
            assert client.synced.wait(10)
            listeners.append(client)

        senders = []
        for index in range(REST_SENDERS):
            api = member(f"rest{index}")
            apis.append(api)
            moderator = index == 0
            if moderator:
                owner.call(
                    "PATCH",
                    f"/rooms/{room_id}/members/{user_ids[api]}",
                    200,
                    json={"role": "moderator"},
                )
            senders.append(
                rest_sender(
                    f"rest{index}",
                    api,
                    room_id,
                    random.Random(rng.random()),
                    pins=moderator,
                )
            )
        for index in range(SOCKET_SENDERS):
            api = member(f"sock{index}")
            apis.append(api)
            client = ChatClient(url, api.http.headers["Authorization"][7:], ["websocket"])
            client.connect([room_id])
            socket_clients.append(client)
            senders.append(
                socket_sender(f"sock{index}", client, room_id, random.Random(rng.random()))
            )

        for sender in senders:
            sender.start()
        while any(sender.is_alive() for sender in senders):
            time.sleep(rng.uniform(0.05, 0.4))
            rng.choice(proxies).cut()
        for sender in senders:
            sender.join()
            assert sender.error is None, repr(sender.error)

        truth = {m["id"]: snapshot_of(m) for m in owner.history(room_id)}
        shown_replies = sum(sender.shown_replies for sender in senders)
        assert len(truth) == MESSAGES_EACH * (REST_SENDERS + SOCKET_SENDERS) + shown_replies
        assert any(m[4] is not None for m in truth.values()), "no thread summary to compare"
        deadline = time.monotonic() + 90
        pending = list(listeners)
        while pending and time.monotonic() < deadline:
            pending = [c for c in pending if c.full_snapshot(room_id) != truth]
            time.sleep(0.1)
        for client in listeners:
            assert client.full_snapshot(room_id) == truth, (
                f"{len(client.full_snapshot(room_id))} of {len(truth)} messages; {client.state()}; "
                f"ids that came off one connection in falling order: {client.out_of_order}"
            )
            assert client.out_of_order == [], client.out_of_order
            assert list(client.snapshot(room_id)) == sorted(truth)
        assert sum(proxy.cuts for proxy in proxies) >= 5
        assert sum(client.connects for client in listeners) > LISTENERS
    finally:
        for client in listeners + socket_clients:
            client.close()
        for proxy in proxies:
            proxy.close()
        for api in apis:
            api.close()
