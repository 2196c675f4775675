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
import socket
import threading
import time
from collections import defaultdict
from typing import Any

import engineio
import socketio


def version(message: dict[str, Any]) -> int:
    return int(message.get("changed_seq") or message["seq"])


# The part of a message each change event carries, by event: the payload's key and the
# message's are the same.
CHANGE_PARTS = {
    "reaction:add": "reactions",
    "reaction:remove": "reactions",
    "message:pin": "pinned",
    "thread:update": "thread",
}


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
        # Reactions, pins and thread summaries handled before the message they change,
        # by room and id.
        self._early_changes: dict[tuple[int, int], list[tuple[str, dict[str, Any]]]] = defaultdict(
            list
        )
        # The version each part of a held message is at (see _apply), by room and id.
        self._versions: dict[tuple[int, int], dict[str, int]] = {}
        self.worker_error: BaseException | None = None
        self.sync_attempts = 0
        self.last_outcome = ""
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
        self.events: list[tuple[str, Any]] = []
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for name_ in ("message:new", "message:edit", "message:delete"):
            self.sio.on(name_, self._handler(name_))
        for name_ in ("reaction:add", "reaction:remove", "message:pin"):
            self.sio.on(name_, self._change_handler(name_))
        self.sio.on("thread:update", self._change_handler("thread:update"))
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
            other._versions.update({key: dict(v) for key, v in self._versions.items()})
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
        """Reactions, pins and thread summaries carry no message: applied to the copy held
        when newer, as docs/realtime.md says. python-engineio runs each handler on its own
        thread, so a change can be handled before the message:new sent ahead of it; it
        waits for that copy (a page, handling events in order, never sees this)."""
        part = CHANGE_PARTS[name]
        # thread:update names its message root_id.
        id_key = "root_id" if name == "thread:update" else "message_id"

        def handle(payload: dict[str, Any]) -> None:
            self.events.append((name, payload))
            with self.lock:
                key = (payload["room_id"], payload[id_key])
                current = self.messages[payload["room_id"]].get(payload[id_key])
                if current is None:
                    self._early_changes[key].append((part, payload))
                    return
                self._change(key, current, part, payload)

        return handle

    def _change(
        self, key: tuple[int, int], current: dict[str, Any], part: str, payload: dict[str, Any]
    ) -> None:
        versions = self._versions[key]
        if payload["seq"] <= versions[part]:
            return
        versions[part] = payload["seq"]
        current[part] = payload[part]

    def _apply(self, message: dict[str, Any]) -> None:
        """Each part of a message (its text, its reactions, whether pinned) is kept at the
        newest version seen of it: a whole message handled late (its handler ran after a
        newer reaction's) must not take back the reaction, nor the reaction the edit."""
        in_thread_only = message.get("thread_id") is not None and not message.get("also_to_room")
        if in_thread_only:
            replies = self.replies[message["room_id"]]
            held = replies.get(message["id"])
            if held is None or version(message) >= version(held):
                replies[message["id"]] = message
            return
        key = (message["room_id"], message["id"])
        room = self.messages[message["room_id"]]
        current = room.get(message["id"])
        seen = version(message)
        if current is None:
            room[message["id"]] = dict(message)
            self._versions[key] = dict.fromkeys(("text", *CHANGE_PARTS.values()), seen)
        else:
            versions = self._versions[key]
            merged = dict(current)
            if seen >= versions["text"]:
                versions["text"] = seen
                merged.update((k, v) for k, v in message.items() if k not in CHANGE_PARTS.values())
            for part in CHANGE_PARTS.values():
                if seen >= versions[part] and part in message:
                    versions[part] = seen
                    merged[part] = message[part]
            room[message["id"]] = merged
        early = self._early_changes.pop(key, [])
        for part, payload in sorted(early, key=lambda change: int(change[1]["seq"])):
            self._change(key, room[message["id"]], part, payload)

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
            self.sync_attempts += 1
            try:
                done = self._sync_once()
            except Exception as exc:  # the worker must outlive any one failed attempt
                self.worker_error = exc
                done = False
            if done:
                failures = 0
                continue
            failures += 1
            self._wake.set()  # dropped or timed out: try again once connected
            if failures >= 2 and self.sio.connected and not self._stopped:
                failures = 0
                try:
                    self._reconnect()
                except Exception as exc:  # noted for state(); the worker must live on
                    self.worker_error = exc

    def _reconnect(self) -> None:
        sock = getattr(getattr(self.sio.eio, "ws", None), "sock", None)
        if sock is not None and self.sio.reconnection:
            # A WebSocket is cut as a network would cut it, and python-socketio's own
            # reconnection takes over (its connect wakes this worker). A polite disconnect
            # would wait on the dead connection's read loop, blocked in recv for up to
            # the ping interval and timeout together (45 s): closing a socket does not
            # wake a recv on another thread, shutting it down does.
            self.last_outcome = "cut a connection that answered no sync"
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return
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
            except (socketio.exceptions.ConnectionError, ValueError):
                # ValueError: python-engineio's own reconnection is mid-connect.
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
                    self.worker_error = RuntimeError(f"sync answered {ack!r:.300}")
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
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError) as exc:
            self.last_outcome = f"sync failed: {exc!r}"
            return False
        with self.lock:
            if self.drops != drops:
                self.last_outcome = "the connection dropped during the sync"
                # The connection dropped while this sync ran: events may have been lost
                # after its read, so keep the resume point for the next sync.
                return False
            self._resume = None
            self.syncs += 1
            self.last_outcome = "synced"
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
            f"sync attempts={self.sync_attempts} worker alive={self._worker.is_alive()} "
            f"last error={self.worker_error!r} last outcome={self.last_outcome!r}"
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
