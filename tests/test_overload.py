"""Predictable overload: new messages wait in a bounded queue for their commit. A send
that finds it full, or that waited past its deadline before its batch began, is answered
at once as overloaded (REST 503 with Retry-After, an error ack on Socket.IO) and nothing
of it is stored; a resend with its client_id then tells the client which sends were."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_socketio import SocketIOTestClient

from parley.api import PREFIX
from parley.config import ConfigError, load_config
from parley.errors import Overloaded
from parley.extensions import db, socketio
from parley.models import Message
from parley.realtime.arrivals import TimedInput, arrived_at, arriving
from parley.store.message_writer import MessageWriter
from parley.store.send_queue import MIN_RETRY_SECONDS, SendQueue, Ticket
from parley.store.sequence import room_lock
from support import Member, assert_error, close_test_sockets, make_room, run_under_gevent

SENDS = 12
QUEUE_LIMIT = 3


def tiny_writer(app: Flask, monkeypatch: pytest.MonkeyPatch, **sizes: Any) -> MessageWriter:
    writer = MessageWriter(**sizes)
    monkeypatch.setitem(app.extensions, "parley.message_writer", writer)
    return writer


@pytest.fixture
def held_room(alice: Member) -> Iterator[tuple[dict[str, Any], threading.Lock]]:
    """A room whose order lock is held, as an edit in progress holds it: the batch being
    written waits, and the sends behind it queue up."""
    room = make_room(alice, "busy")
    lock = room_lock(room["id"])
    lock.acquire()
    try:
        yield room, lock
    finally:
        if lock.locked():
            lock.release()


def stored_client_ids(app: Flask, room_id: int) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Message.client_id, Message.id).where(Message.room_id == room_id)
        ).all()
        db.session.remove()
    stored: dict[str, int] = {}
    for client_id, message_id in rows:
        assert client_id is not None, message_id  # every message here is sent with one
        stored[client_id] = message_id
    return stored


def all_at_once(jobs: list[Callable[[], Any]], timeout: float = 30) -> list[Any]:
    """Each job on its own thread, released together; every job must end in time."""
    results: list[Any] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(index: int) -> None:
        start.wait()
        results[index] = jobs[index]()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not [t for t in threads if t.is_alive()], "a send was left hanging"
    return results


class Release:
    """Releases the held room after `seconds`, noting when: a send answered before then
    was answered at once, not when the room came free."""

    def __init__(self, lock: threading.Lock, seconds: float) -> None:
        self.at = float("inf")
        self._lock = lock
        self._timer = threading.Timer(seconds, self._release)
        self._timer.start()

    def _release(self) -> None:
        self.at = time.monotonic()
        self._lock.release()

    def join(self) -> None:
        self._timer.join()


def rest_sender(app: Flask, member: Member, room_id: int, client_id: str) -> Callable[[], Any]:
    def send() -> tuple[int, dict[str, Any], dict[str, str], float]:
        client = app.test_client()  # one per thread: a test client keeps per-request state
        response = client.post(
            f"{PREFIX}/rooms/{room_id}/messages",
            json={"body": f"hello {client_id}", "client_id": client_id},
            headers=member.headers,
        )
        return (
            response.status_code,
            response.get_json(),
            dict(response.headers),
            time.monotonic(),
        )

    return send


def test_rest_sends_beyond_the_queue_are_refused_at_once_and_stored_by_none(
    app: Flask,
    alice: Member,
    held_room: tuple[dict[str, Any], threading.Lock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room, lock = held_room
    writer = tiny_writer(app, monkeypatch, queue_limit=QUEUE_LIMIT, queue_seconds=30)
    client_ids = [f"rest-{i}" for i in range(SENDS)]
    release = Release(lock, 1.5)
    results = all_at_once([rest_sender(app, alice, room["id"], c) for c in client_ids])
    release.join()

    refused = [r for r in results if r[0] == 503]
    accepted = [r for r in results if r[0] == 201]
    # Every send was answered: stored, or refused. Beside the batch under way (the
    # sends queued when it began), the queue held three; the rest were refused while
    # the room was still held, not after.
    assert len(refused) + len(accepted) == SENDS, [r[0] for r in results]
    assert refused and writer.queue.refused == len(refused)
    assert writer.written == len(accepted)
    for _, body, headers, answered_at in refused:
        assert answered_at < release.at
        assert body["error"]["code"] == "overloaded"
        assert set(body["error"]) == {"code", "message", "details"}
        retry_after = body["error"]["details"]["retry_after"]
        assert retry_after > 0
        assert int(headers["Retry-After"]) >= 1
    stored = stored_client_ids(app, room["id"])
    assert sorted(stored) == sorted(body["client_id"] for _, body, _, _ in accepted)
    for _, body, _, _ in accepted:
        assert stored[body["client_id"]] == body["id"]

    # Resending every one with its client_id tells the client which were stored.
    for client_id in client_ids:
        again = alice.post(
            f"{PREFIX}/rooms/{room['id']}/messages",
            json={"body": f"hello {client_id}", "client_id": client_id},
        )
        if client_id in stored:
            assert again.status_code == 200, again.get_json()
            assert again.get_json()["id"] == stored[client_id]
        else:
            assert again.status_code == 201, again.get_json()
    assert len(stored_client_ids(app, room["id"])) == SENDS


@pytest.fixture
def sockets(
    app: Flask, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[SocketIOTestClient]]:
    """A socket of alice's for each send, closed at the end; her going offline is announced
    before the next test (a short presence grace)."""
    monkeypatch.setitem(app.config, "PARLEY_PRESENCE_GRACE_SECONDS", 0.05)
    opened = [socketio.test_client(app, auth={"token": alice.token}) for _ in range(SENDS)]
    gone = threading.Event()

    def offline(event: Any) -> None:
        if event.type == "presence" and event.payload["status"] == "offline":
            gone.set()

    unsubscribe = app.extensions["parley.bus"].subscribe(offline)
    try:
        yield opened
    finally:
        close_test_sockets(opened)
        gone.wait(5)
        unsubscribe()


def socket_sender(client: SocketIOTestClient, room_id: int, client_id: str) -> Callable[[], Any]:
    def send() -> tuple[dict[str, Any], float]:
        ack = client.emit(
            "message:send",
            {"room_id": room_id, "body": f"hello {client_id}", "client_id": client_id},
            callback=True,
        )
        return ack, time.monotonic()

    return send


def test_socket_sends_beyond_the_queue_get_an_overloaded_ack_and_are_stored_by_none(
    app: Flask,
    alice: Member,
    held_room: tuple[dict[str, Any], threading.Lock],
    monkeypatch: pytest.MonkeyPatch,
    sockets: list[SocketIOTestClient],
) -> None:
    room, lock = held_room
    writer = tiny_writer(app, monkeypatch, queue_limit=QUEUE_LIMIT, queue_seconds=30)
    client_ids = [f"sock-{i}" for i in range(SENDS)]
    jobs = [
        socket_sender(socket, room["id"], c) for socket, c in zip(sockets, client_ids, strict=True)
    ]
    release = Release(lock, 1.5)
    results = all_at_once(jobs)
    release.join()

    refused = [(ack, s) for ack, s in results if not ack["ok"]]
    accepted = [ack for ack, _ in results if ack["ok"]]
    assert len(refused) + len(accepted) == SENDS
    assert refused and writer.queue.refused == len(refused)
    assert writer.written == len(accepted)
    for ack, answered_at in refused:
        assert answered_at < release.at
        assert ack["error"]["code"] == "overloaded", ack
        assert ack["error"]["details"]["retry_after"] > 0
    stored = stored_client_ids(app, room["id"])
    assert sorted(stored) == sorted(ack["message"]["client_id"] for ack in accepted)

    socket = sockets[0]
    for client_id in client_ids:
        again = socket.emit(
            "message:send",
            {"room_id": room["id"], "body": f"hello {client_id}", "client_id": client_id},
            callback=True,
        )
        assert again["ok"], again
        assert again["created"] is (client_id not in stored)
        if client_id in stored:
            assert again["message"]["id"] == stored[client_id]
    assert len(stored_client_ids(app, room["id"])) == SENDS


def test_a_send_queued_past_its_deadline_is_refused_before_its_batch_begins(
    app: Flask,
    alice: Member,
    held_room: tuple[dict[str, Any], threading.Lock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room, lock = held_room
    writer = tiny_writer(app, monkeypatch, queue_limit=100, queue_seconds=0.3)
    release = Release(lock, 2.0)
    first: list[Any] = []
    leader = threading.Thread(
        target=lambda: first.append(rest_sender(app, alice, room["id"], "first")())
    )
    leader.start()
    time.sleep(0.3)  # its batch has begun and waits for the room
    late = all_at_once([rest_sender(app, alice, room["id"], f"late-{i}") for i in range(5)])
    leader.join(10)
    release.join()

    # The batch under way is written; every send queued behind it waited past the
    # deadline and was refused then, long before the room was free.
    assert first[0][0] == 201
    for status, body, _, answered_at in late:
        assert status == 503, body
        assert body["error"]["code"] == "overloaded"
        assert answered_at < release.at
    assert writer.queue.refused == 5
    assert list(stored_client_ids(app, room["id"])) == ["first"]


def test_the_openapi_document_lists_the_503_and_its_retry_after(client: Any) -> None:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    send = document["paths"][f"{PREFIX}/rooms/{{room_id}}/messages"]["post"]
    answer = send["responses"]["503"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_the_queue_limits_come_from_the_environment(tmp_path: Any) -> None:
    defaults = load_config("testing", str(tmp_path), environ={})
    assert defaults["PARLEY_SEND_QUEUE_LIMIT"] >= 1
    assert defaults["PARLEY_SEND_QUEUE_SECONDS"] > 0
    settings = load_config(
        "testing",
        str(tmp_path),
        environ={"PARLEY_SEND_QUEUE_LIMIT": "7", "PARLEY_SEND_QUEUE_SECONDS": "0.5"},
    )
    assert (settings["PARLEY_SEND_QUEUE_LIMIT"], settings["PARLEY_SEND_QUEUE_SECONDS"]) == (7, 0.5)
    writer = MessageWriter.from_config(settings)
    assert (writer.queue.limit, writer.queue.deadline_seconds) == (7, 0.5)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PARLEY_SEND_QUEUE_LIMIT", "0"),
        ("PARLEY_SEND_QUEUE_LIMIT", "lots"),
        ("PARLEY_SEND_QUEUE_SECONDS", "0"),
        ("PARLEY_SEND_QUEUE_SECONDS", "-1"),
    ],
)
def test_a_queue_limit_that_cannot_work_is_a_config_error(
    tmp_path: Any, name: str, raw: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config("testing", str(tmp_path), environ={name: raw})


def test_a_send_that_finds_the_queue_full_is_refused_at_once(
    app: Flask,
    alice: Member,
    held_room: tuple[dict[str, Any], threading.Lock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room, lock = held_room
    tiny_writer(app, monkeypatch, queue_limit=1, queue_seconds=30)
    waiting = threading.Thread(target=rest_sender(app, alice, room["id"], "first"))
    waiting.start()
    queued = threading.Thread(target=rest_sender(app, alice, room["id"], "second"))
    time.sleep(0.3)  # the first send's batch waits for the room
    queued.start()
    time.sleep(0.3)  # the second fills the queue of one
    response = app.test_client().post(
        f"{PREFIX}/rooms/{room['id']}/messages",
        json={"body": "third", "client_id": "third"},
        headers=alice.headers,
    )
    lock.release()
    waiting.join(10)
    queued.join(10)
    assert_error(response, 503, "overloaded")
    assert int(response.headers["Retry-After"]) >= 1
    assert "third" not in stored_client_ids(app, room["id"])
    assert {"first", "second"} <= set(stored_client_ids(app, room["id"]))


def test_a_refused_sender_is_told_to_wait_for_the_backlog_within_bounds() -> None:
    queue: SendQueue[str, str] = SendQueue(lambda batch: None, limit=10, deadline_seconds=4)
    # No batch written yet: no pace known, the least wait.
    assert queue.retry_after() == MIN_RETRY_SECONDS
    queue._keep_pace(seconds=0.6, sends=2)  # 0.3 s a send
    queue._queue = [Ticket[str, str](f"t{i}") for i in range(5)]
    queue._in_batch = 3
    assert queue.retry_after() == pytest.approx(8 * 0.3)
    queue._queue *= 4
    # Never past the deadline, beyond which a queued send is refused anyway.
    assert queue.retry_after() == 4
    with pytest.raises(Overloaded) as refused:
        queue._queue *= 2
        queue.submit("one too many")
    assert refused.value.details == {"retry_after": 4}
    assert refused.value.headers() == {"Retry-After": "4"}


LATE_BODY = r"""
from parley.errors import Overloaded


def send(body):
    with app.app_context():
        try:
            user = db.session.get(User, made["user"]["id"])
            message, created, _ = send_message(user, room["id"], body, body)
            return {"id": message.id}
        except Overloaded as exc:
            return {"overloaded": exc.details["retry_after"]}
        finally:
            db.session.remove()


answers = {"before": send("before")}
gevent.sleep(0.2)
# A greenlet that never yields for a second: every other one waits that long for its turn.
end = time.monotonic() + 1.0
while time.monotonic() < end:
    pass
answers["starved"] = send("starved")
gevent.sleep(0.3)
answers["after"] = send("after")
with app.app_context():
    answers["stored"] = sorted(db.session.scalars(db.select(Message.body)))
print(json.dumps(answers))
"""


def test_a_send_to_a_process_running_late_is_refused_before_any_work(tmp_path: Any) -> None:
    """Under gevent, a starved event loop refuses new sends as overloaded (nothing of them
    stored) and takes them again once it has caught up."""
    found = run_under_gevent(LATE_BODY, tmp_path / "late.db", PARLEY_SEND_LAG_SECONDS=0.5)
    assert "id" in found["before"], found
    assert found["starved"]["overloaded"] >= MIN_RETRY_SECONDS, found
    assert "id" in found["after"], found
    assert found["stored"] == ["after", "before"]


def test_the_lag_bound_is_a_setting_zero_turning_it_off(tmp_path: Any) -> None:
    off = load_config("testing", str(tmp_path), environ={"PARLEY_SEND_LAG_SECONDS": "0"})
    assert off["PARLEY_SEND_LAG_SECONDS"] == 0
    with pytest.raises(ConfigError, match="PARLEY_SEND_LAG_SECONDS"):
        load_config("testing", str(tmp_path), environ={"PARLEY_SEND_LAG_SECONDS": "-1"})


def test_a_socket_send_that_waited_past_its_deadline_before_its_handler_is_refused_unstored(
    app: Flask, alice: Member, sockets: list[SocketIOTestClient]
) -> None:
    """Under a burst a socket's sends wait in its input buffer, handled one after another:
    one taken off the buffer already past the deadline is answered overloaded at once, as
    if it had waited in the writer's queue, and one taken off in time is stored."""
    room = make_room(alice, "backlog")
    deadline = app.config["PARLEY_SEND_QUEUE_SECONDS"]
    client = sockets[0]
    with arriving(time.monotonic() - deadline - 1):
        late = client.emit(
            "message:send",
            {"room_id": room["id"], "body": "waited too long", "client_id": "late"},
            callback=True,
        )
    assert late["ok"] is False and late["error"]["code"] == "overloaded", late
    assert late["error"]["details"]["retry_after"] >= MIN_RETRY_SECONDS
    with arriving(time.monotonic() - deadline / 2):
        in_time = client.emit(
            "message:send",
            {"room_id": room["id"], "body": "in time", "client_id": "in-time"},
            callback=True,
        )
    assert in_time["ok"] is True, in_time
    assert set(stored_client_ids(app, room["id"])) == {"in-time"}


def test_a_timed_input_buffer_gives_each_message_the_time_it_came_in() -> None:
    # The pops set this thread's arrival time, as they do a server's reader greenlet;
    # left set, it made every later in-process socket send of the worker count as having
    # waited since this test, and be refused as overloaded.
    with arriving(None):
        buffer = TimedInput(["already there"])
        first_in = time.monotonic()
        buffer.append("next")
        assert buffer.pop(0) == "already there"
        taken_first = arrived_at()
        assert taken_first is not None and taken_first <= first_in
        assert buffer.pop(0) == "next"
        taken_next = arrived_at()
        assert taken_next is not None and first_in <= taken_next <= time.monotonic()
        assert buffer == []
    assert arrived_at() is None
