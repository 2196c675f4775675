"""A python-socketio client that keeps rooms the way docs/realtime.md tells clients to.

It applies events idempotently by message id (the newest version wins), keeps replies
sent only to their thread out of the timeline (held apart, as a thread panel would), and
applies `thread:update` to the root it holds; on every
(re)connect it calls `sync` from the last message id it had before the connection
dropped, repeating while `more` says so. Tests compare what it ends with to the server.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import threading
import time
from collections import defaultdict
from typing import Any

import engineio
import socketio


def version(message: dict[str, Any]) -> int:
    return int(message.get("changed_seq") or message["seq"])


class WireOrderEngineIO(engineio.Client):  # type: ignore[misc]  # python-engineio: no type hints
    """Notes the ids of message:new packets in the order they come off the wire.

    python-engineio hands each message to its handler on a new thread, so handlers may
    run out of order; the order the server sent is seen here, in the read loop.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wire_ids: list[list[int]] = []

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        self.wire_ids.append([])
        return super().connect(*args, **kwargs)

    def _receive_packet(self, pkt: Any) -> None:
        data = pkt.data
        if isinstance(data, str) and data.startswith('2["message:new"'):
            self.wire_ids[-1].append(json.loads(data[1:])[1]["message"]["id"])
        super()._receive_packet(pkt)


class WireOrderClient(socketio.Client):  # type: ignore[misc]  # python-socketio: no type hints
    def _engineio_client_class(self) -> type[engineio.Client]:
        return WireOrderEngineIO


class ChatClient:
    def __init__(
        self,
        url: str,
        token: str,
        transports: list[str],
        name: str = "",
        reconnection: bool = True,
    ) -> None:
        self.url = url
        self.token = token
        self.transports = transports
        self.name = name
        self.sio = WireOrderClient(
            reconnection=reconnection,
            reconnection_attempts=0,
            reconnection_delay=0.05,
            reconnection_delay_max=0.5,
            randomization_factor=0.3,
        )
        self.lock = threading.Lock()
        self.messages: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        # Replies kept to their thread, by room: what came as events, never synced.
        self.replies: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        # Changes handled before the message they change, by (room, message id).
        self._early: dict[tuple[int, int], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        # Where to sync from after a drop: the ids held when the connection was lost,
        # kept until a sync completes (events after reconnecting can run ahead of it).
        self._resume: dict[int, int] | None = None
        self.rooms: set[int] = set()
        self.connects = 0
        self.drops = 0
        self.syncs = 0
        self.synced = threading.Event()
        self._wake = threading.Event()
        self._stopped = False
        self._worker = threading.Thread(target=self._sync_worker, daemon=True)
        # Why the latest sync failed, for a test's message.
        self.sync_failure: str | None = None
        self.events: list[tuple[str, Any]] = []
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for name_ in ("message:new", "message:edit", "message:delete"):
            self.sio.on(name_, self._handler(name_))
        for name_ in ("reaction:add", "reaction:remove", "message:pin"):
            self.sio.on(name_, self._change_handler(name_))
        self.sio.on("thread:update", self._thread_handler)
        self.sio.on("*", lambda event, data=None: self.events.append((event, data)))

    def connect(self, rooms: list[int]) -> None:
        self.rooms.update(rooms)
        self._worker.start()
        self.sio.connect(
            self.url, auth={"token": self.token}, transports=self.transports, wait_timeout=10
        )

    def close(self) -> None:
        self._stopped = True
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            # websocket-client waits up to 3 s for a close frame that its own read loop
            # may already have taken (the server closes first); do not wait on that race.
            ws.close = functools.partial(ws.close, timeout=0.2)
        self.sio.disconnect()
        http = getattr(self.sio.eio, "http", None)
        if http is not None:
            http.close()  # the polling transport's requests session
        if self._worker.is_alive():
            self._worker.join(timeout=5)

    def catch_up(self, last_ids: dict[int, int]) -> None:
        """Sync again from `last_ids`, as a client does when an event's seq skips numbers
        (docs/realtime.md): what did not reach it comes back; `synced` is set once done."""
        with self.lock:
            self._resume = dict(last_ids)
        self.synced.clear()
        self._wake.set()

    def moved_to(self, url: str) -> ChatClient:
        """A client of the same user at another address, holding what this one holds and
        syncing from where this one's connection dropped: a page whose server went away,
        opened again through the balancer. Not connected yet."""
        other = ChatClient(url, self.token, self.transports, self.name)
        with self.lock:
            other.messages.update({room: dict(held) for room, held in self.messages.items()})
            resume = self._resume
        other._resume = dict(resume) if resume is not None else self.last_ids()
        return other

    def _handler(self, name: str) -> Any:
        def handle(payload: dict[str, Any]) -> None:
            self.events.append((name, payload))
            message = payload["message"]
            with self.lock:
                self._apply(message)

        return handle

    def _change_handler(self, name: str) -> Any:
        def handle(payload: dict[str, Any]) -> None:
            self.events.append((name, payload))
            with self.lock:
                self._change(name, payload["room_id"], payload["message_id"], payload)

        return handle

    def _thread_handler(self, payload: dict[str, Any]) -> None:
        """A root's new thread summary, applied like a reaction."""
        self.events.append(("thread:update", payload))
        with self.lock:
            self._change("thread:update", payload["room_id"], payload["root_id"], payload)

    def _change(self, name: str, room_id: int, message_id: int, payload: dict[str, Any]) -> None:
        """Reactions, pins and thread summaries carry no message: applied to the copy held
        when newer, as docs/realtime.md says. One for a message not held yet is kept for
        it: python-socketio runs each event's handler on a thread of its own, so a change
        can be handled before the message:new the server sent ahead of it (a message that
        never comes live comes whole with the next sync)."""
        current = self.messages[room_id].get(message_id)
        if current is None:
            self._early[(room_id, message_id)].append((name, payload))
            return
        if payload["seq"] <= version(current):
            return
        changed = dict(current, changed_seq=payload["seq"])
        if name == "message:pin":
            changed["pinned"] = payload["pinned"]
        elif name == "thread:update":
            changed["thread"] = payload["thread"]
        else:
            changed["reactions"] = payload["reactions"]
        self.messages[room_id][message_id] = changed

    def _apply(self, message: dict[str, Any]) -> None:
        in_thread_only = message.get("thread_id") is not None and not message.get("also_to_room")
        held = self.replies if in_thread_only else self.messages
        room = held[message["room_id"]]
        current = room.get(message["id"])
        if current is None or version(message) >= version(current):
            room[message["id"]] = message
        if in_thread_only:
            return
        early = self._early.pop((message["room_id"], message["id"]), [])
        for name, payload in sorted(early, key=lambda change: int(change[1]["seq"])):
            self._change(name, message["room_id"], message["id"], payload)

    def last_ids(self) -> dict[int, int]:
        with self.lock:
            return {room: max(self.messages[room], default=0) for room in self.rooms}

    def _on_connect(self) -> None:
        self.connects += 1
        self._wake.set()

    def _on_disconnect(self, *_reason: Any) -> None:
        self.synced.clear()
        ids = self.last_ids()
        with self.lock:
            self.drops += 1
            if self._resume is None:
                self._resume = ids

    def _sync_worker(self) -> None:
        """Runs a sync after every (re)connect, retrying until one completes.

        A connection that says it is up but answers no sync twice in a row is treated as
        dead (a long-poll transport can lose one of its two halves): drop it and
        connect again, as docs/realtime.md advises.
        """
        failures = 0
        while not self._stopped:
            self._wake.wait(0.5)
            if self._stopped:
                return
            if not self._wake.is_set() or not self.sio.connected:
                continue
            self._wake.clear()
            try:
                done = self._sync_once()
            except Exception as exc:  # the worker must outlive any one failed attempt
                self.sync_failure = repr(exc)
                done = False
            if done:
                failures = 0
                continue
            failures += 1
            self._wake.set()  # dropped or timed out: try again once connected
            if failures >= 2 and self.sio.connected and not self._stopped:
                failures = 0
                self._reconnect()

    def _reconnect(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()
        while not self._stopped and not self.sio.connected:
            try:
                self.sio.connect(
                    self.url,
                    auth={"token": self.token},
                    transports=self.transports,
                    wait_timeout=10,
                )
            except socketio.exceptions.ConnectionError:
                time.sleep(0.2)

    def _sync_once(self) -> bool:
        with self.lock:
            resume = dict(self._resume) if self._resume is not None else None
            drops = self.drops
        if resume is None:
            resume = self.last_ids()
        try:
            while True:
                ack = self.sio.call(
                    "sync",
                    {"rooms": {str(r): i for r, i in resume.items()}, "limit": 100},
                    timeout=5,
                )
                if not ack or not ack.get("ok"):
                    self.sync_failure = repr(ack)[:300]
                    return False
                with self.lock:
                    for room, found in ack["messages"].items():
                        for message in found:
                            self._apply(message)
                        if found:
                            resume[int(room)] = found[-1]["id"]
                    for message in ack["changes"]:
                        self._apply(message)
                    if self._resume is not None:
                        self._resume = dict(resume)
                if not any(ack["more"].values()):
                    break
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            return False
        with self.lock:
            if self.drops != drops:
                # The connection dropped while this sync ran: events may have been lost
                # after its read, so keep the resume point for the next sync.
                return False
            self._resume = None
            self.syncs += 1
        self.synced.set()
        return True

    @property
    def out_of_order(self) -> list[tuple[int, int]]:
        """Pairs of message:new ids that came off one connection in falling order."""
        found: list[tuple[int, int]] = []
        for ids in self.sio.eio.wire_ids:
            found.extend((a, b) for a, b in itertools.pairwise(ids) if b <= a)
        return found

    def state(self) -> str:
        return (
            f"{self.name}: connected={self.sio.connected} "
            f"transport={self.sio.transport() if self.sio.connected else None} "
            f"connects={self.connects} syncs={self.syncs} resume={self._resume} "
            f"worker_alive={self._worker.is_alive()} sync_failure={self.sync_failure}"
        )

    def snapshot(self, room_id: int) -> dict[int, tuple[str, bool]]:
        with self.lock:
            return {
                message_id: (message["body"], message["deleted"])
                for message_id, message in sorted(self.messages[room_id].items())
            }

    def full_snapshot(self, room_id: int) -> dict[int, Snapshot]:
        """Bodies, deletes, reactions, pins and thread summaries."""
        with self.lock:
            return {
                message_id: snapshot_of(message)
                for message_id, message in sorted(self.messages[room_id].items())
            }


# What a client shows of a message: its body, whether deleted, its reactions (emoji and
# who, in order), whether pinned, and its thread's summary (reply count, last reply time,
# who replied) when it has replies.
ThreadShown = tuple[int, str, tuple[int, ...]] | None
Snapshot = tuple[str, bool, tuple[tuple[str, tuple[int, ...]], ...], bool, ThreadShown]


def snapshot_of(message: dict[str, Any]) -> Snapshot:
    reactions = tuple((r["emoji"], tuple(r["user_ids"])) for r in message.get("reactions", []))
    thread = message.get("thread")
    shown: ThreadShown = None
    if thread is not None:
        shown = (
            thread["reply_count"],
            thread["last_reply_at"],
            tuple(thread["participant_ids"]),
        )
    return (
        message["body"],
        message["deleted"],
        reactions,
        bool(message.get("pinned")),
        shown,
    )
